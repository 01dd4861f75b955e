"""The console's connection to the sync service: reconnect, resume, outbox, offline cache.

Qt-free except `qt_bridge`. `ConsoleClient` feeds `app.store.StateStore` and implements
`app.commandbus.CommandSink`; `qt_bridge.ConsoleBridge` exposes it to the UI with Qt signals.
"""

from backend_client.auth import Credentials, LoginFailed, LoginNeeded
from backend_client.client import ConsoleClient
from backend_client.timings import Backoff, ClientTimings

__all__ = ["Backoff", "ClientTimings", "ConsoleClient", "Credentials", "LoginFailed", "LoginNeeded"]
