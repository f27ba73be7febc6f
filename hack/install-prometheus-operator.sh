#!/usr/bin/env bash
# Builds prometheus-operator at PROMETHEUS_OPERATOR_VERSION into ./bin (as prometheus-operator) and copies its
# CRDs (the module's example/prometheus-operator-crd) next to the binary in the cache. Only `make bench-compare`
# needs it (the side-by-side benchmark, issue #13), so install-tools.sh does not call it.
#
# The main module's go.mod replaces pkg/apis/monitoring and pkg/client with ./pkg/..., but those are nested
# modules that its module zip leaves out; the throwaway module of go_build_tool ignores those replace lines and
# takes both at the same version from the Go module proxy instead.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"
module=github.com/prometheus-operator/prometheus-operator
out="$VIGIL_CACHE/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
GO_BUILD_LDFLAGS="-X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_VERSION#v}" \
  go_build_tool "$module" "$PROMETHEUS_OPERATOR_VERSION" "$module/cmd/operator" prometheus-operator
if [[ ! -f "$out/crds/monitoring.coreos.com_servicemonitors.yaml" ]]; then
  module_dir="$(go mod download -json "$module@$PROMETHEUS_OPERATOR_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  mkdir -p "$out/crds.tmp"
  cp "$module_dir"/example/prometheus-operator-crd/*.yaml "$out/crds.tmp/"
  chmod -R u+w "$out/crds.tmp"
  rm -rf "$out/crds"
  mv "$out/crds.tmp" "$out/crds"
fi
ln -sfn "$out/crds" "$BIN_DIR/prometheus-operator-crds"
"$BIN_DIR/prometheus-operator" --version >&2
