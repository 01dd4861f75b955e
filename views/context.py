"""What every view is built with: the store, the command sink, the shared view state, the red
alert centre, settings and the hall profile. Passed down; views never reach for globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.commandbus import CommandSink
from app.halls import Profile
from app.notifications import NotificationManager
from app.selection import ViewState
from app.settings import ConsoleSettings
from app.store import StateStore


@dataclass
class ViewContext:
    store: StateStore
    commands: CommandSink
    settings: ConsoleSettings
    profile: Profile
    view_state: ViewState = field(default_factory=ViewState)
    notifications: NotificationManager = field(default_factory=NotificationManager)
    red_center: Any = None  # widgets.red_alert.RedAlertCenter, made by the shell / wall
    save_settings: Any = None  # callable() persisting settings; None in tests
