"""Menus (File, View, Lessons) and the graph search bar of the main window."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMenu, QToolBar

from ..core.recording import store as recording
from ..core.recording.store import Recording, RecordingError
from ..core.render import export
from .i18n import translate
from .ranks import run_distributed

if TYPE_CHECKING:
    from .main_window import MainWindow


def _action(menu: QMenu, text: str, slot, keys: str | None = None, tip: str | None = None,
            checkable: bool = False) -> QAction:
    action = QAction(text, menu)
    if keys:
        action.setShortcut(QKeySequence(keys))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


@dataclass
class Menus:
    """The menu items the window updates after building them."""

    recent: QMenu
    save: QAction
    nonfinite: QAction
    presentation: QAction
    themes: dict[str, QAction] = field(default_factory=dict)
    languages: dict[str, QAction] = field(default_factory=dict)


def build_menus(w: MainWindow) -> Menus:
    """File, Breakpoints, View and Lessons menus."""
    bar = w.menuBar()
    file = bar.addMenu(translate("MainMenus", "&File"))
    _action(file, translate("MainMenus", "Open script…"), lambda: _open_script(w), "Ctrl+O",
            translate("MainMenus", "Trace a Python training script"))
    _action(file, translate("MainMenus", "Open recording…"), lambda: _open_recording(w), "Ctrl+Shift+O",
            translate("MainMenus", "Replay a .bps recording"))
    _action(file, translate("MainMenus", "Run distributed…"), lambda: run_distributed(w), None,
            translate("MainMenus", "Trace a torchrun / DDP script as N ranks, every rank live"))
    recent = file.addMenu(translate("MainMenus", "Recent files"))
    fill_recent(w, recent)
    save = _action(file, translate("MainMenus", "Save recording as…"), lambda: _save_recording(w),
                   "Ctrl+S", translate("MainMenus", "Keep this live run's recording "
                                                    "(it is deleted when the run is closed)"))
    _action(file, translate("MainMenus", "Export…"), lambda: export_dialog(w), "Ctrl+E",
            translate("MainMenus", "Export the run: JSON, CSV of scalars, or the shown iteration's graph "
                                   "as DOT/SVG/PNG"))
    file.addSeparator()
    _action(file, translate("MainMenus", "Quit"), w.close, "Ctrl+Q")

    nonfinite = _breakpoints_menu(w, bar.addMenu(translate("MainMenus", "&Breakpoints")))
    view = bar.addMenu(translate("MainMenus", "&View"))
    presentation = _action(view, translate("MainMenus", "Presentation mode"),
                           lambda on: w.set_theme(presentation=on), "Ctrl+Shift+P",
                           translate("MainMenus", "Large fonts and high contrast for lectures"), True)
    menus = Menus(recent, save, nonfinite, presentation)
    themes = view.addMenu(translate("MainMenus", "Theme"))
    group = QActionGroup(view)
    for name, text in (("light", translate("MainMenus", "Light")), ("dark", translate("MainMenus", "Dark"))):
        a = _action(themes, text, lambda _on=False, n=name: w.set_theme(n), checkable=True)
        group.addAction(a)
        menus.themes[name] = a
    # only the narration switches here: the interface's language is chosen at start (--lang)
    langs = view.addMenu(translate("MainMenus", "Narration language"))
    langs.setToolTipsVisible(True)
    lgroup = QActionGroup(view)
    for code, name in (("en", "English"), ("zh", "中文")):
        a = _action(langs, name, lambda _on=False, c=code: w.set_language(c),
                    tip=translate("MainMenus", "The lessons' narration; the menus and panels keep the "
                                               "language the app was started with (--lang)"), checkable=True)
        lgroup.addAction(a)
        menus.languages[code] = a
    view.addSeparator()
    _action(view, translate("MainMenus", "Fit to view"), w.graph.fit, "Ctrl+0",
            translate("MainMenus", "Show the whole graph"))
    _action(view, translate("MainMenus", "Zoom in"), lambda: w.graph.zoom(1.25), "Ctrl+=")
    _action(view, translate("MainMenus", "Zoom out"), lambda: w.graph.zoom(0.8), "Ctrl+-")
    _action(view, translate("MainMenus", "Collapse all modules"), w.graph.collapse_all, "Ctrl+Shift+C",
            translate("MainMenus", "One box per module"))
    _action(view, translate("MainMenus", "Expand all modules"), w.graph.expand_all, "Ctrl+Shift+X",
            translate("MainMenus", "Every node of the graph"))
    _action(view, translate("MainMenus", "Animate backward"), w.graph.animate_backward, "Ctrl+B",
            translate("MainMenus", "Replay the shown backward pass node by node, loss first"))
    _action(view, translate("MainMenus", "Find node…"),
            lambda: (w.search_box.setFocus(), w.search_box.selectAll()), "Ctrl+F")
    view.addSeparator()
    for dock in w.docks.values():
        view.addAction(dock.toggleViewAction())

    _lessons_menu(w, bar.addMenu(translate("MainMenus", "&Lessons")))
    return menus


def _lessons_menu(w: MainWindow, lessons_menu: QMenu) -> None:
    index = w.lesson_index
    if index is None:
        lessons_menu.addAction(translate("MainMenus", "(the lesson index could not be read)")).setEnabled(False)
        return
    for chapter in index.chapters:
        sub = lessons_menu.addMenu(f"{chapter['title'].get('en', '')} / {chapter['title'].get('zh', '')}")
        for lesson in index.in_chapter(chapter["id"]):
            title = lesson.get("title", {})
            _action(sub, f"{title.get('en', lesson['name'])} — {title.get('zh', '')}",
                    lambda _on=False, n=lesson["name"]: w.open_lesson(n))


def build_search_bar(w: MainWindow) -> QLineEdit:
    """A toolbar with the node search field (Enter: next match)."""
    bar = QToolBar(translate("MainMenus", "Graph"), w)
    bar.setObjectName("graph")
    box = QLineEdit(bar)
    box.setPlaceholderText(translate("MainMenus", "Find node by name, op or module (Ctrl+F)"))
    box.setClearButtonEnabled(True)
    box.setMinimumWidth(280)
    box.setToolTip(translate("MainMenus", "Highlights matching nodes and centres on the first; "
                                          "Enter jumps to the next"))
    state = {"text": None}

    def on_enter() -> None:
        text = box.text()
        if text == state["text"]:
            w.graph.search_next()
            return
        state["text"] = text
        n = w.graph.search(text)
        w.statusBar().showMessage(translate("MainMenus", "{count} node(s) match {text}").format(count=n, text=repr(text))
                                  if text else "")

    box.returnPressed.connect(on_enter)
    bar.addWidget(box)
    for text, slot, tip in (
            (translate("MainMenus", "Fit"), w.graph.fit, translate("MainMenus", "Fit the graph to the view (Ctrl+0)")),
            (translate("MainMenus", "Collapse modules"), w.graph.collapse_all,
             translate("MainMenus", "One box per module (Ctrl+Shift+C)")),
            (translate("MainMenus", "Expand modules"), w.graph.expand_all,
             translate("MainMenus", "Show every node (Ctrl+Shift+X)"))):
        a = bar.addAction(text, slot)
        a.setToolTip(tip)
    w.addToolBar(bar)
    return box


def _breakpoints_menu(w: MainWindow, menu: QMenu) -> QAction:
    """Pause on NaN/Inf (on by default), on a loss or gradient-norm threshold; the list shows what is set."""
    nonfinite = _action(menu, translate("MainMenus", "Pause on NaN/Inf"), lambda on: _toggle(w, "nonfinite", on), "",
                        translate("MainMenus", "Pause at the end of the first backward pass with a NaN or Inf"), True)
    nonfinite.setChecked("nonfinite" in w.breakpoints)
    _action(menu, translate("MainMenus", "Pause when the loss exceeds…"),
            lambda: _threshold(w, "loss", translate("MainMenus", "Pause when the loss exceeds")))
    _action(menu, translate("MainMenus", "Pause when the gradient norm exceeds…"),
            lambda: _threshold(w, "grad_norm", translate("MainMenus", "Pause when the gradient norm exceeds")))
    _action(menu, translate("MainMenus", "Clear thresholds"),
            lambda: w.set_breakpoints([c for c in w.breakpoints if c == "nonfinite"]))
    return nonfinite


def _toggle(w: MainWindow, cond: str, on: bool) -> None:
    rest = [c for c in w.breakpoints if c != cond]
    w.set_breakpoints(([cond] if on else []) + rest)


def _threshold(w: MainWindow, what: str, title: str) -> None:
    value, ok = QInputDialog.getDouble(w, title, f"{what} >", 1e3, -1e300, 1e300, 6)
    if ok:
        w.set_breakpoints([c for c in w.breakpoints if not c.startswith(what + ">")] + [f"{what}>{value!r}"])


def fill_recent(w: MainWindow, menu: QMenu) -> None:
    menu.clear()
    entries = w.recent_files()
    if not entries:
        menu.addAction(translate("MainMenus", "(none yet)")).setEnabled(False)
    for entry in entries:
        kind, _, path = entry.partition(":")
        opener = w.open_recording if kind == "recording" else (lambda p: w.open_script(p, [], first=True))
        what = translate("MainMenus", "recording") if kind == "recording" else translate("MainMenus", "script")
        menu.addAction(f"{os.path.basename(path)}  ({what}: {path})", lambda p=path, o=opener: o(p))


def _open_script(w: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(w, translate("MainMenus", "Open a training script"), "",
                                          translate("MainMenus", "Python scripts (*.py)"))
    if path:
        w.open_script(path, [], first=True)


def _save_recording(w: MainWindow) -> None:
    session = w.bridge.session
    if session is None:
        w.statusBar().showMessage(translate("MainMenus", "no live run to save (a replayed recording is already a file)"))
        return
    path, _ = QFileDialog.getSaveFileName(w, translate("MainMenus", "Save the recording"), "run.bps",
                                          translate("MainMenus", "Backprop Studio recordings (*.bps)"))
    if path:
        save_recording(w, path)


def save_recording(w: MainWindow, path: str) -> bool:
    """Copy the live run's recording to `path` (it keeps growing in its temporary file meanwhile)."""
    try:
        recording.save_copy(w.bridge.session.record_path, path)
    except (OSError, sqlite3.Error) as e:
        w.statusBar().showMessage(translate("MainMenus", "could not save {path}: {error}").format(path=path, error=e))
        return False
    w.statusBar().showMessage(translate("MainMenus", "saved {path}").format(path=path))
    return True


