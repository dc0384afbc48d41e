"""Shared fixtures. GUI tests build the main window through `make_main_window` (napari-style)."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long test (OCR of screenshots); still run by default and in CI")


@pytest.fixture(scope="session")
def recorded(tmp_path_factory):
    """Scripts recorded once per session (tests/util.py Recordings), shared by pytest-xdist's workers."""
    from tests.util import Recordings

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder, above gw0, gw1
    return Recordings(str(shared / "recorded"))


@pytest.fixture(scope="session")
def plain_run():
    """Scripts run as plain Python once per session in this process (tests/util.py PlainRuns)."""
    from tests.util import PlainRuns

    return PlainRuns()


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
    gc.enable()  # the windows turned it off (gui/collector.py); tests without a window keep the default
    gc.collect()  # here, on the GUI thread
    apply_theme(QApplication.instance(), "light")  # the theme is app-wide: leave it as other tests expect


@pytest.fixture(scope="session")
def doctor_recordings(recorded):
    """Every training-doctor test script (tests/doctor_cases.py) recorded once, in this process, at record's
    default detail (the lessons' recordings shared with test_lessons_oracle.py): case name -> recording path."""
    from tests import doctor_cases

    out = {}
    for case in doctor_cases.cases():
        proc, out[case.name] = recorded.run(case.script, *case.args)
        assert proc.returncode == 0, (case.name, proc.stderr[-2000:])
    return out
