"""Names for graph nodes: parameters by qualified name, leaves and ops by script variable.

Module forward hooks register every module tree the script calls; the outermost
module seen names its parameters (`features.0.weight`, not `weight`).
"""

from __future__ import annotations

import os
import sysconfig

import torch
from torch.utils.weak import WeakIdKeyDictionary

_NOT_USER = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {
        os.path.dirname(torch.__file__),
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


class Names:
    """Module paths and parameter names, learnt from the modules the script calls."""

    def __init__(self):
        self.module_path = WeakIdKeyDictionary()  # module -> qualified path
        self.param_name = WeakIdKeyDictionary()  # parameter -> qualified name
        self._roots = WeakIdKeyDictionary()  # root module -> number of modules it had

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
            if v.grad_fn is not None:
                by_fn.setdefault(v.grad_fn, name)
            elif v.requires_grad:
                by_tensor.setdefault(id(v), name)
    return by_tensor, by_fn

