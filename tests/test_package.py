"""`pip install .` gives a real package: everything under backprop_studio/, lessons and themes
included, a working `backprop-studio` from any directory; a user's own core/gui/main modules are theirs."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from tests.util import ROOT, record, run_plain, write_script

pytestmark = pytest.mark.e2e

USER_MODULES = {
    "core.py": "VALUE = 3.0\n",
    "gui.py": "def show(x):\n    print('user gui', x)\n",
    "main.py": "def helper():\n    return 'user main'\n",
}
USER_SCRIPT = """
    import core, gui, main
    import torch
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    for i in range(3):
        loss = (w * core.VALUE).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
        w.grad = None
        gui.show(repr(loss.item()))
    print(main.helper())
"""


def user_project(tmp_path) -> str:
    for name, text in USER_MODULES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return write_script(tmp_path, USER_SCRIPT, name="train.py")


def plain_output(script: str) -> str:
    return run_plain(script, cwd=os.path.dirname(script))[1]


def build_outputs() -> dict[str, float]:
    """build/ and *.egg-info in the checkout, with their modification times."""
    return {p: os.path.getmtime(p) for p in [os.path.join(ROOT, "build"), *glob.glob(os.path.join(ROOT, "*.egg-info"))]
            if os.path.exists(p)}


def test_a_user_project_with_its_own_core_gui_and_main_records_correctly(tmp_path):
    script = user_project(tmp_path)
    proc, data = record(tmp_path, script, options=())
    assert proc.stdout == plain_output(script) and "user main" in proc.stdout
    assert len(data["iterations"]) == 3 and all(it["graph"]["nodes"] for it in data["iterations"])


def test_the_wheel_installs_and_runs_from_any_directory(tmp_path):
    """Built from a copy of the checkout: setuptools writes build/ and *.egg-info beside the sources, and
    the checkout must stay as it is."""
    before = build_outputs()
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "*.bps*"))
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert build_outputs() == before  # nothing written into the checkout
    (wheel,) = glob.glob(str(wheels / "*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"backprop_studio", os.path.basename(wheel).split("-py3")[0] + ".dist-info"}, top
    assert "backprop_studio/resources/i18n/backprop_studio_zh_CN.qm" in names  # the Chinese interface
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                           wheel],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies (torch, PySide6...) from this environment; not its editable backprop_studio
    with open(os.path.join(site, "deps.pth"), "w", encoding="utf-8") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    exe = str(venv / "bin" / "backprop-studio")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    lessons = subprocess.run([exe, "lessons"], capture_output=True, text=True, cwd=str(elsewhere), env=env,
                             timeout=120)
    assert lessons.returncode == 0, lessons.stderr
    assert "autograd_basics" in lessons.stdout and "legendre_custom_function" in lessons.stdout
    # the installed copy, not this checkout; it finds its translation: a menu title in Chinese
    probe = subprocess.run([str(py), "-c", "import backprop_studio; print(backprop_studio.__path__[0]); "
                            "from PySide6.QtCore import QCoreApplication as A; "
                            "from backprop_studio.gui import i18n; app = A([]); i18n.install(app, 'zh'); "
                            "print(A.translate('MainMenus', '&File'))"],
                           capture_output=True, text=True, cwd=str(elsewhere), env=env, timeout=120)
    where, menu = probe.stdout.split("\n")[:2]
    assert where.startswith(site), where
    assert menu == "文件(&F)", probe.stderr
    project = tmp_path / "project"
    project.mkdir()
    script = user_project(project)
    bps = str(project / "run.bps")
    rec = subprocess.run([exe, "record", "-o", bps, script], capture_output=True, text=True, cwd=str(elsewhere),
                         env=env, timeout=300)
    assert rec.returncode == 0, rec.stderr
    assert rec.stdout == plain_output(script)
    out = str(project / "run.json")
    assert subprocess.run([exe, "export", bps, "--format", "json", "-o", out], cwd=str(elsewhere), env=env,
                          timeout=120).returncode == 0
    with open(out, encoding="utf-8") as f:
        data = json.load(f)
    assert data["status"] == "finished" and len(data["iterations"]) == 3
    shot = str(project / "shot.png")
    app = subprocess.run([exe, "--screenshot", shot], capture_output=True,
                         text=True, cwd=str(elsewhere), env=env, timeout=120)
    assert app.returncode == 0 and os.path.getsize(shot) > 10_000, app.stderr  # themes and the default lesson
