#!/usr/bin/env bash
# Builds kubeconform (Kubernetes manifest validation) at KUBECONFORM_VERSION into ./bin.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"
GO_BUILD_LDFLAGS="-X main.version=$KUBECONFORM_VERSION" go_build_tool github.com/yannh/kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform kubeconform
"$BIN_DIR/kubeconform" -v >&2
