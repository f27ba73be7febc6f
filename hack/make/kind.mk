# kind on this machine (hack/kind): the node image built without a container registry and a network namespace with a Docker engine, where
# the unmodified `make kind-up` runs (test/kind/kind.int.test.ts; `make test` includes it).

.PHONY: kind-node-image
kind-node-image: deps tools node-tools ## Build the kind node image without a registry (cached by content hash in ~/.cache/vigil/kind-node)
	hack/kind/node-image.sh build

.PHONY: kind-env-up
kind-env-up: deps tools node-tools ## Docker engine in network namespace vigil-kind with the node and chart images (root); prints how to run make kind-up there
	hack/kind/env.sh up

.PHONY: kind-env-down
kind-env-down: ## Stop the kind environment and restore the machine (engine, containers, mounts, namespace, sysctls), also after a crash
	hack/kind/env.sh down

.PHONY: kind-test
kind-test: deps tools node-tools ## The kind path end to end here: make kind-up, helm test, demo emails, a team's service, make kind-down
	$(JEST) --runInBand test/kind/kind.int.test.ts
