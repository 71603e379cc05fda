"""The operator must start without the ML stack: heavy libraries are imported where used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("ray", "pandas", "numpy", "pyarrow", "lightgbm", "numba", "fastapi", "talib")


def test_operator_imports_no_ml_library() -> None:
    code = (
        "import sys, json, mlta_operator.handlers, mlta_operator.__main__; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
