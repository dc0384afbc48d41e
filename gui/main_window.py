"""The main window: graph in the centre, inspector, plots, timeline, console, controls, lessons.

Every view is fed by the Bridge's signals; user intent goes back through the bridge's commands.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..core import lessons
from ..core.iteration import Iteration, kept_graph
from ..core.recording.store import RecordingError
from ..core.render.labels import node_title
from .actions import Actions, build_menus, build_search_bar
from .bridge import Bridge
from .collector import collect_on_gui_thread
from .console import ConsoleView
from .controls import ControlsToolbar
from .diagnostics import DiagnosticsView, show_finding
from .files import Files
from .graph.model import GROUP_PREFIX
from .graph.view import GraphView
from .inspector.view import InspectorView
from .lesson_panel import LessonPanel
from .plots.view import PlotsView
from .ranks import attach_ranks
from .theme import apply_theme
from .timeline import TimelineView

# The bridge's status words (mode, state, phase, how a run ended), shown in the interface's language.
STATUS_WORDS = (QT_TRANSLATE_NOOP("MainWindow", "live"), QT_TRANSLATE_NOOP("MainWindow", "replay"),
                QT_TRANSLATE_NOOP("MainWindow", "running"), QT_TRANSLATE_NOOP("MainWindow", "paused"),
                QT_TRANSLATE_NOOP("MainWindow", "idle"), QT_TRANSLATE_NOOP("MainWindow", "finished"),
                QT_TRANSLATE_NOOP("MainWindow", "failed"), QT_TRANSLATE_NOOP("MainWindow", "stopped"),
                QT_TRANSLATE_NOOP("MainWindow", "forward"), QT_TRANSLATE_NOOP("MainWindow", "backward"),
                QT_TRANSLATE_NOOP("MainWindow", "backward done"), QT_TRANSLATE_NOOP("MainWindow", "optimizer"),
                QT_TRANSLATE_NOOP("MainWindow", "optimizer done"))


class MainWindow(QMainWindow):
    """Backprop Studio's window. `sig_shown(index)` fires when an iteration's graph is fully drawn."""

    sig_shown = Signal(int)

    def __init__(self, settings: QSettings | None = None, theme: str = "light", presentation: bool = False,
                 lang: str = "en"):
        super().__init__()
        collect_on_gui_thread()  # before any worker thread starts
        self._said_for: int | None = None  # the iteration the status-bar message is about
        self.breakpoints: list[str] = ["nonfinite"]  # runs pause on the first NaN/Inf unless told otherwise
        self.setWindowTitle("Backprop Studio")
        self.settings = settings if settings is not None else QSettings("BackpropStudio", "backprop-studio")
        self.theme, self.presentation, self.lang = theme, presentation, lang
        # before any child exists: widgets polished under another theme keep that theme's font
        apply_theme(QApplication.instance(), theme, presentation)
        self.lesson: dict | None = None
        self.target: dict = {}
        self.last_error: str | None = None
        self._optimizer_data: dict | None = None
        try:
            self.lesson_index: lessons.LessonIndex | None = lessons.load()
        except lessons.LessonError:
            self.lesson_index = None
        self.bridge = Bridge(self)
        self.graph = GraphView(self, self.bridge.view)
        self.inspector = InspectorView(self)
        self.plots = PlotsView(self)
        self.timeline = TimelineView(self, self.bridge.view)
        self.console = ConsoleView(self)
        self.diagnostics = DiagnosticsView(self.bridge, self, lang)
        self.lesson_panel = LessonPanel(self)
        self.controls = ControlsToolbar(self)
        self.addToolBar(self.controls)
        self.addToolBarBreak()
        self.files = Files(self, self.bridge, self.settings, self.statusBar().showMessage)
        self._build_layout()
        self.commands = Actions(self)  # the menus' commands, laid out by build_menus
        self.search_box = build_search_bar(self, self.commands)
        self._build_status_bar()
        build_menus(self.menuBar(), self.commands, self.docks)
        self.ranks = attach_ranks(self)  # a distributed run's rank selector, agreement, per-rank curves
        self._connect()
        self.set_theme(theme, presentation)
        self.show_panels(not presentation)
        self.lesson_panel.set_language(lang)
        self.lesson_panel.hide()
        self.resize(1600, 1000)

    # -- layout -------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        centre = QWidget(self)
        col = QVBoxLayout(centre)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, centre)
        self.splitter.addWidget(self.lesson_panel)
        self.splitter.addWidget(self.graph)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 800])
        col.addWidget(self.splitter, 1)
        col.addWidget(self.timeline)
        self.setCentralWidget(centre)
        self.docks = {}
        for name, title, widget, area in (
            ("inspector", self.tr("Inspector"), self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
            ("plots", self.tr("Plots"), self.plots, Qt.DockWidgetArea.RightDockWidgetArea),
            ("console", self.tr("Console"), self.console, Qt.DockWidgetArea.BottomDockWidgetArea),
            ("diagnostics", self.tr("Diagnostics"), self.diagnostics, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.splitDockWidget(self.docks["inspector"], self.docks["plots"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["console"], self.docks["diagnostics"])
        self.docks["console"].raise_()
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.docks["inspector"], self.docks["plots"]], [420, 520], Qt.Orientation.Vertical)
        self._size_docks()

    def _build_status_bar(self) -> None:
        self.status_labels = {}
        for key in ("state", "iteration", "phase", "steps", "speed"):
            label = QLabel(self)
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label
        self._on_status({"mode": "idle", "state": "idle"})

    def _connect(self) -> None:
        b = self.bridge
        b.sig_reset.connect(self._on_reset)
        b.sig_iteration.connect(self._on_iteration)
        b.sig_scalars.connect(self._on_scalars)
        b.sig_history.connect(self._on_history)
        b.sig_updates.connect(self.plots.add_update_ratios)
        b.sig_console.connect(self.console.append)
        b.sig_error.connect(self._on_error)
        b.sig_status.connect(self._on_status)
        b.sig_paused.connect(self._on_paused)
        b.sig_node_grad.connect(self._on_node_grad)
        b.sig_optimizer.connect(self._on_optimizer)
        b.sig_break.connect(self._on_break)
        b.sig_finished.connect(self._on_finished)
        self.timeline.sig_selected.connect(self.bridge.show)
        self.plots.sig_jump.connect(self.timeline.pick)
        self.controls.sig_detail.connect(self._on_detail)
        view = self.bridge.view  # what is shown: the views read it and follow its events
        view.events.iteration.connect(self._on_shown_iteration)
        view.events.following.connect(self._on_follow)
        view.events.selection.connect(self._on_node_selected)
        self.graph.sig_layout_done.connect(self._on_layout_done)
        self.graph.sig_message.connect(self.statusBar().showMessage)
        self.controls.sig_command.connect(self._on_command)
        self.lesson_panel.sig_language.connect(self.set_language)
        self.diagnostics.sig_pick.connect(self._on_pick_finding)
        self.diagnostics.sig_changed.connect(self._on_findings)

    # -- opening things -----------------------------------------------------------------------
    def open_target(self, target: dict, detail: str | None = None, paused: bool = False,
                    first: bool = False) -> bool:
        """Open what main.py asked for: {"mode": lesson|script|open, ...}. False (and a message) on failure."""
        mode = target.get("mode")
        if mode == "open":
            return self.open_recording(target["recording"])
        if mode == "lesson":
            return self.open_lesson(target["lesson"], detail=detail)
        return self.open_script(target["script"], target.get("args") or [], detail=detail, paused=paused,
                                first=first, nproc=target.get("nproc"))

    def open_lesson(self, name: str, detail: str | None = None) -> bool:
        """Run a built-in lesson, paused after its first backward pass, with its narration beside the graph."""
        if self.lesson_index is None:
            return self._fail(self.tr("the lesson index could not be read"))
        try:
            lesson = self.lesson_index.get(name)
        except lessons.LessonError as e:
            return self._fail(str(e))
        path = self.lesson_index.path_of(lesson)
        if not self._start(path, [], detail or "full", paused=True):
            return False
        self.target = {"mode": "lesson", "lesson": name, "script": path, "args": []}
        self.lesson = lesson
        chapter = next((c for c in self.lesson_index.chapters if c["id"] == lesson.get("chapter")), None)
        self.show_narration(lesson, chapter)
        self.bridge.step("step_iteration")
        return True

    def open_script(self, path: str, args: list[str], detail: str | None = None, paused: bool = False,
                    first: bool = False, nproc: int | None = None) -> bool:
        """Trace a script live: running, or `paused` at its start, or (`first`) paused after its first
        backward pass, as a lesson opens, so a student sees the beginning, not the end. `nproc`: as
        that many ranks under torchrun."""
        if not self._start(path, args, detail or "auto", paused or first, nproc):
            return False
        if first:
            self.bridge.step("step_iteration")
        self.target = {"mode": "script", "script": path, "args": list(args), "nproc": nproc}
        self.lesson = None
        self.lesson_panel.hide()
        self._remember("script", path)
        if not paused and not first:
            self.bridge.run(self.controls.rate())
        return True

    def open_recording(self, path: str) -> bool:
        """Replay a .bps recording."""
        self.lesson = None
        self.lesson_panel.hide()
        try:
            self.bridge.open_recording(path)
        except RecordingError as e:
            return self._fail(str(e))
        self.target = {"mode": "open", "recording": path}
        self._remember("recording", path)
        return True

    def _start(self, path: str, args: list[str], detail: str, paused: bool, nproc: int | None = None) -> bool:
        try:
            self.bridge.start_script(path, args, detail=detail, paused=paused, break_on=self.breakpoints,
                                     nproc=nproc)
        except (ValueError, OSError) as e:
            return self._fail(str(e))
        self.controls.show_detail(detail)
        return True

    def _fail(self, message: str) -> bool:
        self.last_error = message
        self.statusBar().showMessage(message)
        if self.isVisible() and QApplication.platformName() not in ("offscreen", "minimal"):
            QMessageBox.warning(self, "Backprop Studio", message)
        return False

    def _remember(self, kind: str, path: str) -> None:
        self.files.remember(kind, path)
        self.commands.fill_recent()

    # -- view options ---------------------------------------------------------------------------
    def set_theme(self, theme: str | None = None, presentation: bool | None = None) -> None:
        self.theme = theme or self.theme
        changed = presentation is not None and presentation != self.presentation
        self.presentation = self.presentation if presentation is None else presentation
        apply_theme(QApplication.instance(), self.theme, self.presentation)
        if changed:  # presentation: the graph dominant, the panels hidden (F9 brings them back)
            self.show_panels(not self.presentation)
        self._size_columns()
        self.graph.set_theme(self.theme, self.presentation)
        for name, action in self.commands.themes.items():
            action.setChecked(name == self.theme)
        self.commands.presentation.setChecked(self.presentation)
        if presentation:
            self.controls.set_lecture_pace()  # 1 it/s, each backward animated node by node

    def show_panels(self, on: bool) -> None:
        """Show or hide the docked panels (inspector, plots, console, diagnostics) and the search bar at once."""
        for dock in self.docks.values():
            dock.setVisible(on)
        self.search_box.parentWidget().setVisible(on)
        if on:
            self.docks["console"].raise_()
        self.commands.panels.setChecked(on)

    def show_narration(self, lesson: dict, chapter: dict | None) -> None:
        """A lesson's title and narration in the column left of the graph."""
        self.lesson_panel.show_lesson(lesson, chapter)
        self.lesson_panel.show()
        self._size_columns()

    def _size_columns(self) -> None:
        """The narration's column: wider in presentation mode (read from the back row), the graph the rest."""
        total = self.splitter.width() or self.width()
        share, least = (0.255, 340) if self.presentation else (0.2, 220)
        narration = max(int(total * share), least)
        self.splitter.setSizes([narration, max(total - narration, 100)])

    def _size_docks(self) -> None:
        """The panels' share of the window: 560 px wide and a 200 px console (room for a finding's explanation)
        at 1600x1000, less on a smaller screen (a projector's 1280x720), so the graph keeps its share."""
        self.resizeDocks([self.docks["inspector"]], [min(560, int(0.35 * self.width()))], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["console"]], [min(200, int(0.2 * self.height()))], Qt.Orientation.Vertical)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.oldSize() != event.size():
            self._size_docks()
        if self.presentation:
            self._size_columns()

    def lecture_pace(self) -> bool:
        """Presentation mode at a set speed: every new iteration replays its backward."""
        return self.presentation and self.controls.rate() is not None

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.lesson_panel.set_language(lang)
        self.diagnostics.set_language(lang)
        for code, action in self.commands.languages.items():
            action.setChecked(code == lang)

    # -- bridge slots ------------------------------------------------------------------------------
    def _on_reset(self, info: dict) -> None:
        self._optimizer_data = None
        self.graph.clear()
        self.plots.clear()
        self.console.clear()
        self.inspector.show_node(None, None)
        what = info.get("recording") or info.get("script") or ""
        self.setWindowTitle(f"Backprop Studio — {os.path.basename(what)}" if what else "Backprop Studio")

    @property
    def iteration(self) -> Iteration | None:
        """The Iteration whose graph is on screen (the view state's)."""
        return self.bridge.view.iteration

    def _on_iteration(self, it: Iteration) -> None:
        if self._said_for is not None and self._said_for != it.index:
            self.statusBar().clearMessage()  # it was about another iteration
            self._said_for = None
        if not kept_graph(it.detail):  # no graph kept: show the last one before it
            self._on_loss_only(it)
            return
        new = self.iteration is None or it.index > self.iteration.index
        self.bridge.view.iteration = it  # the views follow (_on_shown_iteration)
        if new and self.lecture_pace():
            self.graph.animate_backward(within_ms=int(800 / self.controls.rate()))

    def _on_shown_iteration(self, it: Iteration | None) -> None:
        """The view state's iteration changed: the graph, the plots' cursor, the inspector and the marks."""
        if it is None:
            return
        self.graph.set_iteration(it)
        self.plots.set_cursor(it.index)
        self._on_node_selected(self.bridge.view.selection)
        self.graph.set_marks(self.diagnostics.marks(it))

    def _on_loss_only(self, it: Iteration) -> None:
        before = self.bridge.view.last_graph(it.index)
        if before is not None and (self.iteration is None or self.iteration.index != before):
            shown = self.bridge.iteration(before)
            if shown is not None:
                self._on_iteration(shown)
        loss = self.tr("loss {loss}, ").format(loss=f"{it.loss:.6g}") if it.loss is not None else ""
        where = self.tr("the graph shown is iteration {index}").format(index=self.iteration.index) \
            if self.iteration is not None else self.tr("no earlier iteration has one")
        self._say(self.tr("iteration {index}: {loss}no graph kept (recorded by an older version); {where}")
                  .format(index=it.index, loss=loss, where=where), it.index)

    def _on_scalars(self, d: dict) -> None:
        self.plots.add_iteration(d["index"], d.get("loss"), d.get("params") or {}, bool(d.get("nonfinite")))
        self.timeline.mark(d["index"], d.get("detail", ""), d.get("signature", ""))

    def _on_history(self, rows: list, params: dict) -> None:
        self.plots.set_history(rows, params)
        self.timeline.mark_rows(rows)

    def _on_error(self, error: dict) -> None:
        self.console.show_error(error)
        self.statusBar().showMessage(f"{error.get('type')}: {error.get('message')}")

    def _on_paused(self, d: dict) -> None:
        if d.get("point") in ("optimizer_pre", "optimizer_post") and self._optimizer_data:
            self.inspector.show_optimizer(self._optimizer_data)
        elif d.get("point") == "backward_node" and self.iteration is not None and d.get("node") in self.iteration.graph:
            self.inspector.show_node(self.iteration, d["node"])  # stepped to: its gradient, just arrived

    def _on_node_grad(self, node: str, grad) -> None:
        self.graph.light_node(node, grad)
        if node == self.graph.selected_node() and self.iteration is not None:
            self.inspector.show_node(self.iteration, node)

    def set_breakpoints(self, conditions: list[str]) -> None:
        """Breakpoints for this run (sent at once) and the next ones."""
        self.breakpoints = list(conditions)
        self.bridge.set_breakpoints(self.breakpoints)
        self.statusBar().showMessage(self.tr("breakpoints: {conditions}").format(
            conditions=", ".join(self.breakpoints) or self.tr("none")))

    def _on_detail(self, detail: str) -> None:
        self.bridge.set_detail(detail)
        self.statusBar().showMessage(self.tr("detail {detail} from the next iteration on").format(detail=detail))

    def _say(self, text: str, index: int | None) -> None:
        """A status-bar message about iteration `index`: it goes when another iteration is shown."""
        self.statusBar().showMessage(text)
        self._said_for = index

    def _on_optimizer(self, d: dict) -> None:
        self._optimizer_data = d

    def _on_break(self, d: dict) -> None:
        where = d.get("source") or self.tr("source unknown")
        what = node_title(d) if d.get("op") or d.get("name") else self.tr("the loss")
        text = self.tr("breakpoint: {reason} at iteration {index}: {what} ({where})").format(
            reason=d.get("reason"), index=d.get("iteration"), what=what, where=where) + "\n"
        self.console.append("stderr", text)
        self._say(text.strip(), d.get("iteration"))
        if d.get("node"):
            self.graph.select_node(d["node"])

    def _on_finished(self, d: dict) -> None:
        status = d.get("status", "finished")
        if self.bridge.view.count == 0 and status == "finished":
            self.graph.show_placeholder(
                self.tr("This lesson builds no autograd graph: it is about tensors themselves (no backward pass "
                        "ran).\nTheir values and shapes are printed in the console below.")
                if self.lesson is not None else
                self.tr("The script finished without a backward pass: there is no autograd graph to show.\n"
                        "Its output is in the console below."))
        self.statusBar().showMessage(self.tr("script {status}").format(status=self._word(status))
                                     + (f": {d['error']['message']}" if d.get("error") else ""))

    def _on_status(self, s: dict) -> None:
        self.controls.set_state(s)
        lab = self.status_labels
        mode = s.get("mode") if s.get("mode") in ("live", "replay") else ""
        lab["state"].setText(f"{self._word(mode)} · {self._word(s.get('state'))}" if mode else self.tr("no script"))
        shown, count = s.get("iteration"), s.get("count", 0)
        if shown is not None and shown >= count:  # paused inside an iteration not recorded yet
            lab["iteration"].setText(self.tr("iteration {index} (under way)").format(index=shown))
        else:
            lab["iteration"].setText(self.tr("iteration {index} / {last}").format(
                index=shown if shown is not None else "–", last=max(count - 1, 0)) if count else self.tr("iteration –"))
        lab["phase"].setText(self.tr("phase: {phase}").format(phase=self._word(s.get("phase")) or "–"))
        lab["steps"].setText(self.tr("optimizer steps: {count}").format(count=s.get("optimizer_steps", 0)))
        lab["speed"].setText(self.tr("{rate} it/s").format(rate=f"{s.get('it_per_s', 0.0):.1f}"))

    def _word(self, word: str | None) -> str:
        """A status word (STATUS_WORDS) in the interface's language; anything else as it is."""
        return self.tr(word) if word in STATUS_WORDS else (word or "")

    def _on_follow(self, on: bool) -> None:
        view = self.bridge.view
        if on and view.count and view.shown != view.count - 1:
            self.bridge.show(view.count - 1)

    def _on_node_selected(self, box) -> None:
        it = self.iteration
        if it is not None and isinstance(box, str) and box.startswith(GROUP_PREFIX):
            self.inspector.show_module(it, box)
        else:
            self.inspector.show_node(it, box if it is not None and box in it.graph else None)

    def _on_pick_finding(self, f: dict) -> None:
        """A finding picked: its iteration and node, and the plots when a curve is its evidence."""
        show_finding(f, self.bridge, self.graph, self.inspector)
        if f.get("curve"):
            self.docks["plots"].show()
            self.docks["plots"].raise_()

    def _on_findings(self, alarm: bool) -> None:
        self.docks["diagnostics"].setWindowTitle(self.diagnostics.title())
        if alarm:  # the run's first warning or error: the panel comes to the front
            self.docks["diagnostics"].raise_()
        if self.iteration is not None:
            self.graph.set_marks(self.diagnostics.marks(self.iteration))

    def _on_layout_done(self, _count: int) -> None:
        if self.iteration is not None:
            self.sig_shown.emit(self.iteration.index)

    def _on_command(self, name: str) -> None:
        b = self.bridge
        if name == "run":
            b.run(self.controls.rate())
        elif name == "pause":
            b.pause()
        elif name == "stop":
            b.stop()
        elif name == "restart":
            b.restart()
            if self.target.get("mode") == "lesson":
                b.step("step_iteration")
            elif b.view.state == "running":
                b.run(self.controls.rate())  # at the speed chosen, not full speed
        else:
            b.step(name)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.bridge.close()
        self.graph.shutdown()
        self.diagnostics.shutdown()
        super().closeEvent(event)
