"""`python -m bench [--quick] [--only name ...]`: run every benchmark module (bench/bench_*.py),
print one table and write bench/results/latest.json.

Each module defines NAME (the JSON prefix, e.g. "ingest") and
`run(quick: bool) -> dict[str, float | int | str]`; a module may also print its own detail.
Figures are ratios against a baseline measured in the same run wherever one exists: this is a
shared 2-core machine and absolute times are noisy.

With --only, the other modules' figures are kept from the last run; each module that runs has
all of its old keys replaced, and records `<name>.when` and `<name>.load_avg_1m` (1-minute load
average at its start; `<name>.load_avg_1m_at_end` at its end) - `machine` describes only the
latest invocation.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
import traceback
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "rendering": "Mesa software (llvmpipe) under Xvfb, no GPU",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--ui-soak-minutes", type=float, default=None,
                    help="length of the ui benchmark's memory soak (default 2; 60 for the hour-long run)")
    a = ap.parse_args()
    if a.ui_soak_minutes is not None:
        os.environ["IOC_BENCH_UI_SOAK_MIN"] = str(a.ui_soak_minutes)  # read by bench_ui
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    out_path = HERE / "results" / "latest.json"
    results: dict[str, object] = {}
    if a.only and out_path.exists():
        results = json.loads(out_path.read_text())  # keep the other benchmarks' last figures
    results["machine"] = machine()
    failed = 0
    for mod_name in modules:
        mod = importlib.import_module(f"bench.{mod_name}")
        name = getattr(mod, "NAME", mod_name.removeprefix("bench_"))
        if a.only and name not in a.only:
            continue
        print(f"\n== {name} ==", flush=True)
        # this module's figures replace all of its old ones (a key it no longer reports must not
        # linger next to new figures), and say when and under what load they were measured
        results = {k: v for k, v in results.items() if not k.startswith(f"{name}.")}
        results[f"{name}.when"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        results[f"{name}.load_avg_1m"] = round(os.getloadavg()[0], 2)
        t0 = time.perf_counter()
        try:
            figures = mod.run(a.quick)
        except Exception:
            traceback.print_exc()
            failed += 1
            figures = {"error": traceback.format_exc(limit=3)}
        figures["wall_s"] = round(time.perf_counter() - t0, 1)
        figures.setdefault("load_avg_1m_at_end", round(os.getloadavg()[0], 2))
        for k, v in figures.items():
            results[f"{name}.{k}"] = v
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print("\n{:<44} {}".format("figure", "value"))
    print("-" * 70)
    for k, v in results.items():
        if k != "machine" and not str(k).endswith(".error"):
            print(f"{k:<44} {v}")
    print(f"\nwritten {out_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
