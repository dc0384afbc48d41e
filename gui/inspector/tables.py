"""Tables and number formatting shared by the inspector's pages (summaries, small tensors)."""

from __future__ import annotations

import html
import math
import re

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ..i18n import translate
from ..theme import current_theme, node_colours

SUMMARY_ROWS = ("shape", "dtype", "device", "norm", "mean", "std", "min", "max", "nan", "inf")
ROW_LABELS = {"shape": QT_TRANSLATE_NOOP("Tables", "shape"), "dtype": QT_TRANSLATE_NOOP("Tables", "dtype"),
              "device": QT_TRANSLATE_NOOP("Tables", "device"), "norm": QT_TRANSLATE_NOOP("Tables", "norm"),
              "mean": QT_TRANSLATE_NOOP("Tables", "mean"), "std": QT_TRANSLATE_NOOP("Tables", "std"),
              "min": QT_TRANSLATE_NOOP("Tables", "min"), "max": QT_TRANSLATE_NOOP("Tables", "max"),
              "nan": QT_TRANSLATE_NOOP("Tables", "NaN count"), "inf": QT_TRANSLATE_NOOP("Tables", "Inf count"),
              "note": QT_TRANSLATE_NOOP("Tables", "note")}
VALUES_PER_ROW = 8  # a 1-D tensor wraps into rows of this many values


def fmt(v, digits: int = 6) -> str:
    """A number as people read it: 1, 4.5, 0.333333, 1e-08, NaN, Inf; "–" when missing."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Inf" if v > 0 else "-Inf"
        return f"{v:.{digits}g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v)


def fmt_shape(shape) -> str:
    if shape is None:
        return "–"
    if isinstance(shape, (list, tuple)):
        return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    return str(shape)


def alarm_colour() -> QColor:
    return node_colours(current_theme()[0])["nonfinite"]


class FittedTable(QTableWidget):
    """A read-only table as tall as its rows (up to `max_rows`), so a page reads top to bottom."""

    def __init__(self, parent=None, max_rows: int = 16):
        super().__init__(parent)
        self.max_rows = max_rows
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # display only: no focus frame on the first cell
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.horizontalScrollBar().rangeChanged.connect(lambda *_: self.updateGeometry())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        rows = min(self.rowCount(), self.max_rows)
        height = 2 * self.frameWidth()
        if not self.horizontalHeader().isHidden():  # isVisible() is False while the table itself is hidden
            height += self.horizontalHeader().sizeHint().height()
        height += sum(max(self.rowHeight(r), self.verticalHeader().sectionSizeHint(r)) for r in range(rows))
        if self.horizontalScrollBar().maximum() > 0:
            height += self.horizontalScrollBar().sizeHint().height()
        return QSize(super().sizeHint().width(), height)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())


def rich_label(parent=None) -> QLabel:
    """A word-wrapped, selectable rich-text label (headings and key/value blocks)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def scrolled(inner: QWidget, parent=None) -> QScrollArea:
    """`inner` in a frameless scroll area that resizes it (a page taller than its dock)."""
    scroll = QScrollArea(parent)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(inner)
    return scroll


def make_table(parent=None, max_rows: int = 16) -> FittedTable:
    """A compact read-only table that sizes itself to its contents."""
    return FittedTable(parent, max_rows)


def fit_height(table: QTableWidget, max_rows: int | None = None) -> None:
    """Recompute a FittedTable's height after its contents changed."""
    if max_rows is not None and isinstance(table, FittedTable):
        table.max_rows = max_rows
    table.resizeRowsToContents()
    table.updateGeometry()


