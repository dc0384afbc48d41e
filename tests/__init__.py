"""The tests test the checkout they live in: it is registered as the package `backprop_studio` (no install
needed, and an installed copy elsewhere is never picked up)."""

import importlib.machinery
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if list(getattr(sys.modules.get("backprop_studio"), "__path__", [])) != [ROOT]:
    _spec = importlib.machinery.ModuleSpec("backprop_studio", None, is_package=True)
    _spec.submodule_search_locations = [ROOT]
    sys.modules["backprop_studio"] = importlib.util.module_from_spec(_spec)
