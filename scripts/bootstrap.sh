#!/usr/bin/env bash
# Idempotent set-up: a Python 3.11 venv in .venv with the project and its extras installed.
# Re-runs are quick: packages are reinstalled only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null || {
  echo "[setup] error: Python 3.11 is required (found $("$PY" --version 2>&1))"; exit 2; }
if [[ ! -x .venv/bin/python ]]; then
  echo "[setup] creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.mlta-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f $stamp || "$(cat $stamp)" != "$want" ]]; then
  echo "[setup] installing mlta with its workloads and dev extras (first time: a few minutes)"
  .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
  log=.venv/pip-install.log
  if ! .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off \
      -e ".[workloads,dev]" > "$log" 2>&1; then
    tail -30 "$log"; echo "[setup] error: pip install failed (full log: $log)"; exit 1
  fi
  grep -E "^Successfully installed" "$log" | cut -c1-200 || true
  .venv/bin/python -c "import mlta, mlta_operator, ray, lightgbm, kopf" \
    || { echo "[setup] error: installation incomplete"; exit 1; }
  echo "$want" > "$stamp"
else
  echo "[setup] .venv up to date"
fi
for tool in go openssl; do
  command -v "$tool" >/dev/null || echo "[setup] warning: '$tool' not found: needed to build the local control plane"
done
