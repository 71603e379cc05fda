#!/usr/bin/env bash
# Build kube-apiserver, etcd and kubectl from the Kubernetes project's own Go modules and
# cache them under ~/.cache/mlta/bin/<version>/ (what controller-runtime's envtest ships as
# prebuilt assets; here nothing prebuilt can be downloaded, so we compile them once).
#
# k8s.io/kubernetes cannot be `go install`ed directly: its go.mod replaces every k8s.io/*
# staging module with a relative path. We write a tiny builder module that requires
# k8s.io/kubernetes and pins each staging module to the matching published v0.X.Y tag.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

K8S_VERSION="${MLTA_K8S_VERSION:-v1.34.3}"
CACHE="${MLTA_CACHE_DIR:-$HOME/.cache/mlta}"
BIN="$CACHE/bin/k8s-$K8S_VERSION"
WORK="$CACHE/build/k8s-$K8S_VERSION"

if [[ -x "$BIN/kube-apiserver" && -x "$BIN/etcd" && -x "$BIN/kubectl" ]]; then
  echo "[control-plane] cached binaries in $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "[control-plane] error: the Go toolchain is required (apt-get install golang or see go.dev)"; exit 2; }

mkdir -p "$WORK" "$BIN"
cd "$WORK"
start=$(date +%s)
echo "[control-plane] fetching k8s.io/kubernetes@$K8S_VERSION go.mod"
# shellcheck source=scripts/k8s-builder-module.sh
source "$HERE/k8s-builder-module.sh"
k8s_builder_module "$K8S_VERSION"

mkdir -p etcd
cat > etcd/main.go <<'GO'
// Command etcd is the upstream etcd server main (go.etcd.io/etcd/server/v3/etcdmain).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
echo "[control-plane] resolving modules (go mod tidy)"
GOFLAGS=-mod=mod go mod tidy >/dev/null
export CGO_ENABLED=0
for target in k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl ./etcd; do
  name=$(basename "$target")
  echo "[control-plane] building $name (this takes several minutes on 2 cores, once)"
  go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" -o "$BIN/$name.tmp" "$target"
  mv "$BIN/$name.tmp" "$BIN/$name"
done
echo "[control-plane] built in $(( $(date +%s) - start ))s -> $BIN"
