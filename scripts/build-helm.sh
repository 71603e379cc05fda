#!/usr/bin/env bash
# Build helm from its Go module (no prebuilt downloads here) and cache it under
# ~/.cache/mlta/bin/helm-<version>/helm; the chart tests run `helm lint` and `helm template`.
# The k8sVersion ldflags make helm's built-in capabilities match our Kubernetes version
# (without them helm assumes 1.20 and the chart's kubeVersion >= 1.28 check fails).
set -euo pipefail
HELM_VERSION="${MLTA_HELM_VERSION:-v3.22.0}"
CACHE="${MLTA_CACHE_DIR:-$HOME/.cache/mlta}"
BIN="$CACHE/bin/helm-$HELM_VERSION"
if [[ -x "$BIN/helm" ]]; then
  echo "[helm] cached binary in $BIN"
  exit 0
fi
echo "[helm] building helm $HELM_VERSION from its Go module (about a minute, once)"
start=$(date +%s)
mkdir -p "$BIN"
X="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in pkg/chartutil pkg/lint/rules; do
  X="$X -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=34"
done
GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath -ldflags="-s -w $X" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
echo "[helm] built in $(( $(date +%s) - start ))s -> $BIN/helm"
