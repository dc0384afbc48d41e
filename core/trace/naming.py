"""Names for graph nodes: parameters by qualified name, leaves and ops by script variable.

The tracer's module-call wrapper reports the outermost module called; the root of the module tree
that owns it names its parameters (`net.0.weight`, not `0.weight` or `weight`).
"""

from __future__ import annotations

import importlib.util
import os
import sysconfig
import weakref
from typing import TYPE_CHECKING

from ..boot import ROOT

if TYPE_CHECKING:
    import torch

_NOT_USER = tuple(
    os.path.normcase(os.path.realpath(p)) + os.sep
    for p in {
        os.path.dirname(importlib.util.find_spec("torch").origin),  # not imported: the GUI never needs torch
        os.path.join(ROOT, "core"),
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


_base: dict[str, str | None] = {}  # filename -> its base name for a user file, None for others


def user_source(frame) -> str | None:
    """`file:line` of the innermost user frame (runs for every op a full iteration captures)."""
    while frame is not None:
        name = frame.f_code.co_filename
        base = _base.get(name, "")
        if base == "":
            base = _base[name] = os.path.basename(name) if is_user_file(name) else None
        if base is not None:
            return f"{base}:{frame.f_lineno}"
        frame = frame.f_back
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
    """Module paths and parameter names, from the root of each module tree the script calls.

    The root is the module that owns the called one (a LightningModule whose training_step calls
    `self.net`): owners are learnt from torch's global module registration hook while the tracer is
    installed, so nothing is called to find them. A parameter held under two names (tied weights)
    gets both, joined by ", ".

    A parameter's name, one rule for the graph, Iteration.params and the optimizer tables (`param`): its
    module path; else the script variable holding it; else its place in the first optimizer that held it
    ("group0.param1"; "optimizer2.group0.param1" in a second optimizer)."""

    def __init__(self):
        self.module_path = IdMap()  # module -> qualified path
        self.module_types: dict[str, str] = {}  # qualified path -> the class names along it ("Sequential.Conv2d")
        self.param_name = IdMap()  # parameter -> qualified name(s)
        self.place = IdMap()  # parameter -> its place in the first optimizer that held it
        self._optimizers = IdMap()  # optimizer -> its number, by first sight
        self._roots = IdMap()  # modules whose tree is named (roots, and the called modules under them)
        self._owner = IdMap()  # module -> the module it was registered in
        self._trees: list[_Tree] = []
        self._hook = None

    def install(self) -> None:
        from torch.nn.modules.module import register_module_module_registration_hook

        def registered(owner, name, module):
            if module is not None and module not in self._owner:
                self._owner[module] = owner

        self._hook = register_module_module_registration_hook(registered)

    def uninstall(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def param(self, p, variable: str | None = None) -> str | None:
        """The name of parameter (or leaf) `p`, `variable` being the script variable holding it if any."""
        return self.param_name.get(p) or variable or self.place.get(p)

    def hold(self, optimizer) -> None:
        """Note the place of each of `optimizer`'s parameters (the last resort of `param`)."""
        k = self._optimizers.get(optimizer)
        if k is None:
            k = self._optimizers[optimizer] = len(self._optimizers) + 1
        prefix = f"optimizer{k}." if k > 1 else ""
        for g, group in enumerate(optimizer.param_groups):
            for i, p in enumerate(group["params"]):
                if p not in self.place:
                    self.place[p] = f"{prefix}group{g}.param{i}"

    def is_root(self, module: torch.nn.Module) -> bool:
        return module in self._roots

    def roots(self) -> list[torch.nn.Module]:
        """The root modules of the named trees still alive."""
        return [m for t in self._trees if (m := t.root()) is not None]

    def register_root(self, module: torch.nn.Module) -> None:
        """Name the tree of `module`'s root owner; an outer tree renames what an inner one named before."""
        self._roots[module] = True
        root, seen = module, {id(module)}
        while (owner := self._owner.get(root)) is not None and id(owner) not in seen:
            seen.add(id(owner))
            root = owner
        if root is not module and root in self._roots:
            return
        self._roots[root] = True
        names = _tree_names(root)
        taken = {n for tree in self._trees for held in tree.names.values() for n in held[1]}
        tree = _Tree(weakref.ref(root), names)
        if taken & {n for _, held in names.values() for n in held}:  # two models both with `0.weight`
            tree.label = _variable_of(root) or f"{type(root).__name__}#{len(self._trees) + 1}"
            for other in self._trees:
                if other.label is None and (m := other.root()) is not None:
                    other.label = _variable_of(m) or type(m).__name__
                    self._name(m, other)
        self._trees = [t for t in self._trees if t.root() is not None] + [tree]
        self._name(root, tree)

    def _name(self, root: torch.nn.Module, tree: _Tree) -> None:
        prefix = f"{tree.label}." if tree.label else ""
        top = [type(root).__name__] if tree.label else []
        found = dict(root.named_modules(remove_duplicate=False))
        for path, m in found.items():
            full = self.module_path[m] = prefix + path if path else (tree.label or type(root).__name__)
            parts = path.split(".") if path else []
            self.module_types[full] = ".".join(
                top + [type(found[".".join(parts[: i + 1])]).__name__ for i in range(len(parts))]) or type(root).__name__
        for p, held in tree.names.values():
            self.param_name[p] = ", ".join(prefix + n for n in held)


class _Tree:
    """A named module tree: its root, its parameters' names under it, and its label when two trees
    would give the same names (the root's variable in the script)."""

    def __init__(self, root: weakref.ref, names: dict):
        self.root = root
        self.names = names  # id(parameter) -> (parameter, [names])
        self.label: str | None = None


def _tree_names(root: torch.nn.Module) -> dict[int, tuple]:
    names: dict[int, tuple] = {}
    for path, m in root.named_modules(remove_duplicate=False):
        for pname, p in m.named_parameters(recurse=False):
            name = f"{path}.{pname}" if path else pname
            held = names.setdefault(id(p), (p, []))[1]
            if name not in held:
                held.append(name)
    return names


def _variable_of(module) -> str | None:
    """The script's variable holding `module` (locals of user frames, then their globals)."""
    import sys

    frames = list(user_frames(sys._getframe(1)))
    for scope in [f.f_locals for f in frames] + [f.f_globals for f in frames]:
        for name, v in scope.items():
            if v is module and not name.startswith("_"):
                return name
    return None


def frame_names(frame, limit: int = 8) -> tuple[dict, dict]:
    """Script variable names of tensors (by id) and of grad_fns, innermost frame wins."""
    import torch

    from .graph import grad_fn_of

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

