"""The Diagnostics panel: the training doctor's findings in the app, replayed and live; picking one shows
its iteration, its node in the graph and the inspector, and its explanation (English or Chinese)."""

from __future__ import annotations

import os

import networkx as nx
import pytest
from PySide6.QtCore import Qt

from backprop_studio.core.doctor import rules as doctor_rules
from backprop_studio.core.doctor.text import explain
from backprop_studio.gui import i18n
from backprop_studio.gui.diagnostics import finding_nodes
from backprop_studio.gui.inspector.tables import fmt_shape
from tests.util import ROOT, write_script

SCRIPTS = os.path.join(ROOT, "tests", "scripts", "doctor", "tuned")


@pytest.fixture
def recordings(recorded):
    """Buggy scripts (zero_grad forgotten, a broadcast loss, a tiny learning rate) and a correct one
    (deliberate accumulation), recorded once per session (test_doctor.py reads the same recordings)."""
    names = ("no_zero_grad", "ok_accumulation", "broadcast_mse", "lr_tiny")
    return {name: recorded.run(os.path.join(SCRIPTS, f"{name}.py"))[1] for name in names}


def replay(make_main_window, qtbot, path, **kwargs):
    w = make_main_window(**kwargs)
    assert w.open_recording(path)
    qtbot.waitUntil(lambda: w.diagnostics.checked is not None and not w.graph.busy, timeout=60_000)
    return w


def click_row(qtbot, tree, row: int) -> None:
    rect = tree.visualItemRect(tree.topLevelItem(row))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_replayed_buggy_run_lists_its_finding_and_clicking_it_shows_iteration_node_and_inspector(
        make_main_window, qtbot, recordings):
    w = replay(make_main_window, qtbot, recordings["no_zero_grad"])
    panel = w.diagnostics
    codes = [f["code"] for f in panel.findings]
    assert "grad-accumulates" in codes
    row = codes.index("grad-accumulates")
    f = panel.findings[row]
    item = panel.tree.topLevelItem(row)
    assert [item.text(c) for c in range(5)] == [f["level"], f["code"], str(f["iteration"]), f["subject"],
                                                f["message"]]
    assert w.docks["diagnostics"].windowTitle() == "Diagnostics (1)"
    assert w.bridge.view.shown != f["iteration"]  # a replay opens on its last iteration
    click_row(qtbot, panel.tree, row)
    qtbot.waitUntil(lambda: not w.graph.busy, timeout=10_000)
    assert w.bridge.view.shown == f["iteration"] and w.iteration.index == f["iteration"]
    assert w.timeline.slider.value() == f["iteration"]
    node = w.graph.selected_node()
    attrs = w.iteration.graph.nodes[node]
    assert attrs["op"] == "AccumulateGrad" and attrs["name"] == f["subject"]
    assert w.inspector.node_id == node and f["subject"] in w.inspector.title.text()
    assert w.graph.items[node].flag == "error"  # the graph marks the parameter the finding names
    assert sum(item.flag is not None for item in w.graph.items.values()) == 1
    text = panel.text.toPlainText()
    assert f["message"] in text and f["hint"] in text and explain("grad-accumulates", "en") in text


def test_one_click_shows_a_broadcast_finding_s_node_with_its_shapes(make_main_window, qtbot, recordings):
    w = replay(make_main_window, qtbot, recordings["broadcast_mse"])
    panel = w.diagnostics
    row = [f["code"] for f in panel.findings].index("broadcast")
    f = panel.findings[row]
    click_row(qtbot, panel.tree, row)
    qtbot.waitUntil(lambda: not w.graph.busy, timeout=10_000)
    node = w.graph.selected_node()
    assert node == f["node"]["id"] and w.iteration.graph.nodes[node]["op"] == "ExpandBackward0"
    assert w.inspector.node_id == node
    info = w.inspector.info.text()
    assert fmt_shape([32, 32]) in info and "AddmmBackward0" in info  # the result, and the (32, 1) operand feeding it
    assert w.iteration.graph.nodes[next(w.iteration.graph.predecessors(node))]["shape"] == [32, 1]
    assert w.graph.items[node].flag == "warning"
    assert "operand shape: [32, 1]; result shape: [32, 32]" in panel.text.toPlainText()  # the evidence


def test_one_click_on_a_finding_about_a_curve_brings_the_plots_forward(make_main_window, qtbot, recordings):
    w = replay(make_main_window, qtbot, recordings["lr_tiny"])
    panel = w.diagnostics
    w.docks["diagnostics"].raise_()
    row = [f["code"] for f in panel.findings].index("lr-too-small")
    f = panel.findings[row]
    assert f["curve"] == "update_ratio"
    w.tabifyDockWidget(w.docks["plots"], w.docks["inspector"])
    w.docks["inspector"].raise_()
    assert w.docks["plots"].visibleRegion().isEmpty()  # hidden behind the inspector's tab
    click_row(qtbot, panel.tree, row)
    qtbot.waitUntil(lambda: not w.docks["plots"].visibleRegion().isEmpty(), timeout=5_000)
    assert w.bridge.view.shown == f["iteration"] and w.graph.selected_node() == "n0"  # the loss
    assert "largest update ratio" in panel.text.toPlainText()


