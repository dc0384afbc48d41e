"""Shared fixtures. GUI tests build the main window through `make_main_window` (napari-style)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long test (OCR of screenshots); still run by default and in CI")


@pytest.fixture
def make_main_window(qtbot, tmp_path):
    """A factory for MainWindow: settings in tmp_path, shown, and closed (child process killed) after the test."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from backprop_studio.gui.main_window import MainWindow
    from backprop_studio.gui.theme import apply_theme

    windows = []

    def make(**kwargs):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, **kwargs)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.bridge.close()
        window.close()
    apply_theme(QApplication.instance(), "light")  # the theme is app-wide: leave it as other tests expect


@pytest.fixture(scope="session")
def doctor_recordings(tmp_path_factory):
    """Every training-doctor test script (tests/doctor_cases.py) recorded once, in this process:
    case name -> recording path."""
    from tests import doctor_cases

    folder = tmp_path_factory.mktemp("doctor")
    out = {}
    for case in doctor_cases.cases():
        path = str(folder / (case.name.replace("/", "_") + ".bps"))
        assert doctor_cases.record(case, path) == 0, case.name
        out[case.name] = path
    return out
