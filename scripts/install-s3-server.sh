#!/usr/bin/env bash
# A local S3-compatible HTTP server for the lake's s3:// tests: moto's server, in a venv of its
# own under ~/.cache/mlta/venvs/moto (botocore pins python-dateutil<3 while kubernetes 37 needs
# >=3, so it cannot share the project's venv). Tests run it as a separate process on loopback.
set -euo pipefail
MOTO_VERSION="${MLTA_MOTO_VERSION:-5.2.5}"
CACHE="${MLTA_CACHE_DIR:-$HOME/.cache/mlta}"
VENV="$CACHE/venvs/moto-$MOTO_VERSION"
if [[ -x "$VENV/bin/moto_server" ]]; then
  echo "[s3] moto server cached in $VENV"
  exit 0
fi
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
echo "[s3] installing moto[server]==$MOTO_VERSION into $VENV"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q "moto[server]==$MOTO_VERSION"
"$VENV/bin/moto_server" --help >/dev/null
echo "[s3] ready: $VENV/bin/moto_server"
