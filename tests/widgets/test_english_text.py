"""English screens say things the English way (found looking at the English screenshots)."""

from __future__ import annotations

from typing import Any


def test_data_quality_lists_bureaus_with_the_languages_separator(city_store: Any, qtbot: Any, qapp: Any) -> None:
    from views.theme import apply_language
    from widgets.dq_panel import DataQualityPanel
    apply_language(qapp, "en")
    try:
        panel = DataQualityPanel(city_store)
        qtbot.addWidget(panel)
        cells = [panel.table.item(r, 2).text() for r in range(panel.table.rowCount())]
        assert "Fire 120, Urban mgmt 110" in cells  # short names: the column is narrow
        tips = [panel.table.item(r, 2).toolTip() for r in range(panel.table.rowCount())]
        assert "Fire and Rescue Brigade 120, Urban Management Bureau 110" in tips  # the whole names
        assert not any("、" in c for c in cells + tips)
    finally:
        apply_language(qapp, "zh")
    panel.rebuild()
    assert any("、" in panel.table.item(r, 2).text() for r in range(panel.table.rowCount()))
