"""Device health by bureau and type: online / offline / faulty counts, an availability bar, and a
drill-down (double-click or Enter) to the device list via the devices.list query.

Bureaus open on their device types (the panel is tall on the wall: the breakdown fills it); a
bureau the user closes stays closed. Follows the ViewState town: a clicked town shows that
town's devices only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.commandbus import CommandResult, CommandSink
from app.kpi import device_totals
from app.selection import ViewState
from app.store import StateStore
from widgets.common import (
    domain_name,
    fmt_time,
    on_done,
    pick,
    refresh_hub,
    status_text_colour,
    town_name,
)

KeyRole = Qt.ItemDataRole.UserRole + 2
ShareRole = Qt.ItemDataRole.UserRole + 3  # online share 0..1 (the bar)
BAR_FLOOR = 0.90  # the bar spans 90-100 % online: below 90 % it is empty (all of a city's devices are 95 %+)
# the KPI tile's bands for devices online (warn under 95 %, alarm under 90 %)
BAR_COLOURS = ((0.95, QColor("#43a047")), (0.90, QColor("#fdd835")), (0.0, QColor("#e53935")))


def bar_colour(share: float) -> QColor:
    return next(c for floor, c in BAR_COLOURS if share >= floor)


def bar_fill(share: float) -> float:
    """How much of the bar is filled for an online share (0..1 over 90-100 %)."""
    return min(max((share - BAR_FLOOR) / (1.0 - BAR_FLOOR), 0.0), 1.0)


class AvailabilityDelegate(QStyledItemDelegate):
    """The online share as a bar with its percentage: a bureau in trouble shows from afar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        share = index.data(ShareRole)
        if share is None:
            super().paint(painter, option, index)
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        r = option.rect.adjusted(4, 3, -4, -3)
        text = f"{100 * share:.1f}%"
        fm = option.fontMetrics
        text_w = fm.horizontalAdvance("100.0%") + 6
        bar = QRect(r.left(), r.top(), max(r.width() - text_w, 8), r.height())
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        track = QColor(option.palette.text().color())
        track.setAlpha(40)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setBrush(bar_colour(share))
        painter.drawRoundedRect(QRect(bar.left(), bar.top(), int(bar.width() * bar_fill(share)), bar.height()), 3, 3)
        painter.setPen(option.palette.text().color())
        painter.drawText(QRect(bar.right() + 4, r.top(), text_w, r.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
        painter.restore()


def aggregate(stats: dict[Any, Any], town: str | None) -> dict[str, dict[str, dict[str, int]]]:
    """{domain: {device_type: counts}} for one town or the whole city."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for s in stats.values():
        if town and s.town != town:
            continue
        c = out.setdefault(s.domain, {}).setdefault(s.device_type, {"total": 0, "online": 0, "offline": 0, "faulty": 0})
        c["total"] += s.total
        c["online"] += s.online
        c["offline"] += s.offline
        c["faulty"] += s.faulty
    return out


class DeviceHealth(QWidget):
    def __init__(self, store: StateStore, commands: CommandSink | None = None,
                 view_state: ViewState | None = None, options: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DeviceHealth")
        self.store, self.commands = store, commands
        self.view_state = view_state or ViewState()
        self.summary = QLabel("", objectName="DeviceSummary")
        self.tree = QTreeWidget(objectName="DeviceTree")
        self.tree.setColumnCount(6)
        self.tree.setHeaderLabels([self.tr("部门 / 类型"), self.tr("总数"), self.tr("在线"),
                                   self.tr("离线"), self.tr("故障"), self.tr("在线率")])
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 5):
            self.tree.header().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(5, QHeaderView.ResizeMode.Fixed)  # names keep the room
        self.tree.setItemDelegateForColumn(5, AvailabilityDelegate(self.tree))
        self.tree.headerItem().setToolTip(5, self.tr("条形从 90% 到 100%：绿色 95% 以上，黄色 90%–95%，红色低于 90%"))
        self.tree.itemActivated.connect(self._on_tree_item_activated)
        self.collapsed: set[str] = set()  # bureaus the user closed
        self.tree.itemCollapsed.connect(lambda it: self.collapsed.add(it.data(0, KeyRole)[0]))
        self.tree.itemExpanded.connect(lambda it: self.collapsed.discard(it.data(0, KeyRole)[0]))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree, 1)
        self.dialogs: list[DeviceListDialog] = []
        self._dirty = True
        store.stats_changed.connect(self._on_store_changed)
        store.reset.connect(self._on_store_changed)
        self.view_state.town_changed.connect(self._on_store_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.rebuild()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self.rebuild()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        # the bar column as wide as its percentage plus a bar, in the font the theme gives
        fm = self.tree.fontMetrics()
        self.tree.setColumnWidth(5, fm.horizontalAdvance("100.0%") + fm.horizontalAdvance("0") * 7 + 16)

    def rebuild(self) -> None:
        town = self.view_state.town
        data = aggregate(self.store.device_stats, town)
        tot = device_totals(self.store.device_stats, town)
        pct = 100.0 * tot["online"] / tot["total"] if tot["total"] else 0.0
        where = town_name(self.store, town) if town else self.tr("全市")
        self.summary.setText(self.tr("%1：设备 %2 台，在线率 %3%，离线 %4，故障 %5")
                             .replace("%1", where).replace("%2", f"{tot['total']:,}")
                             .replace("%3", f"{pct:.1f}").replace("%4", f"{tot['offline']:,}")
                             .replace("%5", f"{tot['faulty']:,}"))
        self.tree.blockSignals(True)  # rebuilding is not the user opening or closing bureaus
        self.tree.clear()
        for dom in sorted(data, key=lambda d: -sum(c["total"] for c in data[d].values())):
            types = data[dom]
            sums = {k: sum(c[k] for c in types.values()) for k in ("total", "online", "offline", "faulty")}
            item = self._item(domain_name(self.store, dom), sums, (dom, None))
            for dt in sorted(types, key=lambda t: -types[t]["total"]):
                spec = self.store.device_types.get(dt)
                name = pick(spec.name_zh, spec.name_en) if spec else dt
                item.addChild(self._item(name, types[dt], (dom, dt)))
            self.tree.addTopLevelItem(item)
            item.setExpanded(dom not in self.collapsed)
        self.tree.blockSignals(False)

    def _item(self, name: str, c: dict[str, int], key: tuple[str, str | None]) -> QTreeWidgetItem:
        it = QTreeWidgetItem([name, f"{c['total']:,}", f"{c['online']:,}", f"{c['offline']:,}", f"{c['faulty']:,}", ""])
        it.setData(0, KeyRole, key)
        if c["total"]:
            it.setData(5, ShareRole, c["online"] / c["total"])
        for col in range(1, 5):
            it.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if c["offline"]:
            it.setForeground(3, QBrush(status_text_colour("alarm")))
        if c["faulty"]:
            it.setForeground(4, QBrush(status_text_colour("warn")))
        return it

    def _on_tree_item_activated(self, item: QTreeWidgetItem, _col: int) -> None:
        dom, dt = item.data(0, KeyRole)
        self.drill_down(dom, dt)

    def drill_down(self, domain: str, device_type: str | None, health: str | None = None) -> DeviceListDialog:
        d = DeviceListDialog(self.store, self.commands, domain, device_type, self.view_state.town, health, self)
        self.dialogs.append(d)
        d.finished.connect(lambda _r, dd=d: self.dialogs.remove(dd) if dd in self.dialogs else None)
        d.show()
        return d


class DeviceListDialog(QDialog):
    """The devices of one bureau/type (and town), fetched with devices.list."""

    COLS = ("id", "name", "town", "health", "last_ts", "last_values")

    def __init__(self, store: StateStore, commands: CommandSink | None, domain: str,
                 device_type: str | None, town: str | None, health: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DeviceListDialog")
        self.store = store
        self.setWindowTitle(self.tr("设备列表") + " · " + domain_name(store, domain))
        self.resize(900, 560)
        self.info = QLabel(self.tr("正在查询…"))
        self.table = QTableWidget(0, len(self.COLS))
        self.table.setHorizontalHeaderLabels([self.tr("编号"), self.tr("名称"), self.tr("镇街"),
                                              self.tr("状态"), self.tr("最后上报"), self.tr("最新读数")])
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(self.info)
        lay.addWidget(self.table, 1)
        self.rows: list[dict[str, Any]] = []
        args: dict[str, Any] = {"domain": domain, "limit": 500}
        for k, v in (("device_type", device_type), ("town", town), ("health", health)):
            if v:
                args[k] = v
        self.args = args
        if commands is None:
            self.info.setText(self.tr("未连接服务，无法查询"))
        else:
            on_done(commands.query("devices.list", args), self._on_query_result)

    def _on_query_result(self, res: CommandResult) -> None:
        if not res.ok:
            self.info.setText(self.tr("查询失败：") + (res.error_message or res.error_code or ""))
            return
        data = res.data or {}
        self.rows = list(data.get("items") or data.get("devices") or [])
        total = data.get("total", len(self.rows))
        self.info.setText(self.tr("共 %1 台，显示 %2 台").replace("%1", f"{total:,}").replace("%2", str(len(self.rows))))
        health = {"online": self.tr("在线"), "offline": self.tr("离线"), "faulty": self.tr("故障")}
        self.table.setRowCount(len(self.rows))
        for r, d in enumerate(self.rows):
            vals = d.get("last_values") or {}
            cells = (d.get("id", ""), d.get("name", ""), town_name(self.store, d.get("town")),
                     health.get(d.get("health", ""), d.get("health", "")), fmt_time(d.get("last_ts"), True),
                     ", ".join(f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in vals.items()))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(str(text)))
        self.table.resizeColumnsToContents()
