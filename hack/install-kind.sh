#!/usr/bin/env bash
# Builds kind at KIND_VERSION into ./bin. Only `make kind-up` needs it, so install-tools.sh does not call it.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/hack/go-build.sh"
go_build_tool sigs.k8s.io/kind "$KIND_VERSION" sigs.k8s.io/kind kind
"$BIN_DIR/kind" version >&2
