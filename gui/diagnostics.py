"""The Diagnostics panel: the training doctor's findings (core/doctor/diagnose.py), live while a script runs.

The doctor reads the recording, which a live run writes as it goes: a job on a worker thread
brings its summary of the committed part up to date (only new iterations are read) at most every
LIVE_EVERY_MS while running, and at once on pause, finish or replay. Rows are updated in place, in
the doctor's order. A finding picked (click, or Enter) is sent out with `sig_pick`; `show_finding`
shows its iteration, its node (the structured reference the doctor gives, never its text parsed back)
and the plot of its evidence. `marks(iteration)` gives the nodes the graph frames for the findings.
"""

from __future__ import annotations

import html
import json
import time

import networkx as nx
from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.doctor import diagnose as doctor
from ..core.doctor.text import explain
from ..core.iteration import Iteration
from ..core.recording.store import Recording
from .controls import draw_icon
from .theme import current_theme, node_colours

LIVE_EVERY_MS = 1500  # a running script is diagnosed at most this often
DOCTOR_SHARE = 0.25  # ... and the doctor takes at most this share of the time (big recordings wait longer)
RANK = {"info": 0, "warning": 1, "error": 2}
LEVEL_WORDS = {"info": QT_TRANSLATE_NOOP("DiagnosticsView", "info"),
               "warning": QT_TRANSLATE_NOOP("DiagnosticsView", "warning"),
               "error": QT_TRANSLATE_NOOP("DiagnosticsView", "error")}
COLUMNS = (QT_TRANSLATE_NOOP("DiagnosticsView", "Level"), QT_TRANSLATE_NOOP("DiagnosticsView", "Code"),
           QT_TRANSLATE_NOOP("DiagnosticsView", "Iteration"), QT_TRANSLATE_NOOP("DiagnosticsView", "Subject"),
           QT_TRANSLATE_NOOP("DiagnosticsView", "Message"))


def finding_nodes(g: nx.DiGraph, ref: dict | None) -> list[str]:
    """The nodes of `g` a finding's node reference (core/doctor/rules.finding's `node`) names: the node of
    that id when it still matches (the same structure), else every node with its kind, op, name, module
    and file:line. [] for none (a rank, the gradient norm)."""
    if not ref:
        return []
    want = {k: v for k, v in ref.items() if k != "id"}
    nid = ref.get("id")
    if nid in g and all(g.nodes[nid].get(k) == v for k, v in want.items()):
        return [nid]
    if not want:
        return []
    return [n for n, a in g.nodes(data=True) if all(a.get(k) == v for k, v in want.items())]


def show_finding(f: dict, bridge, graph, inspector) -> None:
    """Show finding `f`: its iteration, and the node it names selected, zoomed to and in the inspector
    (once its layout is shown when one is under way)."""
    it = bridge.iteration(f["iteration"]) if f["iteration"] is not None else graph.iteration
    if it is None:
        return
    node = next(iter(finding_nodes(it.graph, f.get("node"))), None)
    bridge.show(it.index)
    if node is None:
        return
    graph.view_state.selection = node  # kept by a new layout

    def focus(*_) -> None:
        graph.zoom_readable()
        graph.select_node(node)
        inspector.show_node(graph.iteration, node)  # also when its box is a collapsed module's

    if graph.busy:
        graph.sig_layout_done.connect(focus, Qt.ConnectionType.SingleShotConnection)
    else:
        focus()


def key_of(f: dict) -> tuple:
    """A finding's identity across re-diagnoses of a growing recording (its message may change)."""
    return f["code"], f["subject"]


def evidence_text(evidence: dict) -> str:
    """The numbers a finding rests on, one `name: value` per item (numbers to 4 significant digits)."""
    def shown(v) -> str:
        return f"{v:.4g}" if isinstance(v, float) else json.dumps(v, ensure_ascii=False)
    return "; ".join(f"{k.replace('_', ' ')}: {shown(v)}" for k, v in evidence.items())


class DoctorRelay(QObject):
    """Carries a job's result back to the UI thread (queued signal)."""

    sig_done = Signal(int, object, float)  # generation, findings (list) or an error message (str), seconds


class DoctorJob(QRunnable):
    """Bring `run` up to date with the recording at `path` and diagnose it, off the UI thread."""

    def __init__(self, generation: int, path: str, run: doctor.Run, relay: DoctorRelay):
        super().__init__()
        self.generation, self.path, self.run_, self.relay = generation, path, run, relay

    def run(self) -> None:
        started = time.monotonic()
        try:
            rec = Recording(self.path)
            try:
                result = doctor.diagnose_recording(rec, self.run_)
            finally:
                rec.close()
        except Exception as e:  # noqa: BLE001 - reported in the panel, never lost in a thread
            result = str(e)
        self.relay.sig_done.emit(self.generation, result, time.monotonic() - started)


