"""User actions declared without Qt: id, titles, key binding and the command each sends.

The Qt layer builds buttons, menus and shortcuts from these and greys out any action whose
command the session's role may not send (protocol.commands.PERMISSIONS, as the welcome frame
lists them). Local actions (command None) are always allowed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    id: str
    title_zh: str
    title_en: str
    key: str = ""  # Qt key sequence text, e.g. "Ctrl+K"
    command: str | None = None  # the service command it sends, None for local actions
    confirm: bool = False  # asks for confirmation first (nothing done by mistake)

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def allowed(self, permissions: frozenset[str] | set[str]) -> bool:
        return self.command is None or self.command in permissions


ACTIONS: tuple[Action, ...] = (
    Action("alert.ack", "确认告警", "Acknowledge", "A", "alert.ack"),
    Action("alert.escalate", "升级告警", "Escalate", "E", "alert.escalate", confirm=True),
    Action("alert.dispatch", "派遣处置", "Dispatch", "D", "alert.dispatch"),
    Action("alert.resolve", "标记解除", "Resolve", "R", "alert.resolve"),
    Action("incident.open", "生成事件", "Open incident", "I", "incident.open"),
    Action("focus.set", "设为关注事件", "Put in focus", "F", "focus.set"),
    Action("task.approve", "批准", "Approve", "", "task.decide", confirm=True),
    Action("task.reject", "驳回", "Reject", "", "task.decide", confirm=True),
    Action("feed.search", "搜索告警", "Search alerts", "Ctrl+F"),
    Action("feed.clear_filter", "清除筛选", "Clear filters", "Ctrl+Shift+F"),
    Action("app.mute", "静音", "Mute", "Ctrl+M"),
    Action("app.language", "切换语言", "Switch language", "Ctrl+L"),
    Action("app.theme", "切换主题", "Switch theme", "Ctrl+T"),
    Action("app.layout_editor", "布局编辑", "Edit layout", "Ctrl+E"),
    Action("app.next_page", "下一页", "Next page", "Ctrl+PgDown"),
    Action("app.prev_page", "上一页", "Previous page", "Ctrl+PgUp"),
    Action("app.pause_playlist", "暂停轮播", "Pause rotation", "Ctrl+P"),
    Action("app.drill", "演练", "Drill", "Ctrl+Shift+D", "scenario.start"),
    Action("app.quit", "退出", "Quit", "Ctrl+Shift+Q", confirm=True),
)
ACTIONS_BY_ID = {a.id: a for a in ACTIONS}


def action(action_id: str) -> Action:
    return ACTIONS_BY_ID[action_id]