def cell(text: str, alarm: bool = False, tooltip: str = "", align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if alarm:
        item.setBackground(alarm_colour())
        item.setForeground(QColor("#ffffff"))
        font = QFont()
        font.setBold(True)
        item.setFont(font)
    if tooltip:
        item.setToolTip(tooltip)
    return item


def fill_summary(table: QTableWidget, columns: list[tuple[str, dict | None]]) -> None:
    """Rows = summary fields, one column per (title, summary); NaN/Inf counts > 0 in the alarm colour."""
    notes = [s.get("note") for _, s in columns if s and s.get("note")]
    rows = list(SUMMARY_ROWS) + (["note"] if notes else [])
    table.clear()
    table.setRowCount(len(rows))
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels([title for title, _ in columns])
    table.setVerticalHeaderLabels([translate("Tables", ROW_LABELS[r]) for r in rows])
    for c, (_, summary) in enumerate(columns):
        for r, key in enumerate(rows):
            if not summary:
                text = translate("Tables", "not recorded") if r == 0 else ""
                table.setItem(r, c, cell(text, align_right=False))
                continue
            v = summary.get(key)
            text = fmt_shape(v) if key == "shape" else fmt(v)
            bad = key in ("nan", "inf") and bool(v)
            bad = bad or (key in ("norm", "mean", "std", "min", "max") and isinstance(v, float) and not math.isfinite(v))
            table.setItem(r, c, cell(text, alarm=bad, align_right=key not in ("shape", "dtype", "device", "note")))
    fit_height(table, max_rows=len(rows))


def as_array(values) -> np.ndarray | None:
    """The summary's nested-list values as a float array, or None when absent or malformed."""
    if values is None:
        return None
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.dtype == np.float64 else None


def fill_values(table: QTableWidget, arr: np.ndarray) -> None:
    """Show a small tensor: 2-D as is, 1-D wrapped in rows of VALUES_PER_ROW, N-D as rows of its last dim."""
    if arr.ndim == 0:
        grid, row_labels, col_labels = arr.reshape(1, 1), [""], [""]
    elif arr.ndim == 1:
        width = min(VALUES_PER_ROW, max(len(arr), 1))
        rows = math.ceil(len(arr) / width) if len(arr) else 0
        grid = np.full((rows, width), np.nan)
        grid.flat[:len(arr)] = arr
        row_labels = [str(r * width) for r in range(rows)]
        col_labels = [f"+{c}" if rows > 1 else str(c) for c in range(width)]
    elif arr.ndim == 2:
        grid = arr
        row_labels = [str(r) for r in range(arr.shape[0])]
        col_labels = [str(c) for c in range(arr.shape[1])]
    else:
        grid = arr.reshape(-1, arr.shape[-1])
        row_labels = [str(list(ix))[1:-1].replace(" ", "") for ix in np.ndindex(*arr.shape[:-1])]
        col_labels = [str(c) for c in range(arr.shape[-1])]
    count = arr.size
    table.clear()
    table.setRowCount(grid.shape[0])
    table.setColumnCount(grid.shape[1] if grid.ndim == 2 else 0)
    table.setVerticalHeaderLabels(row_labels)
    table.setHorizontalHeaderLabels(col_labels)
    table.horizontalHeader().setVisible(arr.ndim >= 1)
    table.verticalHeader().setVisible(arr.ndim >= 1)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if arr.ndim == 1 and i * grid.shape[1] + j >= count:
                table.setItem(i, j, cell(""))
                continue
            v = float(v)  # 4 digits keep the grid narrow; the tooltip has every digit
            table.setItem(i, j, cell(fmt(v, 4), alarm=not math.isfinite(v), tooltip=repr(v)))
    fit_height(table, max_rows=12)


def rows_html(rows: list[tuple[str, object]]) -> str:
    """A two-column (label, value) HTML table, skipping empty values."""
    body = "".join(f"<tr><td style='padding-right:10px'><i>{html.escape(k)}</i></td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows if v not in (None, ""))
    return f"<table cellspacing='0' cellpadding='1'>{body}</table>"


def table_text(table: QTableWidget) -> str:
    """A table's headers and cells as tab-separated plain text."""
    heads = [table.horizontalHeaderItem(c).text() if table.horizontalHeaderItem(c) else ""
             for c in range(table.columnCount())]
    lines = ["\t" + "\t".join(heads)]
    for r in range(table.rowCount()):
        head = table.verticalHeaderItem(r).text() if table.verticalHeaderItem(r) else ""
        cells = [table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
        lines.append(head + "\t" + "\t".join(cells))
    return "\n".join(lines)


def plain_text(rich: str) -> str:
    """Rich text without tags and entities (what a reader sees)."""
    text = re.sub(r"<br\s*/?>|</tr>", "\n", rich)
    text = re.sub(r"</td>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\xa0", " ")
