"""The --embedded launcher: readiness from the child's ready line, clear errors, clean stop."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from views.embedded import EmbeddedService


def test_ready_line_gives_the_url_and_stop_ends_the_child(tmp_path: Path, monkeypatch: Any) -> None:
    svc = EmbeddedService(log_path=tmp_path / "svc.log")
    script = ("import sys, time; print('starting', flush=True); "
              "print('ioc-sync ready ws://127.0.0.1:45678 http://127.0.0.1:45679', flush=True); time.sleep(60)")
    monkeypatch.setattr(svc, "command", lambda: [sys.executable, "-c", script])
    assert svc.start(timeout_s=20) == "ws://127.0.0.1:45678"
    assert svc.http_url == "http://127.0.0.1:45679"
    proc = svc.proc
    assert proc is not None
    svc.stop()
    assert proc.poll() is not None  # the child is gone
    svc.stop()  # a second stop is harmless


def test_a_child_that_dies_is_a_clear_error(tmp_path: Path, monkeypatch: Any) -> None:
    svc = EmbeddedService(log_path=tmp_path / "svc.log")
    monkeypatch.setattr(svc, "command", lambda: [sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(RuntimeError, match="exited with code 3.*svc.log"):
        svc.start(timeout_s=20)


def test_a_child_that_never_gets_ready_is_stopped(tmp_path: Path, monkeypatch: Any) -> None:
    svc = EmbeddedService()
    monkeypatch.setattr(svc, "command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    with pytest.raises(RuntimeError, match="not ready"):
        svc.start(timeout_s=1.5)
    assert svc.proc is None


def test_the_real_command_line() -> None:
    cmd = EmbeddedService(db_url="sqlite:////tmp/x.db").command()
    assert cmd[-8:] == ["--simulate", "--demo-users", "--ws-port", "0", "--http-port", "0",
                        "--db-url", "sqlite:////tmp/x.db"]


def test_starting_steps_are_reported_and_keep_the_wait_alive(tmp_path: Path, monkeypatch: Any) -> None:
    """A first start that generates the CIM city takes longer than the timeout in total; each
    `ioc-sync starting STEP N` line restarts it, and the launcher hears every step."""
    svc = EmbeddedService(log_path=tmp_path / "svc.log")
    script = ("import time\n"
              "for step, n in (('cim-generate', 1700000), ('cim-store', 1700000), ('provision', 100000)):\n"
              "    print('ioc-sync starting', step, n, flush=True); time.sleep(1.0)\n"
              "print('ioc-sync ready ws://127.0.0.1:1 http://127.0.0.1:2', flush=True); time.sleep(60)\n")
    monkeypatch.setattr(svc, "command", lambda: [sys.executable, "-c", script])
    seen: list[tuple[str, int]] = []

    def on_wait(step: str, n: int) -> None:
        if not seen or seen[-1] != (step, n):
            seen.append((step, n))

    try:
        assert svc.start(timeout_s=1.6, on_wait=on_wait) == "ws://127.0.0.1:1"  # 3 s in all
    finally:
        svc.stop()
    assert seen == [("", 0), ("cim-generate", 1700000), ("cim-store", 1700000), ("provision", 100000)]
