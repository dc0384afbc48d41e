"""The main window driven with pytest-qt (offscreen): lessons live, recordings replayed, timeline, stepping.

What the window displays is compared with plain PyTorch running the same computation.
"""

from __future__ import annotations

import json
import os
import runpy

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage

from backprop_studio.core import lessons
from backprop_studio.core.recording.store import Recording
from tests.util import LESSONS, cli, loss_only_recording, write_script

BASICS = os.path.join(LESSONS, "autograd_basics.py")
WAIT = 60_000  # ms: a child process imports torch first

DEPTHS = """
import torch
torch.manual_seed(0)
w = torch.randn(4, 4, requires_grad=True)
x = torch.randn(3, 4)
for i in range(6):
    h = x
    for _ in range(1 + i % 3):  # depth 1, 2, 3, 1, 2, 3: the graph changes every iteration
        h = torch.tanh(h @ w)
    loss = h.pow(2).sum()
    loss.backward()
    print("loss", i, loss.item())
    with torch.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
"""


def basics_oracle() -> dict:
    """The autograd-basics numbers in plain torch: name -> (value, grad) of each tensor."""
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    for t in (y, z, out):
        t.retain_grad()
    out.backward()
    return {"x": x, "y": y, "z": z, "out": out}


def depth_losses(script: str) -> list[float]:
    """The losses the DEPTHS script computes, run in plain torch in this process."""
    seen: list[float] = []
    real = torch.Tensor.backward

    def spy(self, *a, **k):
        seen.append(self.item())
        return real(self, *a, **k)

    torch.Tensor.backward = spy
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        torch.Tensor.backward = real
    return seen


def item_named(window, head: str):
    hits = [i for i in window.graph.items.values() if i.head == head]
    assert len(hits) == 1, [i.head for i in window.graph.items.values()]
    return hits[0]


def shown(window, index: int | None = None, grads: bool = True) -> bool:
    """The window shows an iteration (index `index`) drawn completely, with gradients if asked."""
    it = window.iteration
    if it is None or window.graph.busy or window.graph.iteration is not it or window.bridge.view.state == "running":
        return False
    if index is not None and it.index != index:
        return False
    return not grads or any(a.get("grad") for _, a in it.graph.nodes(data=True))


@pytest.fixture(scope="module")
def basics_bps(tmp_path_factory):
    """autograd-basics recorded through the CLI in a subprocess."""
    out = tmp_path_factory.mktemp("rec") / "basics.bps"
    proc = cli("record", "--detail", "full", "-o", str(out), BASICS)
    assert proc.returncode == 0, proc.stderr
    return str(out)


@pytest.fixture(scope="module")
def depths(tmp_path_factory):
    """The DEPTHS script, its recording, and its losses in plain torch."""
    folder = tmp_path_factory.mktemp("depths")
    script = write_script(folder, DEPTHS)
    bps = str(folder / "depths.bps")
    proc = cli("record", "--detail", "full", "-o", bps, script)
    assert proc.returncode == 0, proc.stderr
    return {"script": script, "bps": bps, "losses": depth_losses(script)}


def check_basics_on_screen(window) -> None:
    ref = basics_oracle()
    assert len(window.graph.items) == 5
    x = item_named(window, "x")
    lines = x.text_lines()
    assert lines[0] == "x" and x.kind == "leaf"
    assert f"val {ref['x'][0, 0].item():.4g}" in lines  # "val 1"
    assert f"grad {ref['x'].grad[0, 0].item():.4g}" in lines  # "grad 4.5"
    assert "grad 4.5" in lines
    y = item_named(window, "AddBackward0")
    assert "= y" in y.text_lines() and f"val {ref['y'][0, 0].item():.4g}" in y.text_lines()
    xs, ys = window.plots.loss.data()
    assert list(xs) == [0] and list(ys) == [ref["out"].item()] == [27.0]


def test_lesson_live_shows_autograd_basics(make_main_window, qtbot):
    w = make_main_window()
    assert w.open_lesson("autograd_basics")
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    check_basics_on_screen(w)
    assert w.lesson_panel.isVisible() and "4.5" in w.lesson_panel.narration()
    assert w.bridge.view.mode == "live" and w.bridge.view.state == "paused"
    assert "iteration 0" in w.status_labels["iteration"].text()


