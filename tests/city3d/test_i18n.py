"""The 3D city view speaks the UI language: Chinese by default, English after a run-time switch
(the Ctrl+L path: views.theme.apply_language installs the translator and Qt sends LanguageChange),
toolbar, status, building card, measurement and the labels drawn in the scene."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox

from citymodel.buildings import BuildingTable
from tests.city3d.conftest import push

pytestmark = pytest.mark.gui


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _toolbar_texts(view: Any) -> list[str]:
    tb = view.toolbar
    out = [b.text() for b in tb.findChildren(QAbstractButton)]
    for box in tb.findChildren(QComboBox):
        out += [box.itemText(i) for i in range(box.count())]
    out += [a.text() for a in tb.overlay_actions.values()]
    return [t for t in out if t]


def _labels(view: Any, layer: str) -> list[str]:
    """The strings of a label set of the scene (its LabelBoard, placed or not)."""
    ls = view.scene.labels.sets.get(layer)
    assert ls is not None, layer
    return list(ls.texts)


@pytest.fixture
def chinese_first(qapp: Any) -> Iterator[None]:
    from views.theme import apply_language

    apply_language(qapp, "zh")
    qapp.processEvents()
    yield
    apply_language(qapp, "zh")
    qapp.processEvents()


def test_switching_to_english_retranslates_the_city_view(chinese_first: None, view: Any, city: BuildingTable,
                                                         qapp: Any, qtbot: Any) -> None:
    from views.theme import apply_language

    view.retranslate()  # the fixture built the view before the language was pinned
    assert view.toolbar.surround_btn.text() == "周边分析"
    legend = view.panel.toPlainText()  # nothing picked yet: what colours and symbols mean
    for word in ("图例", "按高度", "消防站", "水源/消火栓", "点击建筑查看详情"):
        assert word in legend
    assert view.status.text() == f"{len(city):,} 栋建筑"
    i = int(np.flatnonzero((city.height > 30) & (city.height < 80))[0])
    now = time.time()
    push(view.store, "alert.upsert", dict(id=1, source="rule", level=4, state="new", domain="fire", town="nancheng",
                                          title="火警", title_en="Fire alarm", first_ts=now, last_ts=now,
                                          updated_ts=now, building_id=int(city.id[i])))
    push(view.store, "incident.upsert", dict(id=3, title="莞城火灾", level=4, state="open", domain="fire",
                                             building_id=int(city.id[i]), created_ts=now, created_by="op",
                                             updated_ts=now))
    view._on_timer_tick()
    assert _labels(view, "incident_labels") == ["事件 莞城火灾"]
    view.select(i)
    view._on_timer_tick()
    card = view.panel.toPlainText()
    for word in (f"建筑 #{int(city.id[i])}", "地址", "红色"):
        assert word in card
    view.measure.show_height(i)
    assert view.measure.text.startswith("建筑高度")

    assert apply_language(qapp, "en"), "run `make translations` (resources/i18n/ioc_en.qm missing)"
    qtbot.waitUntil(lambda: view.toolbar.surround_btn.text() == "Surroundings", timeout=3000)
    texts = _toolbar_texts(view)
    assert not [t for t in texts if _cjk(t)], texts  # town bookmarks too (their English names)
    assert view.toolbar.colour.itemText(0) == "By height"
    assert view.toolbar.towns.itemText(0) == "Whole city"
    assert view.toolbar.tool_buttons["distance"].text() == "Distance"
    assert view.toolbar.overlay_actions["fire_station"].text() == "Fire stations"
    assert view.toolbar.overlay_btn.text() == "Layers"
    assert view.status.text() == f"{len(city):,} buildings"
    card = view.panel.toPlainText()
    assert f"Building #{int(city.id[i])}" in card
    for word in ("Address", "Height", "Floors", "Alerts (1)", "Red", "Fire alarm"):
        assert word in card, (word, card)
    assert not _cjk(card.split("Address")[0]), card
    assert view.measure.text.startswith("Building height")
    assert _labels(view, "measure_label")[0].startswith("Building height")
    view._on_timer_tick()  # scene labels are redrawn on the next refresh
    assert _labels(view, "incident_labels") == ["Incident 莞城火灾"]  # the title is data

    res = view.request_surroundings(200.0)
    assert res is not None
    assert view.panel.toPlainText().startswith("Surroundings · radius 200 m")

    view.select(None)
    view.toolbar.colour.setCurrentIndex(3)  # live state: the warning levels
    legend = view.panel.toPlainText()
    for word in ("Legend", "Live state", "Red", "Blue", "Fire stations", "Key units", "Click a building"):
        assert word in legend, (word, legend)
    assert not _cjk(legend), legend

    apply_language(qapp, "zh")  # and back
    qtbot.waitUntil(lambda: view.toolbar.surround_btn.text() == "周边分析", timeout=3000)
    qtbot.waitUntil(lambda: "图例" in view.panel.toPlainText(), timeout=3000)
    assert "红色" in view.panel.toPlainText()


def test_a_view_built_in_english_starts_in_english(chinese_first: None, display: None, qapp: Any, qtbot: Any,
                                                   city: BuildingTable, tmp_path: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What the shell's wall rebuild after Ctrl+L does: a new view in the new language."""
    from app.store import StateStore
    from tests.city3d.conftest import Sink
    from views.city3d import create_city_view
    from views.theme import apply_language

    monkeypatch.setenv("IOC_CITY_CACHE_DIR", str(tmp_path / "cache"))
    assert apply_language(qapp, "en")
    v = create_city_view(StateStore(), Sink(), table=city)
    try:
        v.resize(1000, 700)
        v.show()
        qtbot.waitExposed(v)
        assert not [t for t in _toolbar_texts(v) if _cjk(t)]
        assert v.status.text() == f"{len(city):,} buildings"
        v.toolbar.tool_buttons["distance"].setChecked(True)
        w, h = v.plotter.window_size
        v.click(w // 2, h // 2)
        assert v.panel.toPlainText() == "Measurement\nDistance: click a second point"
    finally:
        v.shutdown()
        v.close()
        v.deleteLater()
