"""The window's file operations: the open dialogs, saving a live run's recording, exports, recent files."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.recording import store as recording
from ..core.recording.store import Recording, RecordingError
from ..core.render import export
from .i18n import translate

RECENT_MAX = 10


class Files:
    """File operations for one window: `say` puts their outcome in its status bar."""

    def __init__(self, parent: QWidget, bridge, settings: QSettings, say: Callable[[str], None]):
        self.parent, self.bridge, self.settings, self.say = parent, bridge, settings, say

    # -- dialogs ---------------------------------------------------------------------------------
    def ask_script(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, translate("MainMenus", "Open a training script"), "",
                                              translate("MainMenus", "Python scripts (*.py)"))
        return path or None

    def ask_recording(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, translate("MainMenus", "Open a recording"), "",
                                              translate("MainMenus", "Backprop Studio recordings (*.bps)"))
        return path or None

    def ask_save(self) -> None:
        """Ask where to keep the live run's recording, and copy it there."""
        if self.bridge.session is None:
            self.say(translate("MainMenus", "no live run to save (a replayed recording is already a file)"))
            return
        path, _ = QFileDialog.getSaveFileName(self.parent, translate("MainMenus", "Save the recording"), "run.bps",
                                              translate("MainMenus", "Backprop Studio recordings (*.bps)"))
        if path:
            self.save(path)

    def ask_export(self) -> None:
        """Ask for a file name; the extension picks the format (json, csv, dot, svg, png)."""
        if not self.bridge.record_path:
            self.say(translate("MainMenus", "nothing to export yet: open a script, a lesson or a recording"))
            return
        filters = translate("MainMenus", "JSON (*.json);;CSV of scalars (*.csv);;Graph as DOT (*.dot);;"
                                         "Graph as SVG (*.svg);;Graph as PNG (*.png)")
        path, _ = QFileDialog.getSaveFileName(self.parent, translate("MainMenus", "Export"), "", filters)
        if path:
            self.export_to(path)

    # -- the operations ----------------------------------------------------------------------------
    def save(self, path: str) -> bool:
        """Copy the live run's recording to `path` (it keeps growing in its temporary file meanwhile)."""
        try:
            recording.save_copy(self.bridge.session.record_path, path)
        except (OSError, sqlite3.Error) as e:
            self.say(translate("MainMenus", "could not save {path}: {error}").format(path=path, error=e))
            return False
        self.say(translate("MainMenus", "saved {path}").format(path=path))
        return True

    def export_to(self, path: str) -> bool:
        """Export the current run to `path` (format from the extension; graphs: the shown iteration)."""
        fmt = os.path.splitext(path)[1].lstrip(".").lower()
        if fmt not in export.FORMATS:
            self.say(translate("MainMenus", "unknown export format {format}: use one of {formats}")
                     .format(format=repr(fmt), formats=", ".join(export.FORMATS)))
            return False
        try:
            rec = Recording(self.bridge.record_path)
            try:
                export.write(rec, fmt, path, self.bridge.view.shown)
            finally:
                rec.close()
        except (RecordingError, ValueError, OSError) as e:
            self.say(translate("MainMenus", "export failed: {error}").format(error=e))
            return False
        self.say(translate("MainMenus", "exported {path}").format(path=path))
        return True

    # -- recent files ------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        """"script:PATH" / "recording:PATH" entries, newest first."""
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember(self, kind: str, path: str) -> None:
        entry = f"{kind}:{os.path.abspath(path)}"
        self.settings.setValue("recent", [entry, *[e for e in self.recent() if e != entry]][:RECENT_MAX])
