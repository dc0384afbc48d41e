"""The window's commands as QActions, one job each (the window owns one `Actions`), and the menus and
the graph search bar laid out from them. File operations are gui/files.py's; the commands call the
window's public methods."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu, QMenuBar, QToolBar

from .i18n import translate
from .ranks import run_distributed

if TYPE_CHECKING:
    from .main_window import MainWindow


class Actions(QObject):
    """Every menu command of the window. Checkable ones (nonfinite, presentation, themes, languages)
    are set by the window when what they show changes."""

    def __init__(self, w: MainWindow):
        super().__init__(w)
        self.w = w
        files = w.files
        # File
        self.open_script = self._make(translate("MainMenus", "Open script…"), self._open_script, "Ctrl+O",
                                      translate("MainMenus", "Trace a Python training script"))
        self.open_recording = self._make(translate("MainMenus", "Open recording…"), self._open_recording, "Ctrl+Shift+O",
                                         translate("MainMenus", "Replay a .bps recording"))
        self.run_distributed = self._make(translate("MainMenus", "Run distributed…"), lambda: run_distributed(w), None,
                                          translate("MainMenus", "Trace a torchrun / DDP script as N ranks, every rank live"))
        self.save = self._make(translate("MainMenus", "Save recording as…"), files.ask_save, "Ctrl+S",
                               translate("MainMenus", "Keep this live run's recording (it is deleted when the run is closed)"))
        self.export = self._make(translate("MainMenus", "Export…"), files.ask_export, "Ctrl+E",
                                 translate("MainMenus", "Export the run: JSON, CSV of scalars, or the shown iteration's graph "
                                    "as DOT/SVG/PNG"))
        self.quit = self._make(translate("MainMenus", "Quit"), w.close, "Ctrl+Q")
        # Breakpoints: pause on NaN/Inf (on by default), on a loss or gradient-norm threshold
        self.nonfinite = self._make(translate("MainMenus", "Pause on NaN/Inf"), self._pause_on_nonfinite, "",
                                    translate("MainMenus", "Pause at the end of the first backward pass with a NaN or Inf"), True)
        self.nonfinite.setChecked("nonfinite" in w.breakpoints)
        self.loss_above = self._make(translate("MainMenus", "Pause when the loss exceeds…"),
                                     lambda: self._threshold("loss", translate("MainMenus", "Pause when the loss exceeds")))
        self.grad_norm_above = self._make(translate("MainMenus", "Pause when the gradient norm exceeds…"),
                                          lambda: self._threshold("grad_norm",
                                                                  translate("MainMenus", "Pause when the gradient norm exceeds")))
        self.clear_thresholds = self._make(translate("MainMenus", "Clear thresholds"),
                                           lambda: w.set_breakpoints([c for c in w.breakpoints if c == "nonfinite"]))
        # View
        self.presentation = self._make(translate("MainMenus", "Presentation mode"), lambda on: w.set_theme(presentation=on),
                                       "Ctrl+Shift+P", translate("MainMenus", "Large fonts and high contrast for lectures"), True)
        self.panels = self._make(translate("MainMenus", "Panels"), w.show_panels, "F9",
                                 translate("MainMenus", "Show or hide the inspector, plots, console and diagnostics "
                                                        "(presentation mode hides them)"), True)
        self.panels.setChecked(True)
        self.themes = {name: self._make(text, lambda _on=False, n=name: w.set_theme(n), checkable=True)
                       for name, text in (("light", translate("MainMenus", "Light")), ("dark", translate("MainMenus", "Dark")))}
        # only the narration switches here: the interface's language is chosen at start (--lang)
        self.languages = {code: self._make(name, lambda _on=False, c=code: w.set_language(c),
                                           tip=translate("MainMenus", "The lessons' narration; the menus and panels keep the "
                                                  "language the app was started with (--lang)"), checkable=True)
                          for code, name in (("en", "English"), ("zh", "中文"))}
        for group in (self.themes, self.languages):
            exclusive = QActionGroup(self)
            for action in group.values():
                exclusive.addAction(action)
        g = w.graph
        self.fit = self._make(translate("MainMenus", "Fit to view"), g.fit, "Ctrl+0", translate("MainMenus", "Show the whole graph"))
        self.zoom_in = self._make(translate("MainMenus", "Zoom in"), lambda: g.zoom(1.25), "Ctrl+=")
        self.zoom_out = self._make(translate("MainMenus", "Zoom out"), lambda: g.zoom(0.8), "Ctrl+-")
        self.collapse = self._make(translate("MainMenus", "Collapse all modules"), g.collapse_all, "Ctrl+Shift+C",
                                   translate("MainMenus", "One box per module"))
        self.expand = self._make(translate("MainMenus", "Expand all modules"), g.expand_all, "Ctrl+Shift+X",
                                 translate("MainMenus", "Every node of the graph"))
        self.animate = self._make(translate("MainMenus", "Animate backward"), g.animate_backward, "Ctrl+B",
                                  translate("MainMenus", "Replay the shown backward pass node by node, loss first"))
        self.find = self._make(translate("MainMenus", "Find node…"), self._find, "Ctrl+F")
        # Lessons
        self.lessons: dict[str, QAction] = {}
        for lesson in w.lesson_index.lessons if w.lesson_index is not None else ():
            title = lesson.get("title", {})
            self.lessons[lesson["name"]] = self._make(f"{title.get('en', lesson['name'])} — {title.get('zh', '')}",
                                                      lambda _on=False, n=lesson["name"]: w.open_lesson(n))
        self.search_box: QLineEdit | None = None  # made by build_search_bar
        self.recent_menu: QMenu | None = None  # made by build_menus

    def _make(self, text: str, slot, keys: str | None = None, tip: str | None = None,
              checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    # -- the commands that are more than one call ------------------------------------------------
    def _open_script(self) -> None:
        path = self.w.files.ask_script()
        if path:
            self.w.open_script(path, [], first=True)

    def _open_recording(self) -> None:
        path = self.w.files.ask_recording()
        if path:
            self.w.open_recording(path)

    def _pause_on_nonfinite(self, on: bool) -> None:
        rest = [c for c in self.w.breakpoints if c != "nonfinite"]
        self.w.set_breakpoints((["nonfinite"] if on else []) + rest)

    def _threshold(self, what: str, title: str) -> None:
        value, ok = QInputDialog.getDouble(self.w, title, f"{what} >", 1e3, -1e300, 1e300, 6)
        if ok:
            self.w.set_breakpoints([c for c in self.w.breakpoints if not c.startswith(what + ">")]
                                   + [f"{what}>{value!r}"])

    def _find(self) -> None:
        if self.search_box is not None:
            self.search_box.parentWidget().show()  # hidden in presentation mode
            self.search_box.setFocus()
            self.search_box.selectAll()

    def fill_recent(self) -> None:
        """The File menu's recent files, from gui/files.py's list."""
        menu = self.recent_menu
        if menu is None:
            return
        menu.clear()
        entries = self.w.files.recent()
        if not entries:
            menu.addAction(translate("MainMenus", "(none yet)")).setEnabled(False)
        for entry in entries:
            kind, _, path = entry.partition(":")
            opener = self.w.open_recording if kind == "recording" else (lambda p: self.w.open_script(p, [], first=True))
            what = translate("MainMenus", "recording") if kind == "recording" else translate("MainMenus", "script")
            menu.addAction(f"{os.path.basename(path)}  ({what}: {path})", lambda p=path, o=opener: o(p))


def build_menus(bar: QMenuBar, a: Actions, docks: dict) -> None:
    """File, Breakpoints, View and Lessons menus, laid out from the window's actions."""
    file = bar.addMenu(translate("MainMenus", "&File"))
    file.addActions([a.open_script, a.open_recording, a.run_distributed])
    a.recent_menu = file.addMenu(translate("MainMenus", "Recent files"))
    a.fill_recent()
    file.addActions([a.save, a.export])
    file.addSeparator()
    file.addAction(a.quit)
    bar.addMenu(translate("MainMenus", "&Breakpoints")).addActions([a.nonfinite, a.loss_above, a.grad_norm_above, a.clear_thresholds])
    view = bar.addMenu(translate("MainMenus", "&View"))
    view.addActions([a.presentation, a.panels])
    view.addMenu(translate("MainMenus", "Theme")).addActions(list(a.themes.values()))
    langs = view.addMenu(translate("MainMenus", "Narration language"))
    langs.setToolTipsVisible(True)
    langs.addActions(list(a.languages.values()))
    view.addSeparator()
    view.addActions([a.fit, a.zoom_in, a.zoom_out, a.collapse, a.expand, a.animate, a.find])
    view.addSeparator()
    view.addActions([dock.toggleViewAction() for dock in docks.values()])
    lessons = bar.addMenu(translate("MainMenus", "&Lessons"))
    index = a.w.lesson_index
    if index is None:
        lessons.addAction(translate("MainMenus", "(the lesson index could not be read)")).setEnabled(False)
        return
    for chapter in index.chapters:
        sub = lessons.addMenu(f"{chapter['title'].get('en', '')} / {chapter['title'].get('zh', '')}")
        sub.addActions([a.lessons[lesson["name"]] for lesson in index.in_chapter(chapter["id"])])


