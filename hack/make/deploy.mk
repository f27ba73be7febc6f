# Deployment: cdk8s manifests, the Helm chart generated from them, images, a local kind cluster.

.PHONY: manifests
manifests: deps ## Synthesize the cdk8s app into cdk8s/dist/<profile>/*.yaml (kind and default values)
	$(TSX) cdk8s/main.ts manifests

.PHONY: chart
chart: deps ## Regenerate the Helm chart charts/vigil from the cdk8s app (never edit it by hand)
	$(TSX) cdk8s/main.ts chart

# PLATFORMS=linux/amd64,linux/arm64 builds several platforms (docker buildx); empty = this machine's.
# REGISTRY=registry.example.com also tags (make images) or pushes (make push) <REGISTRY>/vigil/<name>:<version>.
.PHONY: images
images: deps ## Build the operator, demo target and stunnel images (PLATFORMS=linux/amd64,linux/arm64 via docker buildx; default this machine's)
	PLATFORMS='$(PLATFORMS)' REGISTRY='$(REGISTRY)' hack/build-images.sh build

.PHONY: push
push: deps ## Build and push the images as <REGISTRY>/vigil/<name>:<version> (make push REGISTRY=registry.example.com [PLATFORMS=...]); install with global.imageRegistry=<REGISTRY>
	PLATFORMS='$(PLATFORMS)' REGISTRY='$(REGISTRY)' hack/build-images.sh push

.PHONY: kind-up
kind-up: deps ## Create a kind cluster (KIND_NODE_IMAGE, default pinned in hack/versions.env), build and load the images (VIGIL_SKIP_IMAGE_BUILD=1: use the ones in Docker), install Vigil with the demo, print the URLs
	hack/kind-up.sh

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	$(if $(wildcard bin/kind),bin/kind,kind) delete cluster --name "$${KIND_CLUSTER_NAME:-vigil}"

.PHONY: demo-outage
demo-outage: ## Delete the demo target pod and wait for the alert email in the mail catcher
	hack/demo-outage.sh

.PHONY: demo-restore
demo-restore: ## Recreate the demo target pod
	hack/demo-restore.sh
