#!/usr/bin/env bash
# Build what a real single node needs, from source, cached by version under ~/.cache/mlta:
#   bin/k8s-<v>/      kubelet, kube-controller-manager, kube-scheduler, kube-proxy, built from the
#                     same k8s.io/kubernetes module version as kube-apiserver (build-control-plane.sh)
#   bin/k8s-<v>/pause the pause container's program, compiled from build/pause/linux/pause.c of
#                     that module (gcc -static); packed into an OCI image by `mlta.local images`
#   bin/coredns-<v>/  CoreDNS from its Go module (cluster DNS, as kubeadm installs it)
#   bin/kuberay-<v>/  the KubeRay operator from its Go module, at the version whose CRDs the
#                     project installs (workloads/mlta/local/crds.py)
# No registry and no prebuilt download is involved; the Go module proxy serves the sources.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
K8S_VERSION="${MLTA_K8S_VERSION:-v1.34.3}"
COREDNS_VERSION="${MLTA_COREDNS_VERSION:-v1.12.1}"
KUBERAY_VERSION="${MLTA_KUBERAY_VERSION:-v1.4.0}"
CACHE="${MLTA_CACHE_DIR:-$HOME/.cache/mlta}"
BIN="$CACHE/bin/k8s-$K8S_VERSION"
WORK="$CACHE/build/k8s-node-$K8S_VERSION"
command -v go >/dev/null || { echo "[node-build] error: the Go toolchain is required"; exit 2; }
mkdir -p "$BIN" "$WORK"
export CGO_ENABLED=0

missing=()
for name in kubelet kube-controller-manager kube-scheduler kube-proxy; do
  [[ -x "$BIN/$name" ]] || missing+=("$name")
done
if (( ${#missing[@]} )); then
  cd "$WORK"
  # shellcheck source=scripts/k8s-builder-module.sh
  source "$HERE/k8s-builder-module.sh"
  [[ -f go.sum ]] || k8s_builder_module "$K8S_VERSION"
  printf '//go:build tools\n\npackage tools\n\nimport (\n' > tools.go
  for name in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$name" >> tools.go; done
  printf ')\n' >> tools.go
  GOFLAGS=-mod=mod go mod tidy >/dev/null
  for name in "${missing[@]}"; do
    start=$(date +%s)
    echo "[node-build] building $name $K8S_VERSION (minutes on 2 cores, once)"
    go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
      -o "$BIN/$name.tmp" "k8s.io/kubernetes/cmd/$name"
    mv "$BIN/$name.tmp" "$BIN/$name"
    echo "[node-build] $name built in $(( $(date +%s) - start ))s"
  done
else
  echo "[node-build] cached kubelet, kube-controller-manager, kube-scheduler, kube-proxy in $BIN"
fi

if [[ ! -x "$BIN/pause" ]]; then
  dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  gcc -Os -static -DVERSION="mlta-$K8S_VERSION" -o "$BIN/pause.tmp" "$dir/build/pause/linux/pause.c"
  strip "$BIN/pause.tmp" && mv "$BIN/pause.tmp" "$BIN/pause"
  echo "[node-build] pause compiled from $dir/build/pause/linux/pause.c"
fi

go_install() {  # name module version
  local name=$1 module=$2 version=$3 dest="$CACHE/bin/$1-$3"
  if [[ -x "$dest/$name" ]]; then echo "[node-build] cached $name $version"; return; fi
  local start; start=$(date +%s)
  echo "[node-build] building $name $version from $module (minutes, once)"
  mkdir -p "$dest.tmp"
  GOFLAGS=-mod=mod GOBIN="$dest.tmp" go install -trimpath -ldflags="-s -w" "$module@$version"
  mv "$dest.tmp/$(basename "${module%/cmd/*}")" "$dest.tmp/$name" 2>/dev/null || true
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "[node-build] $name built in $(( $(date +%s) - start ))s"
}
go_install coredns github.com/coredns/coredns "$COREDNS_VERSION"
go_install kuberay github.com/ray-project/kuberay/ray-operator "$KUBERAY_VERSION"
