#!/usr/bin/env bash
# Builds upstream Prometheus and promtool (PROMETHEUS_VERSION, Go module v0.<minor>.<patch>) through
# the Go module proxy and links them into ./bin, replacing the Debian binaries linked before.
# Why: Debian builds Prometheus without Kubernetes service discovery ("removed due to the amount of
# dependencies", /usr/share/doc/prometheus/NEWS.Debian.gz), so its promtool rejects every
# kubernetes_sd_configs and its prometheus cannot discover targets. Same version, upstream source.
# The web UI is not embedded this way (no `builtinassets` tag); the HTTP API, reload and SD are.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"
module_version="v0.${PROMETHEUS_VERSION#2.}"
ldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=upstream-module"
for cmd in promtool prometheus; do
  # Prometheus's own go.mod replaces klog with a go-kit adapter (cmd/prometheus calls its API);
  # replace directives only apply in the main module, so the build module repeats them.
  src="$VIGIL_CACHE/src/$cmd-$module_version"
  if [[ ! -f "$src/go.mod" ]]; then
    mkdir -p "$src"
    (cd "$src" && go mod init "vigil.dev/$cmd-build" >/dev/null 2>&1 &&
      go mod edit -replace k8s.io/klog=github.com/simonpasquier/klog-gokit@v0.3.0 \
        -replace k8s.io/klog/v2=github.com/simonpasquier/klog-gokit/v3@v3.0.0)
  fi
  GO_BUILD_LDFLAGS="$ldflags" go_build_tool github.com/prometheus/prometheus "$module_version" "github.com/prometheus/prometheus/cmd/$cmd" "$cmd"
done
"$BIN_DIR/promtool" --version >&2
"$BIN_DIR/prometheus" --version >&2
