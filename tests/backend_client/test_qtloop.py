"""The console's loop: worker threads wake the Qt thread without any cross-thread Qt signal."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from backend_client.qtloop import ConsoleEventLoop

pytestmark = pytest.mark.gui


def test_thousands_of_worker_results_all_arrive_in_order_on_the_qt_thread(qapp: Any) -> None:
    from PySide6.QtCore import QThread

    loop = ConsoleEventLoop(qapp)
    asyncio.set_event_loop(loop)
    seen: list[tuple[int, bool]] = []

    def work(i: int) -> tuple[int, bool]:
        # a plain Python thread of our pool, not one of qasync's QThreads
        return i, QThread.currentThread() is not None and threading.current_thread().name.startswith("ioc-worker")

    async def main() -> list[int]:
        main_thread = threading.get_ident()
        got = await asyncio.gather(*[asyncio.to_thread(work, i) for i in range(3000)])
        seen.extend(got)
        assert threading.get_ident() == main_thread
        # call_soon_threadsafe from foreign threads: each callback exactly once, FIFO per thread
        order: list[int] = []
        done = asyncio.Event()

        def post() -> None:
            for k in range(2000):
                loop.call_soon_threadsafe(order.append, k)
            loop.call_soon_threadsafe(done.set)

        t = threading.Thread(target=post)
        t.start()
        await done.wait()
        t.join()
        return order

    try:
        order = loop.run_until_complete(main())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    assert [i for i, _ in seen] == list(range(3000))
    assert all(ours for _, ours in seen)
    assert order == list(range(2000))


def test_a_worker_finishing_after_close_is_dropped_not_a_crash(qapp: Any) -> None:
    loop = ConsoleEventLoop(qapp)
    asyncio.set_event_loop(loop)
    release = threading.Event()
    late: list[BaseException] = []

    async def main() -> None:
        loop.run_in_executor(None, release.wait, 5.0)  # still running when the loop closes

    loop.run_until_complete(main())
    threading.Timer(0.2, release.set).start()
    loop.close()  # waits for the worker; its result has no loop to go to
    asyncio.set_event_loop(None)
    assert loop.is_closed()
    with pytest.raises(RuntimeError, match="closed"):
        loop.call_soon_threadsafe(late.append, None)
    assert late == []
