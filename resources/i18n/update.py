"""Refresh resources/i18n/ioc_en.ts from the UI sources with pyside6-lupdate (existing English
translations are kept), then report what is still untranslated.

`python -m resources.i18n.update`. Chinese is the source language: every tr()/translate()
literal is Chinese; ioc_en.ts holds the English.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TS = HERE / "ioc_en.ts"
SOURCE_DIRS = ("widgets", "views")


def lupdate_path() -> str:
    exe = shutil.which("pyside6-lupdate", path=str(Path(sys.executable).parent))
    if exe:
        return exe
    import PySide6

    return str(Path(PySide6.__file__).parent / "lupdate")


def sources() -> list[str]:
    out = [str(p) for d in SOURCE_DIRS for p in sorted((ROOT / d).rglob("*.py"))]
    return out


def run_lupdate(ts: Path = TS, extra: list[str] | None = None) -> None:
    subprocess.run([lupdate_path(), "-silent", "-no-obsolete", "-source-language", "zh_CN",
                    "-target-language", "en_GB", *sources(), *(extra or []), "-ts", str(ts)],
                   check=True, cwd=ROOT)


def unfinished(ts: Path = TS) -> list[tuple[str, str]]:
    root = ET.parse(ts).getroot()
    out = []
    for ctx in root.iter("context"):
        name = ctx.findtext("name") or ""
        for msg in ctx.iter("message"):
            tr = msg.find("translation")
            numerus = msg.get("numerus") == "yes"
            empty = tr is None or (not (tr.text or "").strip() and not any((n.text or "").strip() for n in tr))
            if tr is None or tr.get("type") == "unfinished" or (empty and not numerus) or (numerus and empty):
                out.append((name, msg.findtext("source") or ""))
    return out


def main() -> int:
    run_lupdate()
    todo = unfinished()
    for ctx, src in todo:
        print(f"untranslated: [{ctx}] {src}")
    print(f"{TS.name}: {len(todo)} untranslated")
    return 1 if todo else 0


if __name__ == "__main__":
    raise SystemExit(main())
