"""The inspector: everything known about one node (or one optimizer step), numbers first.

A node page shows op, kind, names, source line, value/gradient summaries side by side, the full
values of small tensors and a heatmap (2-D) or histogram of them; the optimizer page shows the
per-parameter before/after/gradient/state summaries of an optimizer_pre/post event.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.iteration import SINK, Iteration, node_nonfinite
from ...core.render.labels import node_name
from ..graph import model as gm
from ..i18n import translate
from ..plots.draw import style_plot
from .optimizer import OptimizerPage
from .tables import (
    alarm_colour,
    as_array,
    fill_summary,
    fill_values,
    fmt,
    fmt_shape,
    make_table,
    plain_text,
    rich_label,
    rows_html,
    scrolled,
    table_text,
)

HIST_BINS = 20


class TensorPlot(pg.PlotWidget):
    """Heatmap with a colour bar for 2-D values, histogram otherwise, a min/mean/max bar without values."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(170)
        self.setMaximumHeight(320)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.heatmap: np.ndarray | None = None
        self.histogram: tuple[np.ndarray, np.ndarray] | None = None
        self._cmap = pg.colormap.get("viridis")
        # Built once: a ColorBarItem holds a whole PlotItem (~25 ms to construct).
        self._bar = pg.ColorBarItem(values=(0, 1), colorMap=self._cmap, interactive=False, width=14)
        self._bar_shown = False

    def show_tensor(self, arr: np.ndarray | None, summary: dict | None) -> None:
        self._reset()
        plot = self.getPlotItem()
        if arr is not None and arr.ndim == 2 and arr.size:
            self._show_heatmap(arr)
        elif arr is not None and arr.size > 1:
            self._show_histogram(arr.reshape(-1))
        elif summary and summary.get("min") is not None and summary.get("max") is not None:
            self._show_range(summary)
        else:
            plot.setTitle(self.tr("no values to plot"))

    def _reset(self) -> None:
        plot = self.getPlotItem()
        if self._bar_shown:
            plot.layout.removeItem(self._bar)
            self.scene().removeItem(self._bar)
            self._bar_shown = False
        plot.clear()
        plot.setTitle(None)
        plot.getViewBox().invertY(False)
        plot.setAspectLocked(False)
        plot.showAxis("left")
        for axis in ("bottom", "left"):
            plot.getAxis(axis).setTickSpacing()  # back to automatic ticks
        self.heatmap = self.histogram = None

    def _show_heatmap(self, arr: np.ndarray) -> None:
        plot = self.getPlotItem()
        self.heatmap = arr
        shown = np.where(np.isfinite(arr), arr, np.nan)  # NaN/Inf cells stay transparent
        finite = shown[np.isfinite(shown)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:  # a constant tensor: centre it in a small range so it still gets a colour
            pad = abs(lo) * 0.5 or 0.5
            lo, hi = lo - pad, hi + pad
        image = pg.ImageItem(shown, axisOrder="row-major")
        image.setLevels((lo, hi))
        image.setColorMap(self._cmap)
        image.setRect(QRectF(-0.5, -0.5, arr.shape[1], arr.shape[0]))  # cell (r, c) centred on (c, r)
        plot.addItem(image)
        plot.getViewBox().invertY(True)  # row 0 at the top, like the table
        plot.setAspectLocked(True)
        for axis, n in (("bottom", arr.shape[1]), ("left", arr.shape[0])):
            step = max(1, math.ceil(n / 8))  # integer ticks on cell centres
            plot.getAxis(axis).setTickSpacing(step, step)
        self._bar.setImageItem(image, insert_in=plot)
        self._bar.setLevels((lo, hi))
        self._bar_shown = True
        plot.setTitle(self.tr("heatmap {rows}×{columns}").format(rows=arr.shape[0], columns=arr.shape[1]))

    def _show_histogram(self, flat: np.ndarray) -> None:
        plot = self.getPlotItem()
        finite = flat[np.isfinite(flat)]
        if not finite.size:
            plot.setTitle(self.tr("all values are NaN/Inf"))
            return
        counts, edges = np.histogram(finite, bins=min(HIST_BINS, max(len(np.unique(finite)), 1) * 2))
        self.histogram = (edges, counts)
        plot.addItem(pg.PlotDataItem(edges, counts, stepMode="center", fillLevel=0,
                                     brush=(47, 111, 207, 150), pen=pg.mkPen("#2f6fcf")))
        bad = flat.size - finite.size
        plot.setTitle(self.tr("histogram of {count} values").format(count=flat.size)
                      + (self.tr(" ({count} NaN/Inf left out)").format(count=bad) if bad else ""))

    def _show_range(self, s: dict) -> None:
        """No values kept (large tensor): draw min, mean ± std and max on one line."""
        plot = self.getPlotItem()
        lo, hi, mean, std = (_num(s.get(k)) for k in ("min", "max", "mean", "std"))
        if not all(math.isfinite(v) for v in (lo, hi, mean, std)):
            plot.setTitle(self.tr("range not finite"))
            return
        plot.addItem(pg.PlotDataItem([lo, hi], [0, 0], pen=pg.mkPen("#888888", width=1)))
        plot.addItem(pg.BarGraphItem(x0=[mean - std], x1=[mean + std], y=[0], height=0.6,
                                     brush=(47, 111, 207, 120), pen=pg.mkPen("#2f6fcf")))
        plot.addItem(pg.ScatterPlotItem([lo, mean, hi], [0, 0, 0], symbol="|", size=18,
                                        pen=pg.mkPen("#2f6fcf", width=2)))
        plot.hideAxis("left")
        plot.setYRange(-1, 1)
        plot.setTitle(self.tr("min · mean ± std · max (values not kept for large tensors)"))


class InspectorView(QWidget):
    """Shows one node of an Iteration (`show_node`) or one optimizer step (`show_optimizer`)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.node_id: str | None = None  # the node shown (of the iteration passed to show_node)
        self.attrs: dict = {}
        self.which = "value"
        self.title = rich_label(self)
        self.info = rich_label(self)
        self.summary = make_table(self)
        self.values_note = QLabel(self)
        self.values_note.setWordWrap(True)
        self.values = make_table(self)
        self.plot = TensorPlot(self)
        self.value_button = QRadioButton(self.tr("value"), self)
        self.grad_button = QRadioButton(self.tr("gradient"), self)
        self.value_button.setChecked(True)
        self.buttons = QButtonGroup(self)
        self.buttons.addButton(self.value_button)
        self.buttons.addButton(self.grad_button)
        self.buttons.buttonToggled.connect(self._on_which)
        self.optimizer = OptimizerPage(self)

        self.pick = QWidget(self)  # hidden while nothing is selected
        pick = QHBoxLayout(self.pick)
        pick.setContentsMargins(0, 0, 0, 0)
        pick.addWidget(QLabel(self.tr("Tensor:"), self.pick))
        pick.addWidget(self.value_button)
        pick.addWidget(self.grad_button)
        pick.addStretch(1)
        node_page = QWidget(self)
        col = QVBoxLayout(node_page)
        col.setContentsMargins(6, 6, 6, 6)
        for w in (self.title, self.info, self.summary):
            col.addWidget(w)
        col.addWidget(self.pick)
        col.addWidget(self.values_note)
        col.addWidget(self.values)
        col.addWidget(self.plot)
        col.addStretch(1)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(scrolled(node_page, self))
        self.pages.addWidget(self.optimizer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        style_plot(self.plot.getPlotItem(), self.plot, self.palette())
        self.show_node(None, None)

    # -- public interface --------------------------------------------------------------------
    def show_node(self, iteration: Iteration | None, node_id: str | None) -> None:
        """Show node `node_id` of `iteration`; with no node, a short description of the iteration."""
        self.pages.setCurrentIndex(0)
        self.node_id = node_id
        graph = iteration.graph if iteration is not None else None
        if graph is None or node_id is None or node_id not in graph:
            self.attrs = {}
            self._show_placeholder(iteration, node_id)
            return
        self.attrs = dict(graph.nodes[node_id])
        for key in ("value", "grad"):  # a summary is a dict; anything else (a damaged file) counts as missing
            if not isinstance(self.attrs.get(key), dict):
                self.attrs[key] = None
        a = self.attrs
        label = node_name(a)
        kind = a.get("kind") or "op"
        alarm = node_nonfinite(a)
        badge = (f" <span style='background:{alarm_colour().name()}; color:white; font-weight:bold'>"
                 "&nbsp;NaN/Inf&nbsp;</span>") if alarm else ""
        op = html.escape(str(a.get("op") or "")) if label != a.get("op") else ""
        self.title.setText(f"<span style='font-size:x-large; font-weight:bold'>{html.escape(str(label))}</span>"
                           f" &nbsp;{op}{badge}")
        rows = [(self.tr("kind"), kind), (self.tr("module"), a.get("module")), (self.tr("source"), a.get("source")),
                (self.tr("tensor"),
                 f"{fmt_shape(a.get('shape'))} {a.get('dtype') or ''} {a.get('device') or ''}".strip()),
                (self.tr("inputs"), _neighbours(graph, graph.predecessors(node_id))),
                (self.tr("used by"), _neighbours(graph, graph.successors(node_id))),
                (self.tr("iteration"), self.tr("{index} ({detail} detail)").format(index=iteration.index,
                                                                                  detail=iteration.detail))]
        rows += _scale_rows(iteration)
        self.info.setText(rows_html(rows))
        columns = [(self.tr("value"), a.get("value")), (self.tr("gradient"), a.get("grad"))]
        if a.get("accumulated"):  # earlier backwards left a sum in .grad (no zero_grad): the optimizer uses it
            columns.append((self.tr(".grad (accumulated)"), a["accumulated"]))
        fill_summary(self.summary, columns)
        self.summary.setVisible(True)
        self.pick.setVisible(True)
        if self.which == "grad" and not a.get("grad") and a.get("value"):
            self.value_button.setChecked(True)  # nothing to show for the gradient yet
        self._show_tensor()

    def show_module(self, iteration: Iteration, box: str) -> None:
        """Show a module box of the graph ("module:<path>"): its path, class, nodes, parameters and the largest
        gradient norm among its nodes."""
        g = iteration.graph
        members = gm.box_members(g, box)
        if not members:
            self.show_node(iteration, None)
            return
        self.show_node(iteration, None)  # the placeholder's tables hidden; then the module's rows
        path = gm.box_path(box)
        cls = gm.module_class(g, path, members)
        norms = [n for n in (gm.grad_norm(g.nodes[m]) for m in members) if n is not None]
        name = gm.module_name(path, cls)
        self.title.setText(f"<span style='font-size:x-large; font-weight:bold'>{html.escape(name)}</span>")
        self.info.setText(rows_html([
            (self.tr("kind"), self.tr("module")), (self.tr("class"), cls or "–"), (self.tr("module"), path),
            (self.tr("nodes"), len(members)), (self.tr("parameters"), f"{gm.param_count(g, members):,}"),
            (self.tr("max ‖grad‖"), fmt(max(norms)) if norms else "–"),
            (self.tr("iteration"), self.tr("{index} ({detail} detail)").format(index=iteration.index,
                                                                              detail=iteration.detail))])
            + "<br>" + self.tr("Double-click the box to open the module."))

    def show_optimizer(self, data: dict) -> None:
        """Show an optimizer_pre / optimizer_post event's data (see OptimizerPage)."""
        self.optimizer.show_event(data if isinstance(data, dict) else {})
        self.pages.setCurrentIndex(1)

    def text(self) -> str:
        """The visible page as plain text (headings, info and every table cell), for tests and copying."""
        if self.pages.currentIndex() == 1:
            return self.optimizer.text()
        parts = [self.title.text(), self.info.text()]
        if self.summary.isVisible() or self.summary.rowCount():
            parts.append(table_text(self.summary))
        parts.append(self.values_note.text())
        if self.values.rowCount():
            parts.append(table_text(self.values))
        return plain_text("\n".join(p for p in parts if p))

    def set_tensor(self, which: str) -> None:
        """Show the node's "value" or "grad" in the values table and plot."""
        (self.grad_button if which == "grad" else self.value_button).setChecked(True)

    # -- internals ---------------------------------------------------------------------------
    def _show_placeholder(self, iteration: Iteration | None, node_id: str | None) -> None:
        if iteration is None:
            self.title.setText("<b>" + self.tr("Nothing selected") + "</b>")
            self.info.setText(self.tr("Select a node in the graph to see its values and gradients."))
        elif node_id is not None:
            self.title.setText("<b>" + self.tr("Node {node} is not in iteration {index}").format(
                node=html.escape(str(node_id)), index=iteration.index) + "</b>")
            self.info.setText(self.tr("The graph changed; select a node of the current graph."))
        else:
            g = iteration.graph
            bad = sum(1 for _, a in g.nodes(data=True) if node_nonfinite(a))
            self.title.setText("<b>" + self.tr("Iteration {index}").format(index=iteration.index) + "</b>")
            self.info.setText(rows_html([
                (self.tr("loss"), _loss_text(iteration)), (self.tr("nodes"), g.number_of_nodes()),
                (self.tr("edges"), g.number_of_edges()), (self.tr("detail"), iteration.detail),
                (self.tr("optimizer steps"), iteration.optimizer_steps), (self.tr("NaN/Inf nodes"), bad),
                *_scale_rows(iteration)]) + "<br>" + self.tr("Select a node in the graph to inspect it."))
        self.summary.clear()
        self.summary.setRowCount(0)
        self.summary.setVisible(False)
        self.values.setRowCount(0)
        self.values.setVisible(False)
        self.values_note.setText("")
        self.pick.setVisible(False)
        self.plot.show_tensor(None, None)
        self.plot.setVisible(False)

    def _on_which(self, button, checked: bool) -> None:
        if checked:
            self.which = "grad" if button is self.grad_button else "value"
            if self.attrs:
                self._show_tensor()

    def _show_tensor(self) -> None:
        summary = self.attrs.get("grad" if self.which == "grad" else "value")
        arr = as_array(summary.get("values")) if summary else None
        name = self.tr("gradient") if self.which == "grad" else self.tr("value")
        if arr is not None:
            self.values_note.setText((self.tr("{name}: all {count} elements") if arr.size != 1 else
                                      self.tr("{name}: all {count} element")).format(name=name, count=arr.size))
            fill_values(self.values, arr)
        elif summary:
            count = int(np.prod(summary.get("shape") or [1]))
            self.values_note.setText(summary.get("note") or self.tr(
                "{name}: {count} elements; only tensors of up to 64 keep their values").format(name=name, count=count))
            self.values.setRowCount(0)
        else:
            self.values_note.setText(self.tr("{name}: not recorded for this node at this detail level").format(name=name))
            self.values.setRowCount(0)
        self.values.setVisible(self.values.rowCount() > 0)
        self.plot.setVisible(bool(summary) and (arr is None or arr.size > 1))
        self.plot.show_tensor(arr, summary)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() == event.Type.PaletteChange:
            style_plot(self.plot.getPlotItem(), self.plot, self.palette())
        super().changeEvent(event)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _neighbours(graph, nodes) -> str:
    names = [node_name(graph.nodes[n]) for n in nodes]
    return ", ".join(names[:8]) + (f" … (+{len(names) - 8})" if len(names) > 8 else "") if names else "–"


def _loss_text(it: Iteration) -> str:
    """The iteration's loss; while its backward is under way, the root's forward value (when scalar)."""
    if it.loss is not None:
        return fmt(it.loss)
    value = (it.graph.nodes[SINK].get("value") or {}) if SINK in it.graph else {}
    if isinstance(value.get("values"), float | int):
        return translate("InspectorView", "{loss} (backward under way)").format(loss=fmt(value["values"]))
    return fmt(None)


def _scale_rows(iteration) -> list[tuple[str, str]]:
    """A GradScaler's iteration says so: its graph's gradients are scaled, its loss and norms are not."""
    if not iteration.grad_scale:
        return []
    return [(translate("InspectorView", "gradient scale"),
             translate("InspectorView", "×{scale} (GradScaler): the graph's gradients are scaled; the loss and "
                                        "the parameter gradient norms in the plots are unscaled")
             .format(scale=f"{iteration.grad_scale:g}"))]
