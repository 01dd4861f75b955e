"""Compile the Qt Linguist sources (*.ts) in this folder into *.qm with PySide6's lrelease.

`python -m resources.i18n.build` (run by make run/test). Chinese is the source language of the
UI strings; ioc_en.ts carries the English translation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def lrelease_path() -> str:
    exe = shutil.which("pyside6-lrelease", path=str(Path(sys.executable).parent))
    if exe:
        return exe
    import PySide6

    return str(Path(PySide6.__file__).parent / "lrelease")


def main() -> int:
    sources = sorted(HERE.glob("*.ts"))
    for ts in sources:
        qm = ts.with_suffix(".qm")
        if qm.exists() and qm.stat().st_mtime >= ts.stat().st_mtime:
            continue
        subprocess.run([lrelease_path(), "-silent", str(ts), "-qm", str(qm)], check=True)
    print(f"translations: {len(sources)} source file(s) compiled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
