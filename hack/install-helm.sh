#!/usr/bin/env bash
# Builds helm at HELM_VERSION into ./bin, through the Go module proxy.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"
# The same -X flags as helm's own Makefile: without them `helm version` says v3.x-dev and the default
# .Capabilities.KubeVersion (used by `helm template`/`helm lint`) falls back to an old Kubernetes.
k8s_minor() { # minor of the k8s.io/client-go helm was built with: v0.37.0 means Kubernetes 1.37
  local gomod; gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$gomod"
}
if [[ ! -x "$VIGIL_CACHE/helm-$HELM_VERSION/helm" ]]; then
  minor="$(k8s_minor)"
  GO_BUILD_LDFLAGS="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in pkg/lint/rules pkg/chartutil; do
    GO_BUILD_LDFLAGS+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$minor"
  done
  export GO_BUILD_LDFLAGS
fi
go_build_tool helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm
"$BIN_DIR/helm" version --short >&2
