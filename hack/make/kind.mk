# kind on this machine (hack/kind): the node image built offline and a network namespace with a Docker engine, where
# the unmodified `make kind-up` runs (test/kind/kind.int.test.ts; `make test` includes it). No `##` help texts yet:
# test/readme.test.ts wants every listed target in the README's table, which is being restructured (issue 20).

.PHONY: kind-node-image
# Build the kind node image without a registry (cached by content hash in ~/.cache/vigil/kind-node)
kind-node-image: deps tools node-tools
	hack/kind/node-image.sh build

.PHONY: kind-env-up
# Start a Docker engine in network namespace vigil-kind with the node and chart images (needs root); prints how to
# run `make kind-up` in it
kind-env-up: deps tools node-tools
	hack/kind/env.sh up

.PHONY: kind-env-down
# Stop the kind environment and restore the machine (engine, containers, mounts, namespace, sysctls), also after a crash
kind-env-down:
	hack/kind/env.sh down

.PHONY: kind-test
# The user's kind path in the kind environment: make kind-up, helm test, demo emails, a team's service, make kind-down
kind-test: deps tools node-tools
	$(JEST) --runInBand test/kind/kind.int.test.ts
