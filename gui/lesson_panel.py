"""The lesson narration shown beside the graph, in English or Chinese."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

LANGUAGES = (("en", "English"), ("zh", "中文"))


class LessonPanel(QWidget):
    """Title and narration of one lesson; emits sig_language when the reader switches language."""

    sig_language = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.lesson: dict | None = None
        self.chapter: dict | None = None
        self.lang = "en"
        self.heading = QLabel(self)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.language = QComboBox(self)
        for code, name in LANGUAGES:
            self.language.addItem(name, code)
        self.language.setToolTip(self.tr("Narration language (the interface keeps the language it was "
                                         "started with: --lang)"))
        self.language.currentIndexChanged.connect(self._on_language)
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.language, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)

    def show_lesson(self, lesson: dict, chapter: dict | None) -> None:
        self.lesson, self.chapter = lesson, chapter
        self._render()

    def set_language(self, lang: str) -> None:
        """Show the narration in `lang` ("en" or "zh")."""
        self.lang = lang if lang in dict(LANGUAGES) else "en"
        self.language.blockSignals(True)
        self.language.setCurrentIndex([c for c, _ in LANGUAGES].index(self.lang))
        self.language.blockSignals(False)
        self._render()

    def narration(self) -> str:
        """The narration text shown now (plain text)."""
        return self.text.toPlainText()

    def _on_language(self, i: int) -> None:
        self.set_language(self.language.itemData(i))
        self.sig_language.emit(self.lang)

    def _render(self) -> None:
        if self.lesson is None:
            self.heading.setText("")
            self.text.setPlainText("")
            return
        title = _pick(self.lesson.get("title"), self.lang) or self.lesson.get("name", "")
        chapter = _pick((self.chapter or {}).get("title"), self.lang)
        head = f"<div style='font-size:large; font-weight:bold'>{html.escape(title)}</div>"
        if chapter:
            head = f"<div>{html.escape(chapter)}</div>" + head
        self.heading.setText(head)
        self.text.setPlainText(_pick(self.lesson.get("narration"), self.lang))


def _pick(texts, lang: str) -> str:
    """The text in `lang`, else English, else anything."""
    if isinstance(texts, str):
        return texts
    if not isinstance(texts, dict):
        return ""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")
