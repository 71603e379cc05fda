#!/usr/bin/env bash
# Idempotent set-up: a Python 3.11 venv in .venv with the project and its extras installed.
# Re-runs are quick: packages are reinstalled only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
UV_VERSION=0.13.9
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
  echo "[setup] installing mlta with its workloads and dev extras (first time: a minute or two)"
  log=.venv/pip-install.log
  # uv resolves and fetches in parallel: on a 2-core machine with no package cache it installs
  # the same versions in ~40 s where pip took ~110 s. Its cache lives with mlta's other caches.
  # pip stays the fallback (no uv wheel for this platform, or MLTA_INSTALLER=pip).
  if [[ "${MLTA_INSTALLER:-uv}" == uv ]] && .venv/bin/python -m pip install -q "uv==$UV_VERSION" > "$log" 2>&1; then
    export UV_CACHE_DIR="${UV_CACHE_DIR:-${MLTA_CACHE_DIR:-$HOME/.cache/mlta}/uv}"
    [[ -n "${PIP_CERT:-}" && -z "${SSL_CERT_FILE:-}" ]] && export SSL_CERT_FILE="$PIP_CERT"
    # --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set (this machine sets
    # it), nothing writes .pyc later, and every process compiled Ray, pandas... again at import
    # (the unit, integration and e2e tiers took 1,610 CPU-s instead of ~1,000).
    install=(.venv/bin/uv pip install --python .venv/bin/python --system-certs --compile-bytecode)
  else
    .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
    install=(.venv/bin/python -m pip install --disable-pip-version-check --progress-bar off)
  fi
  if ! "${install[@]}" -e ".[workloads,dev]" > "$log" 2>&1; then
    tail -30 "$log"; echo "[setup] error: installing the packages failed (full log: $log)"; exit 1
  fi
  grep -E "^(Successfully installed|Installed [0-9]+ packages)" "$log" | cut -c1-200 || true
  .venv/bin/python -c "import mlta, mlta_operator, ray, lightgbm, kopf" \
    || { echo "[setup] error: installation incomplete"; exit 1; }
  echo "$want" > "$stamp"
else
  echo "[setup] .venv up to date"
fi
# mlta's own modules compiled too (an editable install is never compiled, and with
# PYTHONDONTWRITEBYTECODE every Ray worker and job driver compiled them again); up-to-date
# files are skipped, a stale .pyc is only ever recompiled in memory by Python.
.venv/bin/python -m compileall -q -j 0 workloads/mlta operator/mlta_operator > /dev/null
for tool in go openssl; do
  command -v "$tool" >/dev/null || echo "[setup] warning: '$tool' not found: needed to build the local control plane"
done
