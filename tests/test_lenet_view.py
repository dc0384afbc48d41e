"""The LeNet lesson, the CNN every lecture on backprop shows, opens layer by layer: conv, pooling and linear
layers as boxes named by their module, readable, in normal and presentation mode. In presentation mode it and
a 6-block conv/BatchNorm/ReLU CNN show whole, at 1600x1000 and at a projector's 1280x720, light and dark, with
text at least 1.5x normal mode's."""

import os

import pytest

from backprop_studio.core.lessons import load as load_lessons
from backprop_studio.core.recording.store import RecordingWriter
from tests.test_graph_readable import MODELS, PRESENTATION_TEXT, READABLE_PX, drawn, record, show, text_px
from tests.util import LESSONS

LAYERS = {"conv1", "conv2", "fc1", "fc2", "fc3", "CrossEntropyLoss"}  # boxes of more than one op


@pytest.fixture(scope="module")
def graphs():
    return {"lenet": record(os.path.join(LESSONS, "lenet_cifar.py"))[0],
            "cnn6": record(os.path.join(MODELS, "cnn6.py"))[0]}


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 720)], ids=["1600x1000", "1280x720"])
@pytest.mark.parametrize("model", ["lenet", "cnn6"])
def test_lenet_and_a_cnn_show_whole_in_presentation_mode(make_main_window, qtbot, graphs, model, size):
    w = make_main_window()
    w.resize(*size)
    if model == "lenet":
        w.show_narration(load_lessons().get("lenet_cifar"), None)
    qtbot.wait(50)
    show(qtbot, w.graph, graphs[model])
    if model == "lenet":
        assert LAYERS <= {i.head for i in w.graph.items.values() if i.kind == "module"}
    normal = text_px(w.graph)
    assert normal >= READABLE_PX - 0.01
    assert set(drawn(w.graph)) == set(w.graph.items)  # every layer in view
    for theme in ("light", "dark"):
        w.set_theme(theme, presentation=True)
        qtbot.waitUntil(lambda: not w.graph.busy, timeout=60_000)
        qtbot.wait(50)  # the narration's column resized, the view refolded
        assert set(drawn(w.graph)) == set(w.graph.items), theme  # nothing scrolled out of view
        assert text_px(w.graph) >= max(PRESENTATION_TEXT * normal, PRESENTATION_TEXT * READABLE_PX) - 0.01


def test_a_module_box_and_the_inspector_name_its_class(make_main_window, qtbot, graphs, tmp_path):
    """A module box reads "conv1 · Conv2d" (a bare index too: "0 · Sequential"), from a recording: the class
    names are kept in the file; selecting the box shows its class, nodes and parameters in the inspector."""
    path = str(tmp_path / "lenet.bps")
    writer = RecordingWriter(path, {"script": "lenet_cifar.py", "argv": [], "detail": "full"})
    writer.add_iteration(graphs["lenet"])
    writer.close("finished")
    w = make_main_window()
    assert w.open_recording(path)
    qtbot.waitUntil(lambda: w.iteration is not None and not w.graph.busy and bool(w.graph.items), timeout=60_000)
    titles = {i.head: i.text_lines()[0] for i in w.graph.items.values() if i.kind == "module"}
    assert titles["conv1"] == "conv1 · Conv2d" and titles["fc3"] == "fc3 · Linear", titles
    w.graph.select_node("module:conv2", centre=False)
    text = w.inspector.text()
    assert "conv2 · Conv2d" in text and "class" in text and "2,416" in text, text  # 16*6*5*5 + 16
    w.graph.select_node("module:fc1", centre=False)
    assert "fc1 · Linear" in w.inspector.text()
    show(qtbot, w.graph, graphs["cnn6"])
    titles = {i.head: i.text_lines()[0] for i in w.graph.items.values() if i.kind == "module"}
    assert titles["0"] == "0 · Sequential" and titles["8"] == "8 · Linear", titles
