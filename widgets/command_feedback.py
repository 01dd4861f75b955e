"""What happened to the user's commands, in words: "Acknowledge · alert #12 「Smoke in Nancheng」
refused: the alert has already moved on".

A command queued while offline resolves its future at once (queued); the service's refusal comes
much later, on reconnect, through the client's command_finished(id, result). CommandTracker wraps
the console's CommandSink, remembers what each command id was (name, args; and the commands left
in the persisted outbox by an earlier run), and turns every refusal - at once or later - into a
`refused(text, name, args, result)` signal and a warning notification, which the hall window's
message bar shows. Error codes are translated; the service's own message goes in the detail.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from app.commandbus import CommandResult, CommandSink
from app.notifications import NotificationManager
from app.signals import Signal
from app.store import StateStore
from widgets.common import alert_title, list_sep, on_done

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

# What each command does, in the user's words (every protocol command: a test checks).
COMMAND_TITLES: dict[str, str] = {
    "alert.ack": QT_TRANSLATE_NOOP("CommandFeedback", "确认告警"),
    "alert.dispatch": QT_TRANSLATE_NOOP("CommandFeedback", "派遣处置"),
    "alert.resolve": QT_TRANSLATE_NOOP("CommandFeedback", "标记解除"),
    "alert.close": QT_TRANSLATE_NOOP("CommandFeedback", "关闭告警"),
    "alert.reopen": QT_TRANSLATE_NOOP("CommandFeedback", "重新打开告警"),
    "alert.note": QT_TRANSLATE_NOOP("CommandFeedback", "添加告警备注"),
    "alert.assign": QT_TRANSLATE_NOOP("CommandFeedback", "指派告警"),
    "alert.escalate": QT_TRANSLATE_NOOP("CommandFeedback", "升级告警"),
    "alert.raise": QT_TRANSLATE_NOOP("CommandFeedback", "人工上报告警"),
    "incident.open": QT_TRANSLATE_NOOP("CommandFeedback", "生成事件"),
    "incident.update": QT_TRANSLATE_NOOP("CommandFeedback", "更新事件"),
    "focus.set": QT_TRANSLATE_NOOP("CommandFeedback", "设为关注事件"),
    "task.create": QT_TRANSLATE_NOOP("CommandFeedback", "创建任务"),
    "task.decide": QT_TRANSLATE_NOOP("CommandFeedback", "审批决策"),
    "task.update": QT_TRANSLATE_NOOP("CommandFeedback", "更新任务"),
    "resource.update": QT_TRANSLATE_NOOP("CommandFeedback", "更新救援力量"),
    "silence.create": QT_TRANSLATE_NOOP("CommandFeedback", "屏蔽告警"),
    "silence.cancel": QT_TRANSLATE_NOOP("CommandFeedback", "取消屏蔽"),
    "rule.upsert": QT_TRANSLATE_NOOP("CommandFeedback", "保存告警规则"),
    "rule.delete": QT_TRANSLATE_NOOP("CommandFeedback", "删除告警规则"),
    "device.register": QT_TRANSLATE_NOOP("CommandFeedback", "登记设备"),
    "device.revoke": QT_TRANSLATE_NOOP("CommandFeedback", "注销设备"),
    "user.create": QT_TRANSLATE_NOOP("CommandFeedback", "创建用户"),
    "user.disable": QT_TRANSLATE_NOOP("CommandFeedback", "停用用户"),
    "user.enable": QT_TRANSLATE_NOOP("CommandFeedback", "启用用户"),
    "user.set_role": QT_TRANSLATE_NOOP("CommandFeedback", "修改用户角色和管辖范围"),
    "user.reset_password": QT_TRANSLATE_NOOP("CommandFeedback", "重置用户密码"),
    "user.change_password": QT_TRANSLATE_NOOP("CommandFeedback", "修改密码"),
    "bureau_key.create": QT_TRANSLATE_NOOP("CommandFeedback", "创建委办局接入凭证"),
    "bureau_key.revoke": QT_TRANSLATE_NOOP("CommandFeedback", "吊销委办局接入凭证"),
    "surroundings.query": QT_TRANSLATE_NOOP("CommandFeedback", "周边分析"),
    "scenario.start": QT_TRANSLATE_NOOP("CommandFeedback", "开始演练"),
}

# protocol.enums.ErrorCode values and the client's own codes (offline, timeout, login).
ERROR_TEXTS: dict[str, str] = {
    "forbidden": QT_TRANSLATE_NOOP("CommandFeedback", "当前角色或管辖范围无此权限"),
    "conflict": QT_TRANSLATE_NOOP("CommandFeedback", "状态已变化，此操作不再适用"),
    "not_found": QT_TRANSLATE_NOOP("CommandFeedback", "对象不存在或已删除"),
    "bad_args": QT_TRANSLATE_NOOP("CommandFeedback", "参数无效"),
    "rate_limited": QT_TRANSLATE_NOOP("CommandFeedback", "操作过于频繁"),
    "too_large": QT_TRANSLATE_NOOP("CommandFeedback", "数据过大"),
    "unauthenticated": QT_TRANSLATE_NOOP("CommandFeedback", "登录已失效"),
    "login_needed": QT_TRANSLATE_NOOP("CommandFeedback", "请先登录"),
    "bad_credentials": QT_TRANSLATE_NOOP("CommandFeedback", "用户名或密码错误"),
    "internal": QT_TRANSLATE_NOOP("CommandFeedback", "服务内部错误"),
    "unknown_command": QT_TRANSLATE_NOOP("CommandFeedback", "服务不支持此操作"),
    "unknown_query": QT_TRANSLATE_NOOP("CommandFeedback", "服务不支持此查询"),
    "bad_frame": QT_TRANSLATE_NOOP("CommandFeedback", "消息格式错误"),
    "unsupported_version": QT_TRANSLATE_NOOP("CommandFeedback", "控制台与服务版本不兼容"),
    "unknown_type": QT_TRANSLATE_NOOP("CommandFeedback", "服务不认识此消息"),
    "not_ready": QT_TRANSLATE_NOOP("CommandFeedback", "连接尚未就绪"),
    "offline": QT_TRANSLATE_NOOP("CommandFeedback", "未连接服务"),
    "timeout": QT_TRANSLATE_NOOP("CommandFeedback", "服务未及时应答"),
}

# where a code means something more precise for one command
COMMAND_ERROR_TEXTS: dict[tuple[str, str], str] = {
    ("scenario.start", "conflict"): QT_TRANSLATE_NOOP("CommandFeedback", "此服务未运行模拟城市，或模拟器未接受演练"),
    ("scenario.start", "not_found"): QT_TRANSLATE_NOOP("CommandFeedback", "服务不认识此演练剧情"),
}


def error_text(code: str | None, command: str = "") -> str:
    """A refusal's code in the user's words (an unknown code is shown as it is)."""
    src = COMMAND_ERROR_TEXTS.get((command, str(code or ""))) or ERROR_TEXTS.get(str(code or ""))
    return translate("CommandFeedback", src) if src else translate("CommandFeedback", "错误代码 {code}").format(
        code=code or "?")


def command_title(name: str) -> str:
    src = COMMAND_TITLES.get(name)
    return translate("CommandFeedback", src) if src else name


def target_text(args: dict[str, Any], store: StateStore | None) -> str:
    """What the command was about: the alert (with its title when the console knows it), the
    alerts, the incident, the task, or nothing."""
    alerts = store.alerts if store is not None else {}
    if "alert_id" in args:
        a = alerts.get(args["alert_id"])
        text = translate("CommandFeedback", "告警 #{id}").format(id=args["alert_id"])
        return text + (translate("CommandFeedback", "「{title}」").format(title=alert_title(a)) if a is not None else "")
    if args.get("alert_ids"):
        ids = list_sep().join(f"#{i}" for i in args["alert_ids"][:5]) + ("…" if len(args["alert_ids"]) > 5 else "")
        return translate("CommandFeedback", "告警 {ids}").format(ids=ids)
    if "incident_id" in args and args["incident_id"] is not None:
        return translate("CommandFeedback", "事件 #{id}").format(id=args["incident_id"])
    if "task_id" in args:
        return translate("CommandFeedback", "任务 #{id}").format(id=args["task_id"])
    return ""


def refusal_text(name: str, args: dict[str, Any], res: CommandResult, store: StateStore | None,
                 target: str | None = None) -> str:
    """"<action> · <what it was about> refused: <reason>" in the UI language."""
    target = target_text(args, store) if target is None else target
    what = command_title(name) + (f" · {target}" if target else "")
    return translate("CommandFeedback", "{what} 被拒绝：{reason}").format(what=what, reason=error_text(res.error_code, name))


class CommandTracker:
    """A CommandSink around the console's own (ConsoleClient or any other): commands pass
    through unchanged; refusals become words. Attributes it does not define are the inner sink's."""

    def __init__(self, inner: CommandSink, store: StateStore | None = None,
                 notifications: NotificationManager | None = None) -> None:
        self.inner = inner
        self.store = store
        self.notifications = notifications
        self.refused = Signal("refused")  # (text, name, args, CommandResult)
        self.pending: dict[str, tuple[str, dict[str, Any]]] = {}  # command id -> (name, args)
        self.reported = 0
        finished = getattr(inner, "command_finished", None)
        self._later = finished is not None  # final answers of queued commands arrive there
        if finished is not None:
            finished.connect(self._on_inner_command_finished)
        self._adopt_outbox()

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    def _adopt_outbox(self) -> None:
        """Commands an earlier run left in the persisted outbox: their answers come after the
        next connection, and the user must still learn which action they were."""
        outbox = getattr(getattr(self.inner, "dispatcher", None), "outbox", None)
        if outbox is None:
            return
        try:
            for item in outbox.pending():
                self.pending.setdefault(item.id, (item.name, dict(item.args)))
        except Exception:  # noqa: BLE001 - a closed or damaged outbox: nothing to adopt
            log.warning("could not read the outbox", exc_info=True)

    # ---- CommandSink ---------------------------------------------------------------------
    def send(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        submit = getattr(self.inner, "submit", None)
        cid: str | None = None
        if submit is not None:
            cid, fut = submit(name, args)
            if cid is not None:
                self.pending[cid] = (name, dict(args))
        else:
            fut = self.inner.send(name, args)
        on_done(fut, lambda res: self._on_answer(cid, name, args, res))
        return fut

    def query(self, name: str, args: dict[str, Any]) -> asyncio.Future[CommandResult]:
        return self.inner.query(name, args)

    # ---- answers ---------------------------------------------------------------------------
    def _on_answer(self, cid: str | None, name: str, args: dict[str, Any], res: CommandResult) -> None:
        if res.ok:
            if not res.queued and cid is not None and not self._later:
                self.pending.pop(cid, None)
            return
        if cid is not None and self._later:
            return  # the same answer comes through command_finished: reported there, once
        if cid is not None:
            self.pending.pop(cid, None)
        self._report(name, args, res)

    def _on_inner_command_finished(self, cid: str, res: CommandResult) -> None:
        known = self.pending.pop(cid, None)
        if res.ok:
            return
        if known is None:
            # sent by someone else through the same client (not tracked): still say it
            known = ("", {})
        self._report(known[0], known[1], res)

    def _report(self, name: str, args: dict[str, Any], res: CommandResult) -> None:
        text = refusal_text(name, args, res, self.store) if name else \
            translate("CommandFeedback", "一项操作被拒绝：{reason}").format(reason=error_text(res.error_code))
        self.reported += 1
        self.refused.emit(text, name, args, res)
        if self.notifications is not None:
            self.notifications.warning(text, detail=res.error_message or "", source="commands")
