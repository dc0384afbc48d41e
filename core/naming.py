"""Names for graph nodes: parameters by qualified name, leaves and ops by script variable.

Module forward hooks register every module tree the script calls; the outermost
module seen names its parameters (`features.0.weight`, not `weight`).
"""

from __future__ import annotations

import importlib.util
import os
import sysconfig
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_NOT_USER = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {
        os.path.dirname(importlib.util.find_spec("torch").origin),  # not imported: the GUI never needs torch
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + "core",
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
)
_user_cache: dict[str, bool] = {}


def is_user_file(filename: str) -> bool:
    """True for the user's own code (not torch, not the stdlib, not us)."""
    hit = _user_cache.get(filename)
    if hit is None:
        if filename.startswith("<"):
            hit = filename not in ("<frozen runpy>",) and not filename.startswith("<frozen")
        else:
            path = os.path.normcase(os.path.realpath(filename))
            hit = not path.startswith(_NOT_USER)
        _user_cache[filename] = hit
    return hit


def user_frames(frame):
    """Frames of user code, innermost first."""
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            yield frame
        frame = frame.f_back


def user_source(frame) -> str | None:
    """`file:line` of the innermost user frame."""
    for f in user_frames(frame):
        return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"
    return None


class IdMap:
    """Identity-keyed map that does not keep its keys alive: a WeakIdKeyDictionary whose `get` is one
    dict lookup (it runs on every module call and for every parameter of every iteration)."""

    def __init__(self):
        self._data: dict[int, tuple[weakref.ref, object]] = {}

    def __setitem__(self, key, value) -> None:
        k, data = id(key), self._data

        def gone(_ref, k=k, data=data):  # runs while the key is freed, before its id can be reused
            entry = data.get(k)
            if entry is not None and entry[0]() is None:
                del data[k]

        data[k] = (weakref.ref(key, gone), value)

    def get(self, key, default=None):
        entry = self._data.get(id(key))
        return entry[1] if entry is not None and entry[0]() is key else default

    def __contains__(self, key) -> bool:
        entry = self._data.get(id(key))
        return entry is not None and entry[0]() is key

    def __len__(self) -> int:
        return len(self._data)


class Names:
    """Module paths and parameter names, learnt from the modules the script calls."""

    def __init__(self):
        self.module_path = IdMap()  # module -> qualified path
        self.param_name = IdMap()  # parameter -> qualified name
        self._roots = IdMap()  # root modules

    def is_root(self, module: torch.nn.Module) -> bool:
        return module in self._roots

    def register_root(self, module: torch.nn.Module) -> None:
        """Name a module tree; an outer tree renames what an inner one named before."""
        mods = list(module.named_modules(remove_duplicate=False))
        self._roots[module] = True
        root_label = type(module).__name__
        for path, m in mods:
            self.module_path[m] = path or root_label
            for pname, p in m.named_parameters(recurse=False):
                self.param_name[p] = f"{path}.{pname}" if path else pname


def frame_names(frame, limit: int = 8) -> tuple[dict, dict]:
    """Script variable names of tensors (by id) and of grad_fns, innermost frame wins."""
    import torch

    from core.graph import grad_fn_of

    by_tensor: dict[int, str] = {}
    by_fn: dict = {}
    for depth, f in enumerate(user_frames(frame)):
        if depth >= limit:
            break
        for name, v in f.f_locals.items():
            if type(v) is not torch.Tensor and not isinstance(v, torch.Tensor):
                continue
            if name.startswith("_"):
                continue
            fn = grad_fn_of(v)
            if fn is not None:
                by_fn.setdefault(fn, name)
            elif v.requires_grad:
                by_tensor.setdefault(id(v), name)
    return by_tensor, by_fn