def test_select_node_shows_it_in_the_inspector(make_main_window, qtbot, basics_bps):
    w = make_main_window()
    assert w.open_recording(basics_bps)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    x = item_named(w, "x")
    pos = w.graph.mapFromScene(x.sceneBoundingRect().center())
    qtbot.mouseClick(w.graph.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert w.graph.selected_node() == x.box_id
    text = w.inspector.text()
    ref = basics_oracle()["x"]
    assert "x" in text and "leaf" in text
    assert f"{ref.grad.norm().item():.4g}" in text  # ‖x.grad‖ = 9
    assert "4.5" in text
    rect = w.graph.viewport().rect().adjusted(3, 3, -3, -3)  # QPoint(0, 0) would mean "the centre" to QTest
    empty = next(p for p in (rect.topLeft(), rect.bottomLeft(), rect.bottomRight(), rect.topRight())
                 if w.graph.itemAt(p) is None)
    qtbot.mouseClick(w.graph.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    assert w.graph.selected_node() is None


def test_replay_recording(make_main_window, qtbot, basics_bps):
    w = make_main_window()
    assert w.open_recording(basics_bps)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    check_basics_on_screen(w)
    assert "4.5000" in w.console.text()  # the script's own print of x.grad
    assert w.bridge.view.mode == "replay" and w.timeline.count == 1
    assert basics_bps in w.files.recent()[0]


def test_scrub_timeline_of_a_recording_shows_each_iteration(make_main_window, qtbot, depths):
    w = make_main_window()
    assert w.open_recording(depths["bps"])
    qtbot.waitUntil(lambda: shown(w, 5), timeout=WAIT)
    rec = Recording(depths["bps"])
    assert w.timeline.count == 6
    xs, ys = w.plots.loss.data()
    assert list(xs) == list(range(6))
    assert ys == pytest.approx(depths["losses"], rel=1e-6)
    for index in (0, 1, 4):
        w.timeline.slider.setValue(index)  # what dragging the slider does
        qtbot.waitUntil(lambda i=index: shown(w, i), timeout=WAIT)
        assert w.iteration.loss == pytest.approx(depths["losses"][index], rel=1e-6)
        assert len(w.graph.items) == rec.iteration(index).graph.number_of_nodes()
    # depth 1 (iteration 0) -> depth 2 (iteration 1) -> depth 2 again (4 follows 3 = depth 1)
    tanh = [i for i in w.graph.items.values() if i.head == "TanhBackward0"]
    assert len(tanh) == 2
    new = sorted(i.head for i in w.graph.items.values() if i.added)
    assert new == ["MmBackward0", "TanhBackward0"]
    assert "graph changed" in w.graph.banner.text()


def test_live_run_timeline_scrub_and_stepping(make_main_window, qtbot, depths):
    w = make_main_window()
    assert w.open_script(depths["script"], [], detail="full", paused=True)
    w.bridge.run_to(4)
    qtbot.waitUntil(lambda: shown(w, 4) and w.bridge.view.state == "paused", timeout=WAIT)
    assert w.timeline.count == 5
    w.timeline.slider.setValue(1)
    qtbot.waitUntil(lambda: shown(w, 1), timeout=WAIT)
    assert w.iteration.loss == pytest.approx(depths["losses"][1], rel=1e-6)
    assert not w.bridge.view.following and not w.timeline.follow.isChecked()
    w.controls.actions_by_name["step_iteration"].trigger()  # following resumes with a step
    qtbot.waitUntil(lambda: shown(w, 5) and w.bridge.view.state == "paused", timeout=WAIT)
    assert w.iteration.loss == pytest.approx(depths["losses"][5], rel=1e-6)
    w.controls.actions_by_name["stop"].trigger()
    qtbot.waitUntil(lambda: w.bridge.view.state == "finished", timeout=WAIT)
    assert "stopped" in w.statusBar().currentMessage()


def test_step_backward_node_lights_nodes_in_order(make_main_window, qtbot):
    ref = basics_oracle()
    w = make_main_window()
    assert w.open_script(BASICS, [], detail="full", paused=True)
    seen = []
    w.bridge.sig_node_grad.connect(lambda node, grad: seen.append(node))
    for step in range(3):
        w.controls.actions_by_name["step_node"].trigger()
        qtbot.waitUntil(lambda n=step: len(seen) > n and w.bridge.view.state == "paused" and not w.graph.busy,
                        timeout=WAIT)
        lit = [i for i in w.graph.items.values() if i.lit]
        assert len(lit) == 1 and lit[0].box_id == seen[-1]
        assert f"iteration 0 ({w.iteration.detail} detail)" in w.inspector.text()  # the inspector follows it
        node = w.iteration.graph.nodes[seen[-1]]
        assert (node["name"] or node["op"]) in w.inspector.text()
        view = w.graph.visible_rect()
        assert view.contains(lit[0].sceneBoundingRect().center())  # the view follows it
    # mid-backward: the colour scale has the gradients so far, the loss is the root's forward value
    z_grad = ref["z"].grad.norm().item()  # 0.5; out's is 1, y*y's (3 z) 1.5
    assert w.graph.legend.has_grads
    assert (w.graph.style_.lo, w.graph.style_.hi) == pytest.approx((z_grad, 3 * z_grad))
    assert w.status_labels["iteration"].text() == "iteration 0 (under way)"
    w.inspector.show_node(w.iteration, None)
    assert "27 (backward under way)" in w.inspector.text()
    # autograd runs the loss first: out (grad 1), then z = y*y*3 (grad 1/4), then y*y (grad 3/4)
    names = [w.iteration.graph.nodes[n]["name"] for n in seen]
    assert names[:2] == ["out", "z"]
    grads = [w.graph.items[n].attrs["grad"]["mean"] for n in seen]
    assert grads[0] == pytest.approx(ref["out"].grad.item())
    assert grads[1] == pytest.approx(ref["z"].grad.mean().item())


def test_controls_have_shortcuts_and_tooltips(make_main_window, basics_bps):
    w = make_main_window()
    names = set(w.controls.actions_by_name)
    assert {"run", "pause", "step_iteration", "step_phase", "step_node", "stop", "restart"} <= names
    keys = set()
    for action in w.controls.actions_by_name.values():
        key = action.shortcut().toString()
        assert key and key in action.toolTip()
        keys.add(key)
    assert len(keys) == len(names)  # no shortcut used twice
    w.open_recording(basics_bps)
    enabled = {n for n, a in w.controls.actions_by_name.items() if a.isEnabled()}
    assert "step_node" not in enabled and {"run", "step_iteration", "restart"} <= enabled


def test_lessons_menu_and_chinese_narration(make_main_window, qtbot):
    index = lessons.load()
    w = make_main_window(lang="zh")
    menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Lessons")
    chapters = [a for a in menu.actions() if a.menu() is not None]
    assert len(chapters) == len(index.chapters)
    lesson = index.get("grad_2x_squared")
    chapter = chapters[[c["id"] for c in index.chapters].index(lesson["chapter"])]
    entry = next(a for a in chapter.menu().actions() if a.text().startswith(lesson["title"]["en"]))
    entry.trigger()
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    assert w.lesson_panel.narration() == lesson["narration"]["zh"]
    assert lesson["title"]["zh"] in w.lesson_panel.heading.text()
    w.commands.languages["en"].trigger()
    assert w.lesson_panel.narration() == lesson["narration"]["en"]
    # Chinese needs a CJK face in the fallback list, and that face must have the glyphs
    families = w.lesson_panel.text.font().families()
    assert "WenQuanYi Micro Hei" in families
    cjk = QFontMetrics(QFont("WenQuanYi Micro Hei"))
    assert all(cjk.inFontUcs4(ord(ch)) for ch in lesson["narration"]["zh"] if ord(ch) > 0x3000)


def test_export_from_the_window(make_main_window, qtbot, depths, tmp_path):

    w = make_main_window()
    assert w.open_recording(depths["bps"])
    qtbot.waitUntil(lambda: shown(w, 5), timeout=WAIT)
    out = tmp_path / "run.json"
    assert w.files.export_to(str(out))
    data = json.loads(out.read_text())
    assert [it["loss"] for it in data["iterations"]] == pytest.approx(depths["losses"], rel=1e-6)
    assert not w.files.export_to(str(tmp_path / "run.xyz"))
    assert "unknown export format" in w.statusBar().currentMessage()


def test_bad_recording_is_a_clear_message(make_main_window, tmp_path):
    bad = tmp_path / "junk.bps"
    bad.write_bytes(b"not a recording")
    w = make_main_window()
    assert not w.open_recording(str(bad))
    assert "not a Backprop Studio recording" in w.last_error


def test_screenshot_cli(tmp_path):
    out = tmp_path / "shot.png"
    proc = cli("--screenshot", str(out))
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
    assert "iteration 0" in proc.stdout


def test_screenshot_cli_fails_clearly(tmp_path):
    script = write_script(tmp_path, "raise ValueError('no training today')\n")
    out = tmp_path / "shot.png"
    proc = cli("--screenshot", str(out), "--iterations", "2", script)
    assert proc.returncode == 1
    assert "0 iteration" in proc.stderr and "failed" in proc.stderr


def test_restart_runs_the_script_again(make_main_window, qtbot, depths):
    w = make_main_window()
    assert w.open_script(depths["script"], [], detail="full", paused=True)
    w.bridge.run_to(2)
    qtbot.waitUntil(lambda: shown(w, 2), timeout=WAIT)
    w.controls.actions_by_name["restart"].trigger()
    assert w.timeline.count == 0 and w.iteration is None  # views cleared for the new run
    w.controls.actions_by_name["step_iteration"].trigger()
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    assert w.bridge.view.state == "paused"  # the old child's "finished" was not taken for the new one's
    assert w.iteration.loss == pytest.approx(depths["losses"][0], rel=1e-6)
    assert w.console.text().count("loss 0 ") == 0  # printed after the pause point: not yet


def test_presentation_mode_enlarges_nodes_and_text(make_main_window, qtbot, basics_bps):
    w = make_main_window()
    assert w.open_recording(basics_bps)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    before = item_named(w, "x").rect.width()
    normal_pt = w.inspector.font().pointSize()
    w.commands.presentation.trigger()
    qtbot.waitUntil(lambda: shown(w, 0) and item_named(w, "x").rect.width() > before * 1.3, timeout=WAIT)
    assert w.inspector.font().pointSize() > normal_pt and w.controls.font().pointSize() > normal_pt
    assert "grad 4.5" in item_named(w, "x").text_lines()
    w.commands.themes["dark"].trigger()
    assert w.graph.style_.theme == "dark"


SGD_STEPS = """
import torch
torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 3), torch.randn(8, 1)
for i in range(3):
    loss = ((model(x) - y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


def test_step_phase_reaches_the_optimizer_and_the_inspector_shows_it(make_main_window, qtbot, tmp_path):
    script = write_script(tmp_path, SGD_STEPS)
    w = make_main_window()
    assert w.open_script(script, [], detail="full", paused=True)
    points = []
    w.bridge.sig_paused.connect(lambda d: points.append(d["point"]))
    for _ in range(8):
        if points and points[-1] == "optimizer_post":
            break
        n = len(points)
        w.controls.actions_by_name["step_phase"].trigger()
        qtbot.waitUntil(lambda n=n: len(points) > n and w.bridge.view.state == "paused", timeout=WAIT)
    assert points[-1] == "optimizer_post"
    assert "backward_end" in points and "optimizer_pre" in points
    assert w.inspector.pages.currentIndex() == 1  # the optimizer page
    assert "SGD" in w.inspector.text()
    assert "optimizer" in w.status_labels["phase"].text()
    torch.manual_seed(0)  # the same first step in plain torch: ||w1 - w0|| / ||w0||
    model = torch.nn.Linear(3, 1)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    ((model(x) - y) ** 2).mean().backward()
    w0 = model.weight.detach().clone()
    expected = (0.1 * model.weight.grad).norm().item() / w0.norm().item()
    xs, ratios = w.plots.ratios.curve("weight")
    assert list(xs) == [0] and ratios[0] == pytest.approx(expected, rel=1e-5)


def test_presentation_mode_runs_at_lecture_pace_with_backward_animation(make_main_window, qtbot, tmp_path):
    script = tmp_path / "three.py"
    script.write_text("import torch\nw = torch.ones(2, requires_grad=True)\n"
                      "for i in range(3):\n    loss = (w * (i + 1)).sum()\n    loss.backward()\n")
    w = make_main_window()
    w.commands.presentation.trigger()
    assert w.controls.rate() == 1.0
    assert w.open_script(str(script), [], detail="full", paused=True)
    lit = []
    original = w.graph.light_node
    w.graph.light_node = lambda node, grad: (lit.append((w.iteration.index, node)), original(node, grad))
    w.bridge.run(w.controls.rate())
    qtbot.waitUntil(lambda: w.iteration is not None and w.iteration.index == 2 and len(lit) >= 9, timeout=WAIT)
    assert [n for i, n in lit if i == 2] == ["n0", "n1", "n2"]  # loss first, then Mul, then w


def test_a_loss_only_iteration_keeps_the_last_graph_and_says_so(make_main_window, qtbot, tmp_path, monkeypatch):
    """A recording from before every iteration kept its graph (auto detail kept only the loss when its
    budget was spent): scrubbing there keeps the graph of the last iteration that has one, names the
    iteration shown, and the loss plot has every iteration."""
    out = str(tmp_path / "auto.bps")
    losses = loss_only_recording(out)
    w = make_main_window()
    assert w.open_recording(out)  # opens at the last iteration, loss-only: shows iteration 1's graph
    qtbot.waitUntil(lambda: w.timeline.count == 4 and shown(w, 1), timeout=WAIT)
    assert not any(i.added for i in w.graph.items.values())  # not "new" against an empty graph
    assert "the graph shown is iteration 1" in w.statusBar().currentMessage()
    xs, ys = w.plots.loss.data()
    assert list(xs) == [0, 1, 2, 3] and list(ys) == pytest.approx(losses, rel=1e-6)
    w.timeline.slider.setValue(1)
    qtbot.waitUntil(lambda: shown(w, 1), timeout=WAIT)
    nodes = len(w.graph.items)
    assert nodes == 6  # mean, pow, addmm, t, weight, bias
    w.timeline.slider.setValue(3)
    qtbot.waitUntil(lambda: "iteration 3" in w.statusBar().currentMessage(), timeout=WAIT)
    assert w.iteration.index == 1 and len(w.graph.items) == nodes  # the last graph stays on screen
    assert "no graph kept" in w.statusBar().currentMessage()
    assert "the graph shown is iteration 1" in w.statusBar().currentMessage()
    assert "loss only" in w.timeline.flags.text()
    w.timeline.slider.setValue(0)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    w.timeline.slider.setValue(2)  # scrubbing back to a loss-only one: the graph before it, not after
    qtbot.waitUntil(lambda: shown(w, 1), timeout=WAIT)
    assert w.timeline.current == 2


def test_restart_keeps_the_chosen_speed(make_main_window, qtbot, depths, monkeypatch):
    from backprop_studio.core.session.session import Session
    from backprop_studio.gui.controls import SPEEDS

    sent = []
    real = Session.send
    monkeypatch.setattr(Session, "send", lambda self, command, **args: (sent.append((command, args)),
                                                                          real(self, command, **args)))
    w = make_main_window()
    assert w.open_script(depths["script"], [], detail="full", paused=False)
    w.controls.speed.setCurrentIndex([r for _, r in SPEEDS].index(1.0))
    w.controls.actions_by_name["restart"].trigger()
    assert ("run", {"rate": 1.0}) in sent
    w.bridge.close()


def test_a_script_opens_paused_after_its_first_backward_pass(make_main_window, qtbot, depths):
    """As lessons do: the student sees iteration 0, not the end of the run (`--run` starts it running)."""
    w = make_main_window()
    assert w.open_script(depths["script"], [], first=True)
    qtbot.waitUntil(lambda: shown(w, 0) and w.bridge.view.state == "paused", timeout=WAIT)
    qtbot.wait(300)
    assert w.timeline.count == 1 and w.bridge.view.state == "paused"
    assert w.iteration.loss == pytest.approx(depths["losses"][0], rel=1e-6)


def test_a_closed_live_run_leaves_no_temporary_recording(make_main_window, qtbot, depths, tmp_path, monkeypatch):
    """The live run's recording is a temporary file: File > Save recording as… keeps a copy; closing
    the window deletes the temporary one with SQLite's -wal/-shm files."""
    import tempfile

    from backprop_studio.core.recording.store import Recording

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    w = make_main_window()
    assert w.open_script(depths["script"], [], first=True)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    assert any(f.endswith(".bps") for f in os.listdir(tmp))
    kept = str(tmp_path / "kept.bps")
    assert w.files.save(kept)
    w.close()
    assert [f for f in os.listdir(tmp) if ".bps" in f] == []
    rec = Recording(kept)
    assert rec.indices() == [0] and rec.iteration(0).loss == pytest.approx(depths["losses"][0], rel=1e-6)


@pytest.mark.parametrize("run", range(3))
def test_a_screenshot_shows_the_plots_complete(make_main_window, depths, tmp_path, run):
    """The gradient-norm curves and the parameter list are drawn before the grab (they were missing
    in 4 of 6 screenshots: the list was ranked before the parameters arrived)."""
    from backprop_studio.gui.app import screenshot

    w = make_main_window()
    out = tmp_path / "shot.png"
    assert screenshot(w, {"mode": "script", "script": depths["script"], "args": []}, str(out), 2) == 0
    assert w.plots.legend.count() >= 1
    assert w.plots.curves["grad"] and all(len(c.getData()[0]) for c in w.plots.curves["grad"].values())


def test_plots_and_timeline_are_linked_to_the_iteration_shown(make_main_window, qtbot, depths):
    """A cursor in the plots marks the iteration shown; a click in a plot jumps to the iteration under
    it; a click on the timeline's groove jumps to the click (not a page towards it)."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    w = make_main_window()
    w.resize(1600, 1000)
    assert w.open_recording(depths["bps"])
    count = w.timeline.count
    assert count >= 4
    qtbot.waitUntil(lambda: shown(w, count - 1), timeout=WAIT)
    assert w.plots.cursor() == count - 1
    plot = w.plots.loss_plot
    y = plot.vb.viewRange()[1]
    scene = plot.vb.mapViewToScene(QPointF(1, (y[0] + y[1]) / 2))
    at = w.plots.canvas.mapFromScene(scene)
    qtbot.mouseClick(w.plots.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: shown(w, 1), timeout=WAIT)
    assert w.plots.cursor() == 1 and w.timeline.current == 1
    slider = w.timeline.slider
    slider.setPageStep(1)  # a plain QSlider would now move one iteration towards the click
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    groove = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove,
                                           slider)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(groove.right() - 2, groove.center().y()))
    qtbot.waitUntil(lambda: shown(w, count - 1), timeout=WAIT)
    assert w.timeline.current == count - 1


def test_the_view_state_reaches_every_view_and_none_keeps_a_copy(make_main_window, qtbot, depths):
    """The iteration shown, following and the selection live in the bridge's ViewState: a change there,
    whoever makes it, reaches the timeline, the plots, the window and the inspector."""
    w = make_main_window()
    assert w.open_recording(depths["bps"])
    view = w.bridge.view
    qtbot.waitUntil(lambda: shown(w, 5), timeout=WAIT)
    assert w.bridge.show(2)
    qtbot.waitUntil(lambda: shown(w, 2), timeout=WAIT)
    assert view.shown == 2 and not view.following and not w.timeline.follow.isChecked()
    assert (w.timeline.current, w.timeline.slider.value(), w.plots.cursor(), w.iteration.index) == (2, 2, 2, 2)
    view.following = True  # from the model: the newest is shown and the box ticked
    qtbot.waitUntil(lambda: shown(w, 5), timeout=WAIT)
    assert w.timeline.follow.isChecked() and w.timeline.current == 5 and w.plots.cursor() == 5
    node = next(n for n, a in w.iteration.graph.nodes(data=True) if a.get("name") == "w")
    view.selection = node  # as the diagnostics panel selects a finding's node
    assert w.inspector.node_id == node and "w" in w.inspector.title.text()
    for obj in (w, w.timeline, w.inspector, w.plots):  # none keeps its own copy
        assert not {"iteration", "count", "current", "shown", "following", "selection"} & set(vars(obj))


def test_the_menus_are_laid_out_from_the_windows_actions(make_main_window):
    """Every menu command is one of the window's Actions (or a dock's toggle, or a recent file); triggering
    one does its one job through the window's public methods."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    w = make_main_window()
    a = w.commands
    owned = [x for x in vars(a).values() if isinstance(x, QAction)]
    owned += [x for group in (a.themes, a.languages, a.lessons) for x in group.values()]
    allowed = owned + [d.toggleViewAction() for d in w.docks.values()]
    laid_out = [x for menu in w.menuBar().findChildren(QMenu) if menu is not a.recent_menu
                for x in menu.actions() if not x.menu() and not x.isSeparator() and x.isEnabled()]
    assert laid_out and all(any(x is y for y in allowed) for x in laid_out)
    assert all(any(x is y for y in laid_out) for x in owned)  # and every action is in a menu
    a.nonfinite.trigger()  # unticked: the nonfinite breakpoint goes
    assert "nonfinite" not in w.breakpoints
    a.nonfinite.trigger()
    assert w.breakpoints[0] == "nonfinite"
    a.themes["dark"].trigger()
    assert w.theme == "dark" and not a.themes["light"].isChecked()


def test_a_tensor_lesson_without_a_backward_pass_says_so_instead_of_an_empty_canvas(make_main_window, qtbot):
    w = make_main_window()
    assert w.open_lesson("tensor_basics")
    qtbot.waitUntil(lambda: w.bridge.view.state == "finished", timeout=WAIT)
    assert w.timeline.count == 0 and w.graph.placeholder.isVisible()
    assert "no autograd graph" in w.graph.placeholder.text() and "console" in w.graph.placeholder.text()
    assert "tensor" in w.console.text().lower()


def test_after_the_script_finished_only_restart_is_enabled(make_main_window, qtbot, depths):
    w = make_main_window()
    assert w.open_script(depths["script"], [], detail="full", paused=False)
    qtbot.waitUntil(lambda: w.bridge.view.state == "finished", timeout=WAIT)

    def enabled():
        return {n for n, a in w.controls.actions_by_name.items() if a.isEnabled()}

    qtbot.waitUntil(lambda: enabled() == {"restart"}, timeout=WAIT)


def test_the_status_bar_drops_a_message_about_another_iteration(make_main_window, qtbot, depths):
    w = make_main_window()
    assert w.open_recording(depths["bps"])
    last = w.timeline.count - 1
    qtbot.waitUntil(lambda: shown(w, last), timeout=WAIT)
    w._on_break({"reason": "loss>1", "iteration": last, "node": "n0", "op": "MeanBackward0", "source": "t.py:3"})
    assert "breakpoint" in w.statusBar().currentMessage()
    w.timeline.pick(0)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    assert w.statusBar().currentMessage() == ""


def test_the_detail_control_shows_the_level_and_changes_it(make_main_window, qtbot, depths):
    w = make_main_window()
    assert w.open_script(depths["script"], [], detail="light", paused=True)
    assert w.controls.detail.currentText() == "light"
    w.controls.detail.setCurrentIndex(w.controls.detail.findText("full"))
    w.controls.detail.activated.emit(w.controls.detail.currentIndex())  # as a user's pick does
    w.bridge.run_to(1)
    qtbot.waitUntil(lambda: shown(w, 1), timeout=WAIT)
    assert w.iteration.detail == "full"
    assert any(a.get("value") for _, a in w.iteration.graph.nodes(data=True))


NAN_ORIGIN = """
    import torch
    torch.manual_seed(0)
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for i in range(6):
        x = w * (1.0 if i < 2 else -1.0)
        y = torch.sqrt(x)
        z = y * 3 + 1
        loss = z.sum()
        loss.backward()
        w.grad = None
"""


def test_a_run_pauses_at_the_first_nan_with_its_origin_marked_by_op_and_line(make_main_window, qtbot, tmp_path):
    """By default the app pauses on the first NaN/Inf; the origin (sqrt of a negative) is marked apart
    from the nodes it poisoned and named by op and file:line, never by a node id."""
    script = write_script(tmp_path, NAN_ORIGIN)
    w = make_main_window()
    assert w.breakpoints == ["nonfinite"] and w.commands.nonfinite.isChecked()
    assert w.open_script(script, [])
    qtbot.waitUntil(lambda: w.bridge.view.state == "paused" and shown(w, 2, grads=False), timeout=WAIT)
    assert w.timeline.count == 3
    scene = w.graph.graph_scene
    a = w.iteration.graph.nodes[scene.origin]
    assert a["op"] == "SqrtBackward0" and a["source"] == "script.py:7"
    assert scene.item_of(scene.origin).origin
    assert sum(i.origin for i in scene.items.values()) == 1 and scene.nonfinite_count >= 2
    assert "SqrtBackward0 (y), script.py:7" in w.graph.banner.text()
    message = w.statusBar().currentMessage()
    assert "SqrtBackward0" in message and "script.py:7" in message and " n3 " not in message


F7_SCRIPT = """
    import torch
    from torch import nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(5, 3)
    for i in range(3):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
"""


def test_stepping_forward_ops_shows_exactly_this_iterations_ops_without_a_false_banner(
        make_main_window, qtbot, tmp_path):
    """F7 in an nn.Module script: the graph grows op by op (4, 5, 9, 10, 11 nodes: Linear, ReLU, Linear,
    pow, mean) with no "graph changed" banner, in iteration 1 as in iteration 0."""
    script = write_script(tmp_path, F7_SCRIPT)
    w = make_main_window()
    assert w.open_script(script, [], detail="auto", first=True)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    sizes = []
    for _ in range(5):
        before = w.bridge.view.phase, w.graph.iteration.graph.number_of_nodes()
        w.controls.actions_by_name["step_forward_op"].trigger()
        qtbot.waitUntil(lambda b=before: w.bridge.view.state == "paused" and not w.graph.busy and
                        (w.bridge.view.phase, w.graph.iteration.graph.number_of_nodes()) != b, timeout=WAIT)
        assert w.graph.iteration.index == 1 and len(w.graph.items) == w.graph.iteration.graph.number_of_nodes()
        assert not (w.graph.banner.isVisible() and "changed" in w.graph.banner.text()), w.graph.banner.text()
        sizes.append(w.graph.iteration.graph.number_of_nodes())
    assert sizes == [4, 5, 9, 10, 11]
    w.controls.actions_by_name["step_iteration"].trigger()
    qtbot.waitUntil(lambda: shown(w, 1), timeout=WAIT)
    assert not (w.graph.banner.isVisible() and "changed" in w.graph.banner.text())
    assert not any(i.added for i in w.graph.items.values())


def test_the_lesson_narration_reads_the_graph_in_the_direction_it_is_drawn(make_main_window, qtbot):
    """The leaf is drawn above the loss (forward edges point down), and the narration says top down."""
    w = make_main_window()
    assert w.open_lesson("autograd_basics")
    qtbot.waitUntil(lambda: shown(w, 0), timeout=WAIT)
    g = w.iteration.graph
    leaf = next(n for n, a in g.nodes(data=True) if a["kind"] == "leaf")
    scene = w.graph.graph_scene
    assert scene.item_of(leaf).sceneBoundingRect().center().y() < scene.item_of("n0").sceneBoundingRect().center().y()
    assert "from the top down" in w.lesson["narration"]["en"] and "从上往下" in w.lesson["narration"]["zh"]


def test_stepping_the_backward_of_a_causal_mask_raises_no_nan_alarm(make_main_window, qtbot, tmp_path):
    """Mid-backward the masked scores' -inf wait for their gradient: no box, banner or origin says NaN/Inf
    while the gradients arrive, nor after the backward (the softmax's gradient is finite)."""
    from tests.test_breakpoints import CAUSAL

    w = make_main_window()
    assert w.open_script(write_script(tmp_path, CAUSAL), [], detail="full", paused=True)
    seen = []
    w.bridge.sig_node_grad.connect(lambda node, grad: seen.append(node))
    qtbot.waitUntil(lambda: w.bridge.view.state == "paused" and w.iteration is not None and not w.graph.busy,
                    timeout=WAIT)
    for step in range(3):
        w.controls.actions_by_name["step_node"].trigger()
        qtbot.waitUntil(lambda n=step: len(seen) > n and w.bridge.view.state == "paused" and not w.graph.busy,
                        timeout=WAIT)
        masked = next(a for _, a in w.iteration.graph.nodes(data=True) if a["op"] == "MaskedFillBackward0")
        assert masked["value"]["inf"] == 20
        assert w.graph.graph_scene.nonfinite_count == 0 and w.graph.graph_scene.origin is None
        assert not any(item.bad for item in w.graph.items.values())
