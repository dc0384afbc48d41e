"""OCR of the app's screenshots (tesseract): the graph's text is readable as pixels on screen, not only
by the sizes the other tests compute. Each screenshot is taken as `--screenshot` takes it (gui/app.py:
1600x1000, offscreen), then cut to the graph view and read with `tesseract --psm 11` (sparse text).

Marked slow (a few screenshots and OCR runs); it runs by default and in CI. tesseract comes from apt
(scripts/setup.sh installs tesseract-ocr).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage

from backprop_studio.gui.app import screenshot
from tests.util import LESSONS, ROOT

pytestmark = pytest.mark.slow
TRANSFORMER = os.path.join(ROOT, "tests", "scripts", "models", "transformer.py")


def graph_text(window, target: dict, out, size: tuple[int, int] = (1600, 1000)) -> str:
    """The text tesseract reads in the graph view of `target`'s screenshot."""
    tesseract = shutil.which("tesseract")
    assert tesseract, "tesseract is missing: bash scripts/setup.sh installs it (apt: tesseract-ocr)"
    full = str(out) + ".png"
    assert screenshot(window, target, full, size=size) == 0
    corner = window.graph.mapTo(window, QPoint(0, 0))
    crop = str(out) + "-graph.png"
    assert QImage(full).copy(QRect(corner, window.graph.size())).save(crop)
    return subprocess.run([tesseract, crop, "-", "--psm", "11"], capture_output=True, text=True,
                          check=True, timeout=120).stdout


@pytest.mark.parametrize("presentation, size", [(False, (1600, 1000)), (True, (1600, 1000)), (True, (1280, 720))],
                         ids=["normal", "presentation", "projector"])
def test_while_loop_chain_labels_read(make_main_window, tmp_path, presentation, size):
    """The while-loop lesson's 12-node chain (the leaf x, 11 MulBackward0): at least 10 MulBackward0 labels read
    back by OCR, in normal and presentation mode, and on a projector's 1280x720 in presentation mode. A trailing 0
    read as the letter O or o counts (tesseract's English model prefers a letter after letters)."""
    w = make_main_window(presentation=presentation)
    text = graph_text(w, {"mode": "lesson", "lesson": "while_doubling",
                          "script": os.path.join(LESSONS, "while_doubling.py"), "args": []}, tmp_path / "chain", size)
    read = re.findall(r"MulBackward[0Oo]", text)
    assert len(read) >= 10, f"{len(read)} of 11 MulBackward0 labels read; tesseract read:\n{text}"


def test_transformer_module_names_read(make_main_window, tmp_path):
    """A GPT-style transformer opens as its module tree: every block's name (blocks.0 ... blocks.3) is read
    (a trailing 0 read as O or o counts, as for the chain)."""
    w = make_main_window()
    text = graph_text(w, {"mode": "script", "script": TRANSFORMER, "args": ["2"]}, tmp_path / "transformer")
    names = {"0": "[0Oo]"}
    missing = [f"blocks.{i}" for i in range(4) if not re.search(rf"blocks\.{names.get(str(i), str(i))}\b", text)]
    assert not missing, f"not read: {missing}; tesseract read:\n{text}"
