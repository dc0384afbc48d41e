"""The architecture's rules, checked: import-linter's contracts (pyproject.toml: layers without cycles, the
parent process never imports torch, core never imports Qt), and the wheel's package list covers every folder."""

from __future__ import annotations

import os
import tomllib

from importlinter.cli import lint_imports

from tests.util import ROOT


def test_import_contracts_are_kept():
    assert lint_imports(config_filename=os.path.join(ROOT, "pyproject.toml"), no_cache=True, no_logo=True) == 0


def test_the_wheel_lists_every_package_folder():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    found = {"backprop_studio"}
    for top in ("core", "gui", "resources"):
        for folder, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            if top == "resources" or "__init__.py" in files:
                rel = os.path.relpath(folder, ROOT).replace(os.sep, ".")
                found.add("backprop_studio." + rel)
    assert listed == found
