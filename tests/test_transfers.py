"""The tracer moves numbers to the host once per iteration (per device), never per node.

Counts core.stats.host_transfers, and every other tensor-to-host path (item, tolist, cpu,
numpy, float/int/bool) called from core/ code while a traced training loop runs.
"""

from __future__ import annotations

import os
import sys

import pytest
import torch
from torch import nn

from backprop_studio.core.trace import stats
from tests.util import trace

CORE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "core") + os.sep
# the transfer; a CPU scalar; a host tensor's numpy view (None for a tensor anywhere else): no transfer
HOST_READS = (stats.to_host.__code__, stats.cpu_value.__code__, stats._host_array.__code__)
SYNCS = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__")


@pytest.fixture
def syncs(monkeypatch):
    """Calls of the sync methods made from core/, outside stats.to_host: [(method, file:line)]."""
    calls = []
    wrappers = []
    for name in SYNCS:
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            caller = sys._getframe(1)
            forwarded = caller.f_code.co_name == "__torch_function__" and caller.f_locals.get("func") in wrappers
            if caller.f_code.co_filename.startswith(CORE) and caller.f_code not in HOST_READS \
                    and not forwarded:  # the capture mode passing on the script's own .item()
                calls.append((_name, f"{os.path.basename(caller.f_code.co_filename)}:{caller.f_lineno}"))
            return _real(self, *args, **kwargs)

        wrappers.append(counted)
        monkeypatch.setattr(torch.Tensor, name, counted)
    return calls


def train(steps: int) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(16, 6), torch.randn(16, 1)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()


@pytest.mark.parametrize("detail", ["full", "light", "auto"])
def test_one_host_transfer_per_iteration(detail, syncs):
    before = stats.host_transfers
    its = trace(lambda: train(6), detail=detail)
    assert len(its) == 6
    assert stats.host_transfers - before == 6
    assert syncs == []
    assert all(it.loss is not None for it in its)
    assert all(it.params for it in its if it.detail != "loss")  # auto may keep only the loss
    assert its[0].detail == ("light" if detail == "light" else "full")
    if detail == "full":
        params = [a for _, a in its[0].graph.nodes(data=True) if a["kind"] == "param"]
        assert len(params) == 6 and all(a["value"] and a["grad"] for a in params)
        assert its[0].graph.nodes["n0"]["value"]["values"] == its[0].loss


def test_the_counter_sees_a_sync_from_core(syncs):
    """The fixture is not blind: a core function calling .item() is caught."""
    stats.name_of(torch.float32)
    assert syncs == []
    code = compile("def f(t):\n    return t.item()\n", os.path.join(CORE, "fake.py"), "exec")
    scope: dict = {}
    exec(code, scope)
    scope["f"](torch.ones(()))
    assert syncs == [("item", "fake.py:2")]
