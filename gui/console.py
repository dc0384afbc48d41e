"""The console pane: the script's stdout/stderr and errors, bounded and flood-proof."""

from __future__ import annotations

import linecache
import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from .theme import mono_font

MAX_LINES = 20_000  # lines kept in the widget; older ones scroll away
MAX_PENDING_CHARS = 4_000_000  # bounds a flood of output without newlines
FLUSH_MS = 33  # appends are batched and inserted at most ~30 times a second
MAX_FLUSH_MS = 1500
STDERR_COLOUR = QColor("#d0202a")
ERROR_COLOUR = QColor("#e0002a")


class ConsoleView(QWidget):
    """Read-only monospace console. `append` is cheap: text is queued and inserted in batches."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES):
        super().__init__(parent)
        self.max_lines = max_lines
        self.edit = QPlainTextEdit(self)
        self.edit.setReadOnly(True)
        self.edit.setUndoRedoEnabled(False)
        self.edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.edit.setMaximumBlockCount(max_lines)
        self.edit.setPlaceholderText(self.tr("Script output appears here."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self._queue = _OutputQueue(max_lines)
        self.last_error: dict | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._on_flush)
        self._apply_font()

    def append(self, stream: str, text: str) -> None:
        """Queue `text` from `stream` ("stdout" or "stderr"; stderr is shown in red)."""
        if text:
            queue = self._queue
            queue.add(stream, text)
            if not queue.scheduled:  # a plain flag: QTimer.isActive() costs more than the append
                queue.scheduled = True
                self._timer.start()

    def show_error(self, error: dict) -> None:
        """Show an error event ({type, message, file, line}) with `file:line` and the failing line."""
        self.flush()
        error = error if isinstance(error, dict) else {"type": "Error", "message": str(error)}
        self.last_error = error
        kind = str(error.get("type") or "Error")
        message = str(error.get("message") or "")
        file, line = error.get("file"), error.get("line")
        cursor = self._end_cursor()
        if not self.edit.document().isEmpty() and not self.edit.toPlainText().endswith("\n"):
            cursor.insertText("\n")
        cursor.insertText(f"{kind}: ", self._format(ERROR_COLOUR, bold=True))
        cursor.insertText(message + "\n", self._format(ERROR_COLOUR))
        if file:
            where = f"{file}:{line}" if line else str(file)
            cursor.insertText(self.tr("  at "), self._format(None))
            cursor.insertText(where, self._location_format())
            cursor.insertText("\n", self._format(None))
            source = _source_line(str(file), line)
            if source:
                cursor.insertText(f"  {line:>5} | {source}\n", self._format(None, bold=True))
        self._scroll_to_end()

    def clear(self) -> None:
        """Remove all text, pending output and the last error."""
        self._timer.stop()
        self._queue = _OutputQueue(self.max_lines)
        self.last_error = None
        self.edit.clear()

    def text(self) -> str:
        """Everything shown (pending output flushed first)."""
        self.flush()
        return self.edit.toPlainText()

    def line_count(self) -> int:
        """Lines (blocks) currently held by the widget."""
        return self.edit.document().blockCount()

    def flush(self) -> None:
        """Insert pending output now."""
        self._timer.stop()
        self._on_flush()

    def _on_flush(self) -> None:
        queue = self._queue
        if not queue.chunks and not queue.skipped:
            return
        started = time.perf_counter()
        bar = self.edit.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        if queue.lines >= self.max_lines:
            queue.keep_newest(self.max_lines)
            self.edit.clear()  # every old line would scroll away; clearing beats trimming them one by one
        cursor = self._end_cursor()
        cursor.beginEditBlock()
        if queue.skipped:
            cursor.insertText(self.tr("[... {count} lines skipped (output too fast) ...]").format(count=queue.skipped)
                              + "\n",
                              self._format(QColor("#888888"), italic=True))
        for stream, chunks in queue.chunks:
            _insert(cursor, "".join(chunks), self._format(STDERR_COLOUR if stream == "stderr" else None))
        cursor.endEditBlock()
        self._queue = _OutputQueue(self.max_lines)
        if at_end:
            self._scroll_to_end()
        # Under a flood, flush less often so inserting text takes at most ~1/8 of the UI thread.
        spent_ms = (time.perf_counter() - started) * 1000
        self._timer.setInterval(int(min(MAX_FLUSH_MS, max(FLUSH_MS, 8 * spent_ms))))

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.edit.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _scroll_to_end(self) -> None:
        bar = self.edit.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _format(self, colour: QColor | None, bold: bool = False, italic: bool = False) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(colour if colour is not None else self.palette().color(QPalette.ColorRole.Text))
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setFontItalic(italic)
        return fmt

    def _location_format(self) -> QTextCharFormat:
        fmt = self._format(self.palette().color(QPalette.ColorRole.Link), bold=True)
        fmt.setFontUnderline(True)
        fmt.setBackground(QColor(255, 208, 0, 70))
        return fmt

    def _apply_font(self) -> None:
        self.edit.setFont(mono_font())

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() in (event.Type.FontChange, event.Type.ApplicationFontChange):
            self._apply_font()
        super().changeEvent(event)


class _OutputQueue:
    """Output waiting to be inserted, bounded to about 2 * max_lines lines (a plain object: cheap to update)."""

    def __init__(self, max_lines: int):
        self.max_lines = max_lines
        self.chunks: list[tuple[str, list[str]]] = []  # (stream, texts), oldest first
        self.lines = 0
        self.chars = 0
        self.skipped = 0
        self.scheduled = False

    def add(self, stream: str, text: str) -> None:
        stream = "stderr" if stream == "stderr" else "stdout"
        if self.chunks and self.chunks[-1][0] == stream:
            self.chunks[-1][1].append(text)
        else:
            self.chunks.append((stream, [text]))
        self.lines += text.count("\n")
        self.chars += len(text)
        if self.lines > 2 * self.max_lines or self.chars > 2 * MAX_PENDING_CHARS:
            self.keep_newest(self.max_lines)

    def keep_newest(self, max_lines: int) -> None:
        """Drop all but the newest `max_lines` lines (and MAX_PENDING_CHARS characters), counting the rest."""
        keep: list[tuple[str, list[str]]] = []
        room, chars = max_lines, MAX_PENDING_CHARS
        for stream, texts in reversed(self.chunks):
            text = "".join(texts)
            if room <= 0 or chars <= 0:
                self.skipped += text.count("\n")
                continue
            if text.count("\n") > room or len(text) > chars:
                lines = text.splitlines(keepends=True)
                kept = lines[-room:]
                text = "".join(kept)[-chars:]
                self.skipped += len(lines) - len(kept)
            keep.append((stream, [text]))
            room -= text.count("\n")
            chars -= len(text)
        self.chunks = keep[::-1]
        self.lines = max_lines - max(room, 0)
        self.chars = MAX_PENDING_CHARS - max(chars, 0)


def _source_line(file: str, line) -> str:
    """The text of file:line when the file is readable here, else ''."""
    try:
        number = int(line)
    except (TypeError, ValueError):
        return ""
    if number <= 0 or not os.path.isfile(file):
        return ""
    return linecache.getline(file, number).rstrip()


def _insert(cursor: QTextCursor, text: str, fmt: QTextCharFormat) -> None:
    """Insert at the end, honouring a bare carriage return (progress bars) by rewriting the line."""
    if "\r" not in text:
        cursor.insertText(text, fmt)
        return
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "\r" in line:
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            line = line.rsplit("\r", 1)[1]
        cursor.insertText(line + ("\n" if i < len(lines) - 1 else ""), fmt)
