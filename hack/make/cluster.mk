# A real etcd + kube-apiserver for people (dev-cluster) and tests (hack/local-stack/cluster.ts).

.PHONY: dev-cluster
dev-cluster: deps tools ## Run etcd + kube-apiserver (RBAC on, CRD + Vigil RBAC installed) in the foreground; admin kubeconfig in .local/kubeconfig; Ctrl-C stops
	node node_modules/tsx/dist/cli.mjs hack/dev-cluster.ts

.PHONY: test-cluster
test-cluster: deps tools ## Integration tests of the API-server harness and of the RBAC matrix (kubectl auth can-i)
	$(JEST) --runInBand hack/local-stack/cluster.int.test.ts test/rbac.int.test.ts
