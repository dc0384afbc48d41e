"""The LeNet lesson, the CNN every lecture on backprop shows, opens layer by layer: conv, pooling and linear
layers as boxes named by their module, readable, in normal and presentation mode (all of them in view at 1600x1000)."""

import os

import pytest

from backprop_studio.core.lessons import load as load_lessons
from tests.test_graph_readable import PRESENTATION_TEXT, READABLE_PX, drawn, record, show, text_px
from tests.util import LESSONS

LAYERS = {"conv1", "conv2", "fc1", "fc2", "fc3", "CrossEntropyLoss"}  # boxes of more than one op


@pytest.fixture(scope="module")
def lenet():
    return record(os.path.join(LESSONS, "lenet_cifar.py"))[0]


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 720)])
@pytest.mark.parametrize("presentation", [False, True], ids=["normal", "presentation"])
def test_lenet_opens_layer_by_layer(make_main_window, qtbot, lenet, presentation, size):
    w = make_main_window(presentation=presentation)
    w.resize(*size)
    w.show_narration(load_lessons().get("lenet_cifar"), None)
    qtbot.wait(50)
    show(qtbot, w.graph, lenet)
    assert LAYERS <= {i.head for i in w.graph.items.values() if i.kind == "module"}
    shown = drawn(w.graph)
    if size == (1600, 1000):
        assert set(shown) == set(w.graph.items)  # every layer in view
    else:  # a projector's 1280x720: a screenful of readable boxes from the loss's end, the rest a drag away
        assert "module:CrossEntropyLoss" in shown, shown
    assert text_px(w.graph) >= (PRESENTATION_TEXT if presentation else 1) * READABLE_PX - 0.01