class DiagnosticsView(QWidget):
    """The findings list and the picked finding's explanation with its fix."""

    sig_pick = Signal(dict)  # a finding the user picked (its curve, if any, is for the plots to show)
    sig_changed = Signal(bool)  # the findings changed; True when the run's first warning or error just came

    def __init__(self, bridge, parent: QWidget | None = None, lang: str = "en"):
        super().__init__(parent)
        self.bridge = bridge
        self.lang = lang
        self.findings: list[dict] = []
        self.checked: int | None = None  # iterations the last diagnosis read
        self.error: str | None = None
        self._generation = 0
        self._run = doctor.Run()
        self._job: DoctorJob | None = None
        self._again = False
        self._alarmed = False
        self._cost = 0.0
        self._asked_count = -1
        self._nodes: dict[tuple, list[str]] = {}  # (signature, code, subject) -> nodes
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = DoctorRelay(self)
        self._relay.sig_done.connect(self._on_done)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._start_job)
        self._build()
        bridge.sig_reset.connect(self._on_reset)
        bridge.sig_scalars.connect(self._on_scalars)
        bridge.sig_history.connect(lambda *_: self._schedule(0))
        bridge.sig_paused.connect(self._on_paused)
        bridge.sig_finished.connect(lambda _d: self._schedule(0))

    def _build(self) -> None:
        self.status = QLabel(self)
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels([self.tr(c) for c in COLUMNS])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        for column, width in enumerate((95, 125, 70, 110)):  # the message takes the rest, elided (all of it at right)
            self.tree.setColumnWidth(column, width)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.currentItemChanged.connect(lambda *_: self._explain())
        self.tree.itemClicked.connect(lambda item, _col: self._pick(item))
        self.tree.itemActivated.connect(lambda item, _col: self._pick(item))
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.document().setDocumentMargin(3)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.text)
        self.splitter.setSizes([420, 580])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        self._say()

    # -- what the window asks ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A diagnosis is due or under way."""
        return self._job is not None or self._timer.isActive()

    def title(self) -> str:
        """The dock's title: the count of warnings and errors when there are some."""
        count = sum(f["level"] != "info" for f in self.findings)
        return self.tr("Diagnostics ({count})").format(count=count) if count else self.tr("Diagnostics")

    def marks(self, it: Iteration) -> dict[str, str]:
        """{node id: level} of `it`'s nodes named by a finding made at or before it."""
        out: dict[str, str] = {}
        for f in self.findings:
            if f["iteration"] is not None and f["iteration"] > it.index:
                continue
            key = (it.signature, f["code"], f["subject"])
            if key not in self._nodes:
                self._nodes[key] = finding_nodes(it.graph, f.get("node"))
            for n in self._nodes[key]:
                if RANK.get(f["level"], 0) > RANK.get(out.get(n), -1):
                    out[n] = f["level"]
        return out

    def set_language(self, lang: str) -> None:
        """The explanations' language ('en' or 'zh')."""
        self.lang = lang
        self._explain()

    def shutdown(self) -> None:
        """No job outlives the panel (the window closes)."""
        self._timer.stop()
        self._generation += 1
        self._pool.clear()
        self._pool.waitForDone(10_000)

    # -- scheduling -------------------------------------------------------------------------------
    def _on_reset(self, _info: dict) -> None:
        self._generation += 1  # a job still running for the last run is ignored when it ends
        self._run = doctor.Run()
        self._job, self._again, self._alarmed, self._cost = None, False, False, 0.0
        self._asked_count = -1
        self._timer.stop()
        self._nodes.clear()
        self.checked, self.error = None, None
        self._show([])

    def _on_scalars(self, _d: dict) -> None:
        self._schedule(self._interval())
        if self.checked is None:
            self._say()

    def _on_paused(self, _d: dict) -> None:
        if self.bridge.view.count != self._asked_count:  # stepping within an iteration adds nothing to read
            self._schedule(0)

    def _interval(self) -> int:
        return max(LIVE_EVERY_MS, int(self._cost / DOCTOR_SHARE * 1000))

    def _schedule(self, delay_ms: int) -> None:
        """Diagnose within `delay_ms` (an earlier due time stays; a running job is followed by another)."""
        if self._job is not None:
            self._again = True
        elif not self._timer.isActive() or self._timer.remainingTime() > delay_ms:
            self._timer.start(delay_ms)

    def _start_job(self) -> None:
        path = self.bridge.record_path
        if self._job is not None or not path:
            return
        self._asked_count = self.bridge.view.count
        self._job = DoctorJob(self._generation, path, self._run, self._relay)
        self._pool.start(self._job)

    def _on_done(self, generation: int, result, seconds: float) -> None:
        if generation != self._generation:
            return
        self._job = None
        self._cost = seconds
        if isinstance(result, str) and self.bridge.view.mode == "live" and self.bridge.view.state != "finished":
            self._again = False  # the script has not written its file yet: try again later, say nothing
            self._schedule(self._interval())
            return
        if isinstance(result, str):
            self.error = result
        else:
            self.error = None
            self.checked = len(self._run.steps)
            self._show(result)
        self._say()
        if self._again:
            self._again = False
            self._schedule(self._interval() if self.bridge.view.state == "running" else 0)

    # -- the list ---------------------------------------------------------------------------------
    def _show(self, findings: list[dict]) -> None:
        """Rows updated in place (no flicker, the current row kept), in the doctor's order."""
        old = {key_of(f): self.tree.topLevelItem(i) for i, f in enumerate(self.findings)}
        self.tree.blockSignals(True)
        current = self.tree.currentItem()
        for i, f in enumerate(findings):
            item = old.pop(key_of(f), None)
            if item is None:
                item = QTreeWidgetItem()
                self.tree.insertTopLevelItem(i, item)
            elif self.tree.indexOfTopLevelItem(item) != i:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
                self.tree.insertTopLevelItem(i, item)
            self._fill(item, f)
        for item in old.values():
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        if current is not None and self.tree.indexOfTopLevelItem(current) >= 0:
            self.tree.setCurrentItem(current)
        self.tree.blockSignals(False)
        alarm = not self._alarmed and doctor.has_problems(findings)
        self._alarmed = self._alarmed or alarm
        changed = findings != self.findings
        self.findings = list(findings)
        self._explain()
        if changed or alarm:
            self.sig_changed.emit(alarm)

    def _fill(self, item: QTreeWidgetItem, f: dict) -> None:
        texts = (self.tr(LEVEL_WORDS.get(f["level"], f["level"])), f["code"],
                 "" if f["iteration"] is None else str(f["iteration"]), f["subject"], f["message"])
        for column, text in enumerate(texts):
            if item.text(column) != text:
                item.setText(column, text)
        if item.data(0, Qt.ItemDataRole.UserRole) != f["level"]:
            item.setData(0, Qt.ItemDataRole.UserRole, f["level"])
            item.setIcon(0, self._icon(f["level"]))
        item.setToolTip(3, f["subject"])
        item.setToolTip(4, f["message"])

    def _icon(self, level: str) -> QIcon:
        """A dot in the level's colour (the graph frames the named nodes in the same colour)."""
        colour = node_colours(current_theme()[0]).get(level, QColor("#808080"))
        return draw_icon("dot", colour, self.fontMetrics().height())

    def _say(self) -> None:
        count = self.bridge.view.count
        if self.error:
            text = self.tr("The doctor could not read the recording: {error}").format(error=self.error)
        elif self.checked is None:
            text = self.tr("The training doctor lists the classic training bugs it finds here, as the script runs "
                           "or when a recording is opened.") if not count else self.tr("Checking…")
        elif not self.findings:
            text = self.tr("No problems found in {count} iterations.").format(count=self.checked)
        else:
            text = self.tr("{count} finding(s) in {checked} iterations. Click one to show its iteration and "
                           "node.").format(count=len(self.findings), checked=self.checked)
        self.status.setText(text)

    def _pick(self, item: QTreeWidgetItem) -> None:
        row = self.tree.indexOfTopLevelItem(item)
        if 0 <= row < len(self.findings):
            self.sig_pick.emit(self.findings[row])

    def _explain(self) -> None:
        """The current finding (else the first) with its fix and the code's paragraph."""
        row = self.tree.indexOfTopLevelItem(self.tree.currentItem()) if self.tree.currentItem() else 0
        if not 0 <= row < len(self.findings):
            self.text.clear()
            return
        f = self.findings[row]
        colour = node_colours(current_theme()[0]).get(f["level"], QColor("#808080")).name()
        where = self.tr("iteration {index}").format(index=f["iteration"]) if f["iteration"] is not None else ""
        level, fix = self.tr(LEVEL_WORDS.get(f["level"], f["level"])), self.tr("Fix:")
        numbers = evidence_text(f.get("evidence") or {})
        evidence = f"<p><b>{html.escape(self.tr('Evidence:'))}</b> {html.escape(numbers)}</p>" if numbers else ""
        self.text.setHtml(
            f"<p><b style='color:{colour}'>{html.escape(level)}</b> "
            f"<b>{html.escape(f['code'])}</b> &nbsp;{html.escape(where)} &nbsp;<code>{html.escape(f['subject'])}</code></p>"
            f"<p>{html.escape(f['message'])}</p>{evidence}"
            f"<p><b>{html.escape(fix)}</b> {html.escape(f['hint'])}</p>"
            f"<p>{html.escape(explain(f['code'], self.lang))}</p>")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: level colours follow
            for i, f in enumerate(self.findings):
                self.tree.topLevelItem(i).setIcon(0, self._icon(f["level"]))
            self._explain()
        super().changeEvent(event)
