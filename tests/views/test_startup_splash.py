"""The window --embedded shows while the first start seeds the city: names the step, in both
languages, and keeps counting."""

from __future__ import annotations

from typing import Any

from views.startup_splash import StartupSplash, step_text


def test_splash_names_each_step_and_closes(qapp: Any, qtbot: Any) -> None:
    splash = StartupSplash()
    qtbot.addWidget(splash)
    splash.on_wait("", 0)
    assert splash.isVisible()
    assert splash.step.text() == "正在启动本地同步服务…"
    splash.on_wait("cim-generate", 1_700_000)
    assert splash.step.text() == "首次启动：正在生成城市模型（1,700,000 栋建筑）…"
    assert splash.elapsed.text().startswith("已用 ")
    splash.on_wait("provision", 100_000)
    assert "100,000" in splash.step.text()
    splash.close()
    assert not splash.isVisible()


def test_steps_in_english(qapp: Any) -> None:
    from views.theme import apply_language
    assert apply_language(qapp, "en")
    assert step_text("cim-store", 1_700_000) == "First start: saving the city model (1,700,000 buildings)…"
    assert step_text("unknown-step", 0) == "Starting the local sync service…"
