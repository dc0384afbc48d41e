"""Benchmarks: run `python benchmarks/run.py`. Importing this package registers the checkout it lives in
as the package `backprop_studio` (no install needed)."""

import importlib.machinery
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if list(getattr(sys.modules.get("backprop_studio"), "__path__", [])) != [ROOT]:
    _spec = importlib.machinery.ModuleSpec("backprop_studio", None, is_package=True)
    _spec.submodule_search_locations = [ROOT]
    sys.modules["backprop_studio"] = importlib.util.module_from_spec(_spec)
