"""The inspector's optimizer page: one optimizer step, parameter by parameter."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QVBoxLayout, QWidget

from ...core.iteration import nonfinite
from .tables import (
    cell,
    fill_summary,
    fit_height,
    fmt,
    fmt_shape,
    make_table,
    plain_text,
    rich_label,
    scrolled,
    table_text,
)


def _norm_cell(summary: dict | None):
    """A column cell for a summary: its norm (its value for a scalar such as Adam's `step`)."""
    if not isinstance(summary, dict):
        return cell("–")
    scalar = summary.get("shape") in ([], ()) and summary.get("values") is not None
    v = summary.get("values") if scalar else summary.get("norm")
    tip = ", ".join(f"{k}={fmt(summary.get(k))}" for k in ("shape", "norm", "mean", "std", "min", "max", "nan", "inf"))
    return cell(fmt(v), alarm=nonfinite(summary), tooltip=tip)


class OptimizerPage(QWidget):
    """Table of parameters (lr, gradient, before/after norms, update ratio, state) and group settings."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: dict = {}
        self.params: list[dict] = []
        self.title = rich_label(self)
        self.table = make_table(self)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # rows are chosen here, by mouse or keys
        self.table.itemSelectionChanged.connect(self._on_row)
        self.groups = rich_label(self)
        self.detail_title = QLabel(self)
        self.detail = make_table(self)
        inner = QWidget(self)
        col = QVBoxLayout(inner)
        col.setContentsMargins(6, 6, 6, 6)
        for w in (self.title, self.table, self.groups, self.detail_title, self.detail):
            col.addWidget(w)
        col.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scrolled(inner, self))

    def show_event(self, data: dict) -> None:
        """Show optimizer_pre/post data: {step, optimizer, index, params: [{name, shape, before, after,
        grad, lr, group, state, update_ratio}]} (after and update_ratio only after the step)."""
        self.data = data
        self.params = [p for p in data.get("params") or [] if isinstance(p, dict)]
        post = any("after" in p or "update_ratio" in p for p in self.params)
        when = self.tr("after the step") if post else self.tr("before the step")
        self.title.setText(f"<span style='font-size:x-large; font-weight:bold'>"
                           f"{html.escape(str(data.get('optimizer') or self.tr('optimizer')))}</span>"
                           + self.tr(" step {step} · iteration {index} · {when}").format(
                               step=fmt(data.get("step")), index=fmt(data.get("index")), when=when))
        state_keys = sorted({k for p in self.params for k in (p.get("state") or {})})
        heads = [self.tr("parameter"), self.tr("shape"), "lr", "‖grad‖", self.tr("‖w‖ before")]
        if post:
            heads += [self.tr("‖w‖ after"), "‖Δw‖", "‖Δw‖/‖w‖"]
        heads += [k if _all_scalar(self.params, k) else f"‖{k}‖" for k in state_keys]
        t = self.table
        t.blockSignals(True)
        t.clear()
        t.setRowCount(len(self.params))
        t.setColumnCount(len(heads))
        t.setHorizontalHeaderLabels(heads)
        t.verticalHeader().setVisible(False)
        for r, p in enumerate(self.params):
            row = [cell(p["name"], alarm=_any_nonfinite(p),  # core.trace.naming.Names.param: always a name
                        align_right=False),
                   cell(fmt_shape(p.get("shape")), align_right=False), cell(fmt(p.get("lr"))),
                   _norm_cell(p.get("grad")), _norm_cell(p.get("before"))]
            if post:
                ratio = p.get("update_ratio")
                row += [_norm_cell(p.get("after")), cell(fmt(p.get("update_norm"))),
                        cell(fmt(ratio), alarm=isinstance(ratio, float) and not math.isfinite(ratio))]
            row += [_norm_cell((p.get("state") or {}).get(k)) for k in state_keys]
            for c, item in enumerate(row):
                t.setItem(r, c, item)
        t.blockSignals(False)
        fit_height(t, max_rows=16)
        self.groups.setText(self._groups_html())
        if self.params:
            t.selectRow(0)
        self._on_row()

    def text(self) -> str:
        """The page as plain text (for tests and copying)."""
        parts = [self.title.text(), table_text(self.table), self.groups.text(), self.detail_title.text(),
                 table_text(self.detail) if self.detail.rowCount() else ""]
        return plain_text("\n".join(p for p in parts if p))

    def _groups_html(self) -> str:
        groups: list[tuple[dict, list[str]]] = []
        for p in self.params:
            g = p.get("group") or {}
            for known, names in groups:
                if known == g:
                    names.append(str(p.get("name")))
                    break
            else:
                groups.append((g, [str(p.get("name"))]))
        lines = []
        for i, (g, names) in enumerate(groups):
            settings = " · ".join(f"{html.escape(str(k))}={html.escape('None' if v is None else fmt(v))}"
                                  for k, v in g.items()) or "–"
            lines.append("<b>" + self.tr("group {index}").format(index=i) + f"</b>: {settings}<br><i>"
                         + self.tr("params:") + f"</i> {html.escape(', '.join(names))}")
        return "<b>" + self.tr("Hyper-parameters") + "</b><br>" + "<br>".join(lines) if lines else ""

    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.params):
            self.detail_title.setText("")
            self.detail.setRowCount(0)
            self.detail.setVisible(False)
            return
        p = self.params[rows[0].row()]
        columns = [(self.tr("before"), p.get("before"))] + ([(self.tr("after"), p.get("after"))] if "after" in p else [])
        columns += [(self.tr("gradient"), p.get("grad"))] + [(k, s) for k, s in (p.get("state") or {}).items()]
        self.detail_title.setText(self.tr("{name} in detail").format(name=f"<b>{html.escape(str(p.get('name')))}</b>"))
        fill_summary(self.detail, columns)
        self.detail.setVisible(True)


def _any_nonfinite(p: dict) -> bool:
    summaries = [p.get("before"), p.get("after"), p.get("grad"), *(p.get("state") or {}).values()]
    return any(nonfinite(s) for s in summaries if isinstance(s, dict))


def _all_scalar(params: list[dict], key: str) -> bool:
    """Whether state `key` is a scalar (e.g. Adam's step count) for every parameter that has it."""
    shapes = [((p.get("state") or {}).get(key) or {}).get("shape") for p in params]
    return all(s in ([], ()) for s in shapes if s is not None)
