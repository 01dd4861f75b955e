"""3D city benchmark: the full 1.7 M-building synthetic Dongguan.

Rendering is Mesa software rendering (llvmpipe) under Xvfb on this 2-core machine, no GPU.
Each measurement that renders runs in its own fresh process (so peak memory is that process's
own), with the same camera and a 1920x1080 window:
- tiled: open from the local cache (read the .npz, build the tiled LOD scene, first overview
  frame), peak memory, overview frame, street-level frame (first and steady), pick latency;
- naive baseline: the same buildings as ONE merged full-detail PyVista mesh, same colours, same
  overview camera.
Also measured here: generating the city, writing the cache, and seeding the service's SQLite
`buildings` table (bulk insert).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAME = "city3d"
SEED = 2024
ROOT = Path(__file__).resolve().parents[1]
_MARK = "CITY3D-RESULT "

_TILED = r'''
import json, resource, sys, time
import numpy as np
t0 = time.perf_counter()
import pyvista as pv
from citymodel.cache import CityCache
from citymodel.picking import pick
from views.city3d.scene import CityScene, configure_pyvista
configure_pyvista()
table = CityCache(sys.argv[1]).load("bench")
t_load = time.perf_counter() - t0
pl = pv.Plotter(off_screen=True, window_size=(1920, 1080), lighting="none")
scene = CityScene(pl, table)
scene.overview()
pl.ren_win.Render()
open_s = time.perf_counter() - t0
def frames(n, move):
    ts = []
    for k in range(n):
        move(k)
        a = time.perf_counter(); pl.ren_win.Render(); ts.append(time.perf_counter() - a)
    return ts
ov = scene.camera_state()
over = frames(7, lambda k: scene.set_camera(ov["x"], ov["y"], ov["dist"], ov["azimuth"] + 0.2 * k, ov["elevation"]))
over_stats = dict(scene.stats)
# street level in the dense old centre (Guancheng), looking across it
gc = np.flatnonzero(table.town == 0)
i = int(gc[len(gc) // 2])
x, y = float(table.cx[i]), float(table.cy[i])
scene.set_camera(x, y, 700.0, 30.0, 30.0)
a = time.perf_counter(); pl.ren_win.Render(); street_first = time.perf_counter() - a
street = frames(7, lambda k: scene.set_camera(x, y, 700.0, 30.0 + 0.3 * k, 30.0))
street_stats = dict(scene.stats)
picks, hits = [], 0
for k in range(40):
    px, py = 560 + (k % 8) * 100, 300 + (k // 8) * 110
    a = time.perf_counter()
    o, d = scene.ray(px, py)
    h = pick(table, scene.index, o, d)
    picks.append(time.perf_counter() - a)
    hits += h is not None
scene.overview(); pl.ren_win.Render()
over_picks = []
for k in range(20):
    a = time.perf_counter()
    o, d = scene.ray(400 + k * 50, 540)
    pick(table, scene.index, o, d)
    over_picks.append(time.perf_counter() - a)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
ms = lambda v: round(float(np.median(v)) * 1000, 1)
print("CITY3D-RESULT " + json.dumps({
    "buildings": len(table), "cache_load_s": round(t_load, 2), "open_s": round(open_s, 2),
    "peak_mem_gib": round(peak, 2), "overview_frame_ms": ms(over),
    "overview_triangles": over_stats["triangles_visible"], "overview_actors": over_stats["actors_visible"],
    "street_first_frame_ms": round(street_first * 1000, 1), "street_frame_ms": ms(street),
    "street_triangles": street_stats["triangles_visible"], "street_actors": street_stats["actors_visible"],
    "pick_ms": ms(picks), "pick_p95_ms": round(float(np.percentile(picks, 95)) * 1000, 1), "pick_hits": hits,
    "pick_overview_ms": ms(over_picks)}), flush=True)
'''

_NAIVE = r'''
import json, resource, sys, time
import numpy as np
import pyvista as pv
from citymodel.cache import CityCache
from citymodel.tiles import building_mesh
from views.city3d.colors import building_colors
from views.city3d.scene import BACKGROUND, CityScene, configure_pyvista
configure_pyvista()
t0 = time.perf_counter()
table = CityCache(sys.argv[1]).load("bench")
# the same overview camera: computed by the scene on a throwaway plotter
probe = pv.Plotter(off_screen=True, window_size=(1920, 1080))
sc = CityScene(probe, table); sc.overview(); cam = sc.camera_state(); origin = sc.origin
probe.close(); del sc, probe
mesh = building_mesh(table, np.arange(len(table)), origin)
pd = pv.PolyData.from_regular_faces(mesh.points, mesh.tris)
pd.cell_data["rgb"] = building_colors(table, "height")[mesh.row]
tris = mesh.n_tris
del mesh
pl = pv.Plotter(off_screen=True, window_size=(1920, 1080), lighting="none")
pl.set_background(BACKGROUND)
light = pv.Light(position=(-0.4, -0.6, 1.0), focal_point=(0, 0, 0), light_type="scene light"); light.positional = False
pl.add_light(light)
pl.add_mesh(pd, scalars="rgb", rgb=True, show_scalar_bar=False, smooth_shading=False, ambient=0.35, diffuse=0.75)
import math
el, az = math.radians(cam["elevation"]), math.radians(cam["azimuth"])
f = np.array([cam["x"] - origin[0], cam["y"] - origin[1], 0.0])
def put(daz):
    a = az + math.radians(daz)
    p = f + cam["dist"] * np.array([math.cos(el) * math.sin(a), -math.cos(el) * math.cos(a), math.sin(el)])
    pl.camera.SetFocalPoint(*f); pl.camera.SetPosition(*p); pl.camera.SetViewUp(0, 0, 1)
    pl.renderer.ResetCameraClippingRange()
put(0)
pl.ren_win.Render()
open_s = time.perf_counter() - t0
ts = []
for k in range(int(sys.argv[2])):
    put(0.2 * k)
    a = time.perf_counter(); pl.ren_win.Render(); ts.append(time.perf_counter() - a)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print("CITY3D-RESULT " + json.dumps({"naive_overview_frame_ms": round(float(np.median(ts)) * 1000, 1),
      "naive_triangles": tris, "naive_open_s": round(open_s, 2), "naive_peak_mem_gib": round(peak, 2)}), flush=True)
'''


def _sub(code: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                       env=env, cwd=ROOT)
    for line in p.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"benchmark step failed (exit {p.returncode}): {p.stderr[-2000:]}")


def _seed_sqlite(table_n: int, workdir: Path) -> dict[str, Any]:
    from sqlalchemy.orm import Session

    from sync_service.cim import seed_buildings
    from sync_service.db.engine import make_engine, migrate

    eng = make_engine(f"sqlite:///{workdir / 'seed.db'}")
    migrate(eng)
    t = time.perf_counter()
    with Session(eng) as s:
        r = seed_buildings(s, SEED, table_n)
        s.commit()
    total = time.perf_counter() - t
    eng.dispose()
    return {"seed_sqlite_s": round(total, 1), "seed_generate_s": r["generate_s"], "seed_insert_s": r["insert_s"],
            "seed_rows_per_s": round(r["inserted"] / max(r["insert_s"], 1e-9))}


def run(quick: bool) -> dict[str, Any]:
    from citymodel.cache import CityCache
    from citymodel.generator import generate_city

    n = 200_000 if quick else 1_700_000
    out: dict[str, Any] = {"rendering": "Mesa llvmpipe (software) under Xvfb, 1920x1080, no MSAA"}
    with tempfile.TemporaryDirectory(prefix="bench-city3d-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        table = generate_city(SEED, n)
        out["generate_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        CityCache(work).save("bench", table)
        out["cache_write_s"] = round(time.perf_counter() - t, 2)
        out["cache_mib"] = round(CityCache(work).path("bench").stat().st_size / 2**20, 1)
        del table
        out |= _sub(_TILED, str(work))
        out |= _sub(_NAIVE, str(work), "3" if not quick else "5")
        out["speedup"] = round(out["naive_overview_frame_ms"] / max(out["overview_frame_ms"], 1e-9), 1)
        out |= _seed_sqlite(n, work)
    targets = {"open_s": 10.0, "peak_mem_gib": 3.0, "overview_frame_ms": 100.0, "pick_ms": 50.0}
    print(f"\n{'city3d figure':<28}{'value':>14}  target")
    for k, v in out.items():
        tgt = targets.get(k, "")
        if k == "speedup":
            tgt = ">= 5"
        print(f"{k:<28}{v!s:>14}  {tgt}")
    return out
