#!/usr/bin/env python3
"""Write the CRD YAML generated from the spec models, or check that it has not drifted.

    python scripts/gen_crds.py            # write crds/<plural>.mlta.io.yaml + chart copies
    python scripts/gen_crds.py --check    # exit 1 with a unified diff when they differ

The committed YAML is what `kubectl apply -f crds/` and the Helm chart install, so it must
always equal what the models say; `--check` runs in CI and in tests/unit/test_crds.py.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from mlta.specs.crd import build_all, crd_filename, to_yaml

ROOT = Path(__file__).resolve().parent.parent
#: Every directory that holds a copy of the generated CRDs.
OUTPUT_DIRS = (ROOT / "crds", ROOT / "charts" / "mlta" / "crds")


def expected_files() -> dict[str, str]:
    """File name -> YAML text, for every kind."""
    return {crd_filename(crd): to_yaml(crd) for crd in build_all()}


def drift(out_dirs: tuple[Path, ...] = OUTPUT_DIRS) -> list[str]:
    """Unified diffs (one per differing file, stale files included); empty when in sync."""
    wanted = expected_files()
    diffs: list[str] = []
    for out in out_dirs:
        present = {p.name for p in out.glob("*.mlta.io.yaml")} if out.is_dir() else set()
        for name in sorted(present | wanted.keys()):
            path = out / name
            have = path.read_text() if path.exists() else ""
            want = wanted.get(name, "")
            if have != want:
                rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                diffs.append("".join(difflib.unified_diff(
                    have.splitlines(keepends=True), want.splitlines(keepends=True),
                    fromfile=f"{rel} (committed)", tofile=f"{rel} (generated)",
                )) or f"{rel}: differs\n")
    return diffs


def write(out_dirs: tuple[Path, ...] = OUTPUT_DIRS) -> list[Path]:
    """Write every CRD into every output dir, removing stale generated files."""
    wanted = expected_files()
    written: list[Path] = []
    for out in out_dirs:
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob("*.mlta.io.yaml"):
            if stale.name not in wanted:
                stale.unlink()
        for name, text in wanted.items():
            path = out / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 with a diff when the committed YAML drifted")
    args = parser.parse_args(argv)
    if args.check:
        diffs = drift()
        if diffs:
            sys.stdout.write("".join(diffs))
            print(f"\n{len(diffs)} CRD file(s) drifted from the spec models; "
                  "run `make crds` and commit the result.", file=sys.stderr)
            return 1
        print("CRDs are in sync with the spec models.")
        return 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
