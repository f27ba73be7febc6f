# The real single-node Kubernetes (hack/node): kubelet, containerd, kube-proxy, CoreDNS in a network namespace.

.PHONY: node-tools
node-tools: ## Build/install what the real node needs (kubelet, kube-proxy, controller-manager, scheduler, crictl, CoreDNS, containerd, docker.io, ...)
	hack/install-node.sh

.PHONY: node-images
node-images: deps tools node-tools ## Build the chart's images without a registry (cached by content hash in ~/.cache/vigil/node-images)
	hack/node/images.sh build

.PHONY: cluster-up
cluster-up: deps tools node-tools ## Start the real single-node cluster (needs root) with the chart's images imported; prints the KUBECONFIG export
	hack/node/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop the real node and restore the machine (processes, mounts, namespace, links, iptables, sysctls), also after a crash
	hack/node/cluster.sh down
