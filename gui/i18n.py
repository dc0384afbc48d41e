"""The interface language: Qt translators for `--lang zh`, and `translate` for strings outside QObjects.

Strings are wrapped with `self.tr("...")` in QObject subclasses and `translate("Context", "...")`
elsewhere; `scripts/i18n.sh` collects them into resources/i18n/*.ts (pyside6-lupdate) and compiles
the .qm files loaded here (pyside6-lrelease). Placeholders are `{name}` fields filled with .format().
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

I18N_DIR = Path(__file__).resolve().parent.parent / "resources" / "i18n"
LOCALES = {"zh": "zh_CN"}  # --lang code -> Qt locale name of the translation files

translate = QCoreApplication.translate


def qm_path(lang: str) -> Path | None:
    """Our compiled translation for `lang` (None for English, the source language)."""
    locale = LOCALES.get(lang)
    return I18N_DIR / f"backprop_studio_{locale}.qm" if locale else None


def install(app: QCoreApplication, lang: str) -> list[QTranslator]:
    """Install our translation and Qt's own (standard dialogs' buttons) for `lang`, before windows are built.

    Returns the translators installed (keep them alive; `remove` takes them out again); [] for English.
    Raises FileNotFoundError when our translation is missing (a broken install).
    """
    path = qm_path(lang)
    if path is None:
        return []
    ours = QTranslator(app)
    if not ours.load(str(path)):
        raise FileNotFoundError(f"cannot load the {lang} translation {path}")
    installed = [ours]
    qt = QTranslator(app)
    if qt.load(f"qtbase_{LOCALES[lang]}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        installed.append(qt)  # optional: a Qt build without its translations keeps English buttons
    for translator in installed:
        app.installTranslator(translator)
    return installed


def remove(app: QCoreApplication, translators: list[QTranslator]) -> None:
    for translator in translators:
        app.removeTranslator(translator)
