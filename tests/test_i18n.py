"""The interface in Chinese: every wrapped string has a finished translation in the .ts, the committed .qm
matches the .ts, and with `--lang zh` the window's menus, toolbar, docks, inspector and status bar read
in Chinese (in English without it)."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from glob import glob

import PySide6
import pytest
from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import QLabel

from backprop_studio.gui import i18n
from tests.util import ROOT

TS = os.path.join(ROOT, "resources", "i18n", "backprop_studio_zh_CN.ts")
CJK = re.compile(r"[\u4e00-\u9fff]")
FIELD = re.compile(r"\{(\w*)\}")


def messages(ts_path: str) -> dict[tuple[str, str], ET.Element]:
    """(context, source) -> the <translation> element, for every message of a .ts file."""
    out = {}
    for context in ET.parse(ts_path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            out[(name, message.findtext("source"))] = message.find("translation")
    return out


def finished(translation: ET.Element | None) -> bool:
    return translation is not None and bool((translation.text or "").strip()) \
        and translation.get("type") not in ("unfinished", "vanished", "obsolete")


def test_every_wrapped_string_has_a_finished_translation(tmp_path):
    """lupdate over gui/ now (a string wrapped since the .ts was made counts) against the committed .ts."""
    fresh = str(tmp_path / "fresh.ts")
    sources = glob(os.path.join(ROOT, "gui", "*.py")) + glob(os.path.join(ROOT, "gui", "*", "*.py"))
    lupdate = os.path.join(os.path.dirname(PySide6.__file__), "lupdate")
    done = subprocess.run([lupdate, "-silent", "-locations", "none", *sources, "-ts", fresh],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    wanted = messages(fresh)
    assert len(wanted) > 200  # the menus, toolbar, panels and status bar, not a handful
    committed = messages(TS)
    missing = [key for key in wanted if not finished(committed.get(key))]
    assert not missing, f"untranslated (run scripts/i18n.sh and translate them): {missing}"
    for (context, source), translation in committed.items():
        if finished(translation):  # the .format fields survive translation (a lost one raises KeyError)
            assert sorted(FIELD.findall(source)) == sorted(FIELD.findall(translation.text)), (context, source)


def test_the_compiled_qm_matches_the_ts(qapp):
    translator = QTranslator()
    assert translator.load(str(i18n.qm_path("zh")))
    for (context, source), translation in messages(TS).items():
        assert translator.translate(context, source) == translation.text, (context, source)


@pytest.fixture
def chinese(qapp):
    translators = i18n.install(qapp, "zh")
    yield translators
    i18n.remove(qapp, translators)


def test_install_loads_ours_first_and_nothing_for_english(chinese, qapp):
    assert i18n.install(qapp, "en") == []
    assert chinese[0].filePath() == str(i18n.qm_path("zh"))


def ui_texts(w) -> dict[str, list[str]]:
    """The texts a user sees first: menus, toolbar buttons, dock titles, the inspector, the status bar."""
    w.set_breakpoints(["nonfinite"])  # says so in the status bar
    return {
        "menus": [a.text() for a in w.menuBar().actions()],
        "menu items": [a.text() for a in w.menuBar().actions()[0].menu().actions() if not a.isSeparator()],
        "toolbar": [a.text() for a in w.controls.actions_by_name.values()],
        "docks": [d.windowTitle() for d in w.docks.values()],
        "inspector": [w.inspector.text(), w.inspector.value_button.text(), w.inspector.grad_button.text()],
        "plots": [w.plots.log_loss.text(), w.plots.loss_plot.titleLabel.text],
        "timeline": [w.timeline.label.text(), w.timeline.follow.text()],
        "status bar": [w.statusBar().currentMessage(), w.status_labels["state"].text()],
        "labels": [label.text() for label in w.controls.findChildren(QLabel)],
    }


def test_with_zh_the_window_reads_in_chinese(chinese, make_main_window):
    w = make_main_window(lang="zh")
    texts = ui_texts(w)
    for part, shown in texts.items():
        assert shown and all(CJK.search(t) for t in shown), (part, shown)
    assert "nonfinite" in texts["status bar"][0]  # a breakpoint condition stays as typed
    assert texts["menus"][0] == "文件(&F)"


def test_with_en_the_window_reads_in_english(make_main_window):
    w = make_main_window(lang="en")
    texts = ui_texts(w)
    for part, shown in texts.items():
        assert shown and not any(CJK.search(t) for t in shown), (part, shown)
    assert texts["menus"][:3] == ["&File", "&Breakpoints", "&View"]
    assert texts["docks"] == ["Inspector", "Plots", "Console", "Diagnostics"]
    assert texts["status bar"] == ["breakpoints: nonfinite", "no script"]
