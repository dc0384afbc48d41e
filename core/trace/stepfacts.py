"""What each optimizer step found: how many of its parameters had a .grad at all, which modules that act
differently in training (dropout, batch norm) were in eval mode, and which trainable parameters of the
model no optimizer holds. The doctor's step-without-grad, eval-mode and not-optimized rules read it.

Checked at every step in Python only (flags and None checks, no tensor work); reported when it changes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.weak import WeakIdKeyDictionary

# modules whose forward differs between train() and eval()
MODE_SENSITIVE = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)


class StepFacts:
    """Per optimizer step: its parameters with a .grad, and for each model it trains, the mode-sensitive
    modules in eval mode."""

    def __init__(self, names):
        self.names = names  # core.trace.naming.Names: module paths and the roots of the script's models
        self._sensitive = WeakIdKeyDictionary()  # root -> ({id: parameter}, [(path, module)]), once per root
        self._last: dict[int, dict] = {}  # optimizer number -> its last facts
        self._number = WeakIdKeyDictionary()  # optimizer -> its number, in the order they first stepped
        self._held: set[int] = set()  # ids of the parameters of every optimizer that stepped so far

    def check(self, optimizer: torch.optim.Optimizer, closure: bool) -> dict | None:
        """{"optimizer": its number, "params", "with_grad" (None given a closure: its backward runs inside the
        step), "models": [[model, sensitive modules, [their paths in eval mode], [its trainable parameters in
        no optimizer that stepped]], ...] (the models owning the optimizer's parameters, and those
        no optimizer holds any of whose parameters have a .grad)}, when it differs
        from that optimizer's last step (else None)."""
        number = self._number.setdefault(optimizer, len(self._number))
        params = [p for group in optimizer.param_groups for p in group["params"]]
        held = {id(p) for p in params}
        self._held |= held
        models = []
        for root in self.names.roots():
            owned, sensitive = self._of(root)
            mine = bool(owned.keys() & held)
            # a model no optimizer holds any of is listed only when its parameters got gradients
            # (an autoencoder's decoder left out of the optimizer; not an EMA copy or a frozen teacher)
            orphans = [self.names.param_name.get(p) or "?" for i, p in owned.items()
                       if i not in self._held and p.requires_grad and (mine or p.grad is not None)]
            if mine or orphans:
                off = [path for path, m in sensitive if not m.training] if mine else []
                models.append([self.names.module_path.get(root) or type(root).__name__, len(sensitive), off,
                               orphans])
        now = {"optimizer": number, "params": len(params),
               "with_grad": None if closure else sum(p.grad is not None for p in params), "models": models}
        if now == self._last.get(number):
            return None
        self._last[number] = now
        return now

    def _of(self, root: nn.Module) -> tuple[dict, list]:
        got = self._sensitive.get(root)
        if got is None:
            path = self.names.module_path.get
            got = ({id(p): p for p in root.parameters()},
                   [(path(m) or type(m).__name__, m) for m in root.modules() if isinstance(m, MODE_SENSITIVE)])
            self._sensitive[root] = got
        return got
