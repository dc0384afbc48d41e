"""`open RUN.bps` on a recording another process is still writing (a notebook's trace()): the app follows it."""

from __future__ import annotations

import os
import threading
import time

import networkx as nx

from backprop_studio.core.iteration import Iteration
from backprop_studio.core.recording.store import RecordingWriter


def iteration(index: int) -> Iteration:
    g = nx.DiGraph()
    g.add_node("n0", op="MulBackward0", kind="op", name="loss", shape=[], dtype="float32", device="cpu")
    g.add_node("n1", op="AccumulateGrad", kind="param", name="w", shape=[3], dtype="float32", device="cpu")
    g.add_edge("n1", "n0")
    return Iteration(index=index, loss=1.0 / (index + 1), optimizer_steps=index, signature="s", graph=g,
                     params={"w": {"grad_norm": 0.5, "nan": 0, "inf": 0}})


def test_open_follows_a_growing_recording_until_it_is_finished(make_main_window, qtbot, tmp_path):
    path = str(tmp_path / "run.bps")
    writer = RecordingWriter(path, {"script": "<notebook>", "argv": []})
    for i in range(3):
        writer.add_iteration(iteration(i))
    writer.add_console("stdout", "epoch 0\n")
    writer.commit()
    window = make_main_window()
    updates = []
    window.bridge.sig_updates.connect(lambda index, ratios: updates.append((index, ratios)))
    assert window.open_recording(path)
    bridge = window.bridge
    assert bridge.view.count == 3 and bridge.view.state == "running"
    for i in range(3, 7):
        writer.add_iteration(iteration(i))
        writer.add_param_updates(i, "optimizer", [{"name": "w", "update_norm": 0.1, "param_norm": 1.0,
                                                   "update_ratio": 0.1 * i}])
    writer.add_console("stdout", "epoch 1\n")
    writer.commit()
    qtbot.waitUntil(lambda: bridge.view.count == 7, timeout=30_000)
    assert bridge.view.shown == 6  # following the newest
    qtbot.waitUntil(lambda: len(updates) == 4, timeout=5000)
    assert updates == [(i, {"w": 0.1 * i}) for i in range(3, 7)]  # the plots' update ratios, each once
    window.console.flush()
    assert "epoch 0\nepoch 1\n" in window.console.edit.toPlainText()
    with qtbot.waitSignal(bridge.sig_finished, timeout=30_000) as finished:
        writer.close("finished")
    assert finished.args[0]["status"] == "finished"
    assert not bridge.following_file and bridge.view.count == 7
    qtbot.waitUntil(lambda: not window.diagnostics.busy, timeout=10000)  # its doctor job ends before the window


def test_a_screenshot_of_a_growing_recording_waits_for_the_iteration_asked(make_main_window, qtbot, tmp_path):
    """`open --screenshot OUT --iterations N RUN.bps` while a notebook still writes RUN.bps (run.open())."""
    from backprop_studio.gui.app import screenshot

    path = str(tmp_path / "run.bps")
    writer = RecordingWriter(path, {"script": "<notebook>", "argv": []})
    writer.add_iteration(iteration(0))
    writer.commit()

    def write_more():
        for i in range(1, 10):
            time.sleep(0.15)
            writer.add_iteration(iteration(i))
            writer.commit()

    thread = threading.Thread(target=write_more)
    thread.start()
    window = make_main_window()
    out = str(tmp_path / "shot.png")
    try:
        assert screenshot(window, {"mode": "open", "recording": path}, out, iterations=7) == 0
    finally:
        thread.join()
        writer.close("finished")
    assert window.iteration.index == 6 and os.path.getsize(out) > 0
    qtbot.waitUntil(lambda: not window.diagnostics.busy, timeout=10000)
