#!/usr/bin/env bash
# Build kube-score (a Go linter of Kubernetes objects: security contexts, probes, resources,
# network policies, ...) from its Go module and cache it; tests/unit/test_chart_lint.py runs it
# on the rendered chart. No prebuilt download is involved.
set -euo pipefail
VERSION="${MLTA_KUBE_SCORE_VERSION:-v1.20.0}"
CACHE="${MLTA_CACHE_DIR:-$HOME/.cache/mlta}"
BIN="$CACHE/bin/kube-score-$VERSION"
if [[ -x "$BIN/kube-score" ]]; then
  echo "[kube-score] cached binary in $BIN"
  exit 0
fi
echo "[kube-score] building kube-score $VERSION from its Go module (about a minute, once)"
start=$(date +%s)
mkdir -p "$BIN.tmp"
GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$BIN.tmp" go install -trimpath -ldflags="-s -w" \
  "github.com/zegl/kube-score/cmd/kube-score@$VERSION"
rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
echo "[kube-score] built in $(( $(date +%s) - start ))s -> $BIN/kube-score"
