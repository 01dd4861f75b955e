"""Tiling, LOD selection and LOD meshes; the npz cache and the wire codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citymodel.buildings import BuildingTable
from citymodel.cache import CityCache
from citymodel.generator import generate_city
from citymodel.tiles import (
    LOD_BLOCKS,
    LOD_DISTRICT,
    LOD_FULL,
    TILE_M,
    TileIndex,
    building_mesh,
    lod_mesh,
    select_lod,
    service_tile_keys,
    tiles_in_frustum,
)
from citymodel.wire import decode_table, encode_table


@pytest.fixture(scope="module")
def city() -> BuildingTable:
    return generate_city(9, 40_000)


def test_tile_index_partitions_every_building(city: BuildingTable) -> None:
    idx = TileIndex.build(city)
    seen = np.concatenate([idx.rows(k) for k in range(len(idx))])
    assert sorted(seen.tolist()) == list(range(len(city)))
    for k in range(0, len(idx), 7):
        r = idx.rows(k)
        x0, y0, x1, y1 = idx.bounds(k)
        assert ((city.cx[r] >= x0) & (city.cx[r] < x1) & (city.cy[r] >= y0) & (city.cy[r] < y1)).all()
        assert idx.hmax[k] == pytest.approx(float(city.height[r].max()))
        assert idx.find(idx.key(k)) == k


def test_lod_by_distance_and_frustum(city: BuildingTable) -> None:
    idx = TileIndex.build(city)
    k = int(np.argmax(np.diff(idx.start)))  # the densest tile
    x0, y0, _, _ = idx.bounds(k)
    eye = np.array([x0 + TILE_M / 2, y0 + TILE_M / 2, 300.0])
    lod = select_lod(idx, eye)
    assert lod[k] == LOD_FULL
    far = np.hypot(idx.i * TILE_M - eye[0], idx.j * TILE_M - eye[1]) > 20_000
    assert (lod[far] == LOD_DISTRICT).all()
    assert (lod == LOD_BLOCKS).any()
    # from 60 km up everything is far
    assert (select_lod(idx, eye + (0, 0, 60_000)) == LOD_DISTRICT).all()
    # a frustum that is the half-space x >= eye.x keeps only tiles reaching east of it
    planes = np.array([[1.0, 0.0, 0.0, -eye[0]]])
    inside = tiles_in_frustum(idx, planes)
    assert (inside == (idx.i * TILE_M + TILE_M >= eye[0])).all()
    culled = select_lod(idx, eye, inside)
    assert (culled[~inside] == -1).all()


def test_lod_meshes_shrink_and_map_back(city: BuildingTable) -> None:
    rows = np.arange(len(city))
    full = building_mesh(city, rows, (0.0, 0.0))
    sizes = city.ring_sizes()
    assert full.n_tris == int((2 * sizes + sizes - 2).sum())  # walls + roof fan per building
    assert set(np.unique(full.row)) == set(rows.tolist())
    blocks, cells = lod_mesh(city, rows, LOD_BLOCKS, (0.0, 0.0))
    district, dcells = lod_mesh(city, rows, LOD_DISTRICT, (0.0, 0.0))
    assert district.n_tris < blocks.n_tris < full.n_tris / 3
    # every low building belongs to exactly one merged cell; tall ones are kept as boxes
    low = city.height < 50.0
    assert len(cells.members) == int(low.sum())
    assert set(blocks.row[blocks.row >= 0].tolist()) == set(np.flatnonzero(~low).tolist())
    assert (cells.height > 0).all()
    assert cells.side.max() <= 100.0


def test_roof_triangles_cover_the_footprint_area(city: BuildingTable) -> None:
    rows = np.arange(200)
    m = building_mesh(city, rows, (float(city.cx[0]), float(city.cy[0])))
    roof = m.tris[m.points[m.tris[:, 0], 2] > 0]
    roof = roof[(m.points[roof][:, :, 2] > 0).all(axis=1)]
    p = m.points[roof].astype(float)
    a = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    total = np.bincount(m.row[np.isin(np.arange(m.n_tris), np.flatnonzero((m.points[m.tris][:, :, 2] > 0).all(axis=1)))],
                        minlength=200)
    assert total.sum() > 0
    assert a.sum() == pytest.approx(float(city.area[rows].sum()), rel=1e-3)  # fan = exact area (no overlap)


def test_cache_roundtrip_and_broken_cache(city: BuildingTable, tmp_path: Path) -> None:
    cache = CityCache(tmp_path)
    assert cache.load("v1") is None
    cache.save("v1", city, {"version": "v1"})
    back = cache.load("v1")
    assert back is not None
    for name in ("id", "cx", "height", "use", "fp_offsets", "fp_xy", "road"):
        np.testing.assert_array_equal(getattr(back, name), getattr(city, name))
    assert cache.meta("v1")["n"] == len(city)
    cache.path("v2").write_bytes(cache.path("v1").read_bytes()[:5000])  # truncated file
    assert cache.load("v2") is None


def test_wire_roundtrip_and_malformed(city: BuildingTable) -> None:
    sub = city.take(np.arange(500))
    back = decode_table(encode_table(sub))
    np.testing.assert_array_equal(back.fp_xy, sub.fp_xy)
    np.testing.assert_array_equal(back.key_unit, sub.key_unit)
    assert back.address_of(3) == sub.address_of(3)
    with pytest.raises(ValueError, match="malformed|version"):
        decode_table({"v": 1, "columns": {}})
    with pytest.raises(ValueError, match="version"):
        decode_table({"v": 99})


def test_service_tiles_are_1km(city: BuildingTable) -> None:
    keys = service_tile_keys(city.take(np.arange(10)))
    i, j = (int(v) for v in keys[0].split("_"))
    assert i * 1000 <= city.cx[0] < (i + 1) * 1000
    assert j * 1000 <= city.cy[0] < (j + 1) * 1000


def test_prisms_are_wound_outward_so_back_faces_can_be_culled() -> None:
    """The view culls back faces (a third of a street-level frame): every roof faces up and
    every wall away from its prism, at every level of detail. L0: a point just behind a wall is
    inside its footprint; merged cells and tall-building boxes are convex: their centre (the
    building's centroid lies in its box) is behind every wall."""
    import shapely

    from citymodel.generator import generate_city
    from citymodel.tiles import LOD_BLOCKS, LOD_DISTRICT, LOD_FULL, lod_mesh

    city = generate_city(3, 4000)
    rows = np.arange(len(city))
    polys = shapely.polygons([shapely.linearrings(city.footprint(i)) for i in rows])
    origin = (float(np.floor(np.median(city.cx))), float(np.floor(np.median(city.cy))))  # float32 keeps cm
    for lod in (LOD_FULL, LOD_BLOCKS, LOD_DISTRICT):
        mesh, cells = lod_mesh(city, rows, lod, origin)
        p3 = mesh.points.astype(float)[mesh.tris] + (origin[0], origin[1], 0.0)
        n = np.cross(p3[:, 1] - p3[:, 0], p3[:, 2] - p3[:, 0])
        size = np.linalg.norm(n, axis=1)
        ok = size > 1e-6
        roof = ok & (np.abs(n[:, 2]) > 0.5 * size)
        wall = ok & ~roof
        assert (n[roof, 2] > 0).all(), lod
        mid = p3[wall].mean(axis=1)[:, :2]
        nrm = n[wall][:, :2] / np.linalg.norm(n[wall][:, :2], axis=1)[:, None]
        owner = mesh.row[wall]
        if lod == LOD_FULL:
            behind = mid - nrm * 0.05
            inside = shapely.contains_xy(polys[owner], behind[:, 0], behind[:, 1])
            assert inside.mean() > 0.999, (lod, inside.mean())
        else:
            cell = mesh.cell_of_tri[wall]
            centre = np.where((owner >= 0)[:, None], np.column_stack((city.cx[owner], city.cy[owner])),
                              np.column_stack((cells.x[np.maximum(cell, 0)], cells.y[np.maximum(cell, 0)])))
            assert (np.einsum("ij,ij->i", mid - centre, nrm) > 0).all(), lod