def _open_recording(w: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(w, translate("MainMenus", "Open a recording"), "",
                                          translate("MainMenus", "Backprop Studio recordings (*.bps)"))
    if path:
        w.open_recording(path)


def export_dialog(w: MainWindow) -> None:
    """Ask for a file name; the extension picks the format (json, csv, dot, svg, png)."""
    if not w.bridge.record_path:
        w.statusBar().showMessage(translate("MainMenus", "nothing to export yet: open a script, a lesson or a recording"))
        return
    filters = translate("MainMenus", "JSON (*.json);;CSV of scalars (*.csv);;Graph as DOT (*.dot);;"
                                     "Graph as SVG (*.svg);;Graph as PNG (*.png)")
    path, _ = QFileDialog.getSaveFileName(w, translate("MainMenus", "Export"), "", filters)
    if path:
        export_to(w, path)


def export_to(w: MainWindow, path: str) -> bool:
    """Export the current run to `path` (format from the extension; graphs: the shown iteration)."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in export.FORMATS:
        w.statusBar().showMessage(translate("MainMenus", "unknown export format {format}: use one of {formats}")
                                  .format(format=repr(fmt), formats=", ".join(export.FORMATS)))
        return False
    try:
        rec = Recording(w.bridge.record_path)
        try:
            export.write(rec, fmt, path, w.bridge.view.shown)
        finally:
            rec.close()
    except (RecordingError, ValueError, OSError) as e:
        w.statusBar().showMessage(translate("MainMenus", "export failed: {error}").format(error=e))
        return False
    w.statusBar().showMessage(translate("MainMenus", "exported {path}").format(path=path))
    return True
