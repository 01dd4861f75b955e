"""Data-quality panel: readings refused or flagged, by reason and by bureau (store.dq)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.store import StateStore
from protocol.enums import DQReason
from widgets.common import domain_name, domain_short, fmt_time, list_sep, refresh_hub


def reason_text(reason: str) -> str:
    names = {
        "malformed": QCoreApplication.translate("DQ", "格式错误"), "auth_missing": QCoreApplication.translate("DQ", "缺少凭证"),
        "auth_invalid": QCoreApplication.translate("DQ", "凭证无效"), "auth_revoked": QCoreApplication.translate("DQ", "凭证已吊销"),
        "auth_domain": QCoreApplication.translate("DQ", "越权写入"), "unknown_device": QCoreApplication.translate("DQ", "未知设备"),
        "unknown_metric": QCoreApplication.translate("DQ", "未知指标"), "nan": QCoreApplication.translate("DQ", "非数值"),
        "sentinel": QCoreApplication.translate("DQ", "哨兵值"), "out_of_range": QCoreApplication.translate("DQ", "超出量程"),
        "ts_past": QCoreApplication.translate("DQ", "时间过旧"), "ts_future": QCoreApplication.translate("DQ", "时间超前"),
        "stuck": QCoreApplication.translate("DQ", "数值卡滞"),
    }
    return names.get(reason, reason)


class DataQualityPanel(QWidget):
    def __init__(self, store: StateStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DataQualityPanel")
        self.store = store
        self.caption = QLabel("", objectName="DQCaption")
        self.table = QTableWidget(0, 3, objectName="DQTable")
        self.table.setHorizontalHeaderLabels([self.tr("原因"), self.tr("累计"), self.tr("主要部门")])
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)  # a long reason or bureau list wraps in a narrow cell, not cut off
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.table, 1)
        self._dirty = True
        store.dq_changed.connect(self._on_store_changed)
        store.reset.connect(self._on_store_changed)
        refresh_hub().tick.connect(self._on_refresh_tick)
        self.rebuild()

    def _on_store_changed(self, *_: Any) -> None:
        self._dirty = True

    def _on_refresh_tick(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self.rebuild()

    def rebuild(self) -> None:
        dq = self.store.dq or {}
        total: dict[str, int] = {k: int(v) for k, v in (dq.get("total") or {}).items()}
        by_domain: dict[str, dict[str, int]] = dq.get("by_domain") or {}
        n = sum(total.values())
        self.caption.setText(self.tr("被拒绝或标记的读数：%1 条（更新于 %2）")
                             .replace("%1", f"{n:,}").replace("%2", fmt_time(dq.get("ts"))))
        order = [r.value for r in DQReason]
        reasons = sorted(total, key=lambda r: (-total[r], order.index(r) if r in order else 99))
        self.table.setRowCount(len(reasons))
        for row, r in enumerate(reasons):
            worst = sorted(((d, c.get(r, 0)) for d, c in by_domain.items() if c.get(r, 0)), key=lambda x: -x[1])[:2]
            where = list_sep().join(f"{domain_short(self.store, d)} {c:,}" for d, c in worst)
            items = (QTableWidgetItem(reason_text(r)), QTableWidgetItem(f"{total[r]:,}"), QTableWidgetItem(where))
            items[2].setToolTip(list_sep().join(f"{domain_name(self.store, d)} {c:,}" for d, c in worst))
            items[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, it in enumerate(items):
                self.table.setItem(row, col, it)
        self.table.resizeRowsToContents()