def build_search_bar(w: MainWindow, a: Actions) -> QLineEdit:
    """A toolbar with the node search field (Enter: next match) and the fit/collapse/expand commands."""
    bar = QToolBar(translate("MainMenus", "Graph"), w)
    bar.setObjectName("graph")
    box = QLineEdit(bar)
    box.setPlaceholderText(translate("MainMenus", "Find node by name, op or module (Ctrl+F)"))
    box.setClearButtonEnabled(True)
    box.setMinimumWidth(280)
    box.setToolTip(translate("MainMenus", "Highlights matching nodes and centres on the first; Enter jumps to the next"))
    state = {"text": None}

    def on_enter() -> None:
        text = box.text()
        if text == state["text"]:
            w.graph.search_next()
            return
        state["text"] = text
        n = w.graph.search(text)
        w.statusBar().showMessage(translate("MainMenus", "{count} node(s) match {text}").format(count=n, text=repr(text)) if text else "")

    box.returnPressed.connect(on_enter)
    bar.addWidget(box)
    for text, action, tip in ((translate("MainMenus", "Fit"), a.fit, translate("MainMenus", "Fit the graph to the view (Ctrl+0)")),
                              (translate("MainMenus", "Collapse modules"), a.collapse, translate("MainMenus", "One box per module (Ctrl+Shift+C)")),
                              (translate("MainMenus", "Expand modules"), a.expand, translate("MainMenus", "Show every node (Ctrl+Shift+X)"))):
        button = bar.addAction(text, action.trigger)
        button.setToolTip(tip)
    w.addToolBar(bar)
    a.search_box = box
    return box