def test_the_explanation_is_in_chinese_with_lang_zh(make_main_window, qtbot, qapp, recordings):
    translators = i18n.install(qapp, "zh")
    try:
        w = replay(make_main_window, qtbot, recordings["no_zero_grad"], lang="zh")
        text = w.diagnostics.text.toPlainText()
        assert explain("grad-accumulates", "zh") in text and "修正" in text
        assert w.docks["diagnostics"].windowTitle() == "诊断 (1)"
        assert w.diagnostics.tree.topLevelItem(0).text(0) == "错误"
        w.set_language("en")  # the language menu switches the explanation too
        assert explain("grad-accumulates", "en") in w.diagnostics.text.toPlainText()
    finally:
        i18n.remove(qapp, translators)


def test_a_correct_script_gets_no_warning_or_error(make_main_window, qtbot, recordings):
    w = replay(make_main_window, qtbot, recordings["ok_accumulation"])
    assert not [f for f in w.diagnostics.findings if f["level"] != "info"]
    assert w.diagnostics.status.text() == f"No problems found in {w.bridge.view.count} iterations."
    assert w.docks["diagnostics"].windowTitle() == "Diagnostics"
    assert not any(item.flag for item in w.graph.items.values())


def test_a_live_run_gets_its_finding_while_it_runs(make_main_window, qtbot, tmp_path):
    script = write_script(tmp_path, """
        import time, torch
        from torch import nn
        torch.manual_seed(0)
        model = nn.Linear(3, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
        x, y = torch.randn(16, 3), torch.randn(16, 1)
        for i in range(100_000):  # runs until the window closes
            nn.functional.mse_loss(model(x), y).backward()  # no zero_grad: the gradients pile up
            optimizer.step()
            time.sleep(0.02)
    """)
    w = make_main_window()
    assert w.open_script(script, [])
    qtbot.waitUntil(lambda: any(f["code"] == "grad-accumulates" for f in w.diagnostics.findings), timeout=120_000)
    assert w.bridge.session.finished is None and w.bridge.view.state == "running"
    assert w.docks["diagnostics"].windowTitle() == "Diagnostics (1)"
    tree = w.diagnostics.tree
    before = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    checked = w.diagnostics.checked
    qtbot.waitUntil(lambda: w.diagnostics.checked > checked, timeout=60_000)  # diagnosed again as it grows
    after = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert after[:len(before)] == before  # rows kept (a run that goes on may add a new finding after them)
    assert [f["code"] for f in w.diagnostics.findings].count("grad-accumulates") == 1  # no duplicate


def test_finding_nodes_follows_the_structured_reference():
    g = nx.DiGraph()
    g.add_node("n0", op="NllLossBackward0", kind="op")
    g.add_node("n1", op="SoftmaxBackward0", kind="op", module="head", source="train.py:12")
    g.add_node("n2", op="LogSoftmaxBackward0", kind="op", source="train.py:14")
    g.add_node("n3", op="AccumulateGrad", kind="param", name="head.weight")
    g.add_edges_from([("n3", "n1"), ("n1", "n2"), ("n2", "n0")])
    assert finding_nodes(g, doctor_rules.param_ref("head.weight")) == ["n3"]
    assert finding_nodes(g, doctor_rules.node_ref(g, "n1")) == ["n1"]
    assert finding_nodes(g, doctor_rules.LOSS) == ["n0"]
    moved = {**doctor_rules.node_ref(g, "n2"), "id": "n9"}  # another structure: found by what names it
    assert finding_nodes(g, moved) == ["n2"]
    stale = {**doctor_rules.node_ref(g, "n1"), "id": "n2"}  # that id is another node here
    assert finding_nodes(g, stale) == ["n1"]
    assert finding_nodes(g, None) == [] and finding_nodes(g, doctor_rules.param_ref("other.bias")) == []


def test_the_doctor_reads_only_what_a_growing_recording_added(recordings):
    from backprop_studio.core.doctor import diagnose as doctor
    from backprop_studio.core.recording.store import Recording

    rec = Recording(recordings["no_zero_grad"])
    try:
        run = doctor.add(doctor.Run(), [rec.iteration(i) for i in rec.indices()[:2]])  # read while it was short
        assert doctor.diagnose_recording(rec, run) == doctor.diagnose_recording(rec)
        assert [s["index"] for s in run.steps] == rec.indices()  # each iteration once
        assert doctor.diagnose_recording(rec, run) == doctor.diagnose_recording(rec)
        assert len(run.steps) == len(rec.indices())
    finally:
        rec.close()


def test_finding_levels_have_their_own_colours_in_both_themes():
    from backprop_studio.gui.theme import node_colours

    for theme in ("light", "dark"):
        colours = node_colours(theme)
        levels = {colours[level].name() for level in ("info", "warning", "error")}
        assert len(levels) == 3 and not levels & {colours[k].name() for k in ("nonfinite", "origin", "added")}
    assert node_colours("light")["error"] != node_colours("dark")["error"]
