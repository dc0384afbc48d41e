"""core/ is importable and usable with Qt blocked (napari-style layering rule)."""

import os
import re
import subprocess
import sys

from tests.util import ROOT

CHECK = r"""
import importlib.abc, os, pkgutil, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph") \
                or name.startswith("backprop_studio.gui"):
            raise ImportError("core must not import " + name)
sys.meta_path.insert(0, Block())
import tests
from backprop_studio import core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "backprop_studio.core.")]
for n in names:
    importlib.import_module(n)
print(len(names))
"""


def test_every_core_module_imports_without_qt():
    proc = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 10


def test_gui_never_imports_torch_or_walks_autograd():
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "gui")):
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                if re.search(r"^\s*(import torch|from torch[ .])", text, re.M) or "grad_fn" in text:
                    found.append(name)
    assert found == []
    assert len(os.listdir(os.path.join(ROOT, "gui", "graph"))) > 3  # the walk reaches the subpackages
