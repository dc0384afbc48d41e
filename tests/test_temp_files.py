"""Nothing of ours is left in the temporary directory once the app has closed, whatever it opened:
a lesson, a script, a recording, a distributed run; in the window and through main.py."""

import os
import tempfile

import pytest

from tests.test_dist_live import DDP, START
from tests.util import cli, loss_only_recording, write_script

pytestmark = pytest.mark.e2e
SCRIPT = """
import torch
w = torch.ones(3, requires_grad=True)
for i in range(5):
    (w * i).pow(2).sum().backward()
    print("loss", i)
"""


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """A fresh, empty temporary directory for this process and the processes it starts."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setenv("TMPDIR", str(path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    return path


def left_in(path) -> list[str]:
    """What is in `path`, but torch's compile cache (torchinductor_USER: kept across runs on purpose, and made
    by a plain torchrun of the DDP script too)."""
    return sorted(os.path.relpath(os.path.join(d, f), path) for d, dirs, files in os.walk(path) for f in dirs + files
                  if not os.path.relpath(os.path.join(d, f), path).startswith("torchinductor_"))


def test_window_leaves_nothing(make_main_window, qtbot, tmp_path, temp_dir):
    from tests.test_gui_window import shown

    bps = str(tmp_path / "run.bps")
    loss_only_recording(bps)
    script = write_script(tmp_path, SCRIPT)
    w = make_main_window()
    assert w.open_lesson("autograd_basics")
    qtbot.waitUntil(lambda: shown(w, 0), timeout=60_000)
    assert w.open_script(script, [], first=True)
    qtbot.waitUntil(lambda: shown(w, 0), timeout=60_000)
    assert left_in(temp_dir)  # the live recording is a temporary file while the run is open
    assert w.open_recording(bps)
    assert w.open_script(script, [], first=True)  # left open: closing the window ends it
    qtbot.waitUntil(lambda: shown(w, 0), timeout=60_000)
    w.close()
    assert left_in(temp_dir) == []


def test_distributed_run_leaves_nothing(make_main_window, qtbot, tmp_path, temp_dir):
    script = write_script(tmp_path, DDP, "ddp.py")
    w = make_main_window()
    assert w.open_script(script, [], first=True, nproc=2)
    session = w.bridge.session
    qtbot.waitUntil(lambda: session.where() == {0: ("paused", 0), 1: ("paused", 0)} and w.iteration is not None,
                    timeout=START * 1000)
    w.close()
    assert left_in(temp_dir) == []


@pytest.mark.parametrize("what", ["lesson", "script", "open", "record-distributed"])
def test_main_leaves_nothing(tmp_path, temp_dir, what):
    shot = ["--screenshot", str(tmp_path / "shot.png")]
    argv = {"lesson": [*shot, "lesson", "autograd_basics"], "script": [*shot, write_script(tmp_path, SCRIPT)],
            "open": [*shot, "open", str(tmp_path / "run.bps")],
            "record-distributed": ["record", "--nproc-per-node", "2", "-o", str(tmp_path / "ddp.bps"),
                                   write_script(tmp_path, DDP.replace("range(1000)", "range(2)"), "ddp.py")]}[what]
    if what == "open":
        loss_only_recording(argv[-1])
    proc = cli(*argv)
    assert proc.returncode == 0, proc.stderr
    assert left_in(temp_dir) == []
