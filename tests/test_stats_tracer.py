"""Light detail's per-parameter gradient norms against plain torch, on every path the tracer takes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.util import trace


def make():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    return net, torch.randn(8, 5), torch.randn(8, 3)


def plain_grad_norms(steps: int, set_to_none: bool) -> list[dict]:
    """What torch says each backward contributed, per parameter (no tracer)."""
    net, x, y = make()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    out = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=set_to_none)
        before = {n: (p.grad.clone() if p.grad is not None else 0) for n, p in net.named_parameters()}
        nn.functional.mse_loss(net(x), y).backward()
        out.append({n: (p.grad - before[n]).norm().item() for n, p in net.named_parameters()})
        opt.step()
    return out


def traced_run(steps: int, set_to_none: bool, detail: str):
    net, x, y = make()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)

    def run():
        for _ in range(steps):
            opt.zero_grad(set_to_none=set_to_none)
            nn.functional.mse_loss(net(x), y).backward()
            opt.step()

    return trace(run, detail=detail)


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("detail", ["light", "full"])
def test_param_grad_norms_equal_plain_torch(set_to_none, detail):
    expected = plain_grad_norms(3, set_to_none)
    its = traced_run(3, set_to_none, detail)
    assert [it.detail for it in its] == [detail] * 3
    for it, want in zip(its, expected, strict=True):
        got = {name: p["grad_norm"] for name, p in it.params.items()}
        assert got == pytest.approx(want, rel=1e-5)
        assert all(p["nan"] == 0 and p["inf"] == 0 for p in it.params.values())
        for _, a in it.graph.nodes(data=True):
            if a["kind"] == "param":
                assert a["grad"]["norm"] == pytest.approx(want[a["name"]], rel=1e-5)


def test_accumulating_without_zero_grad_records_each_contribution():
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(3))
    xs = [torch.randn(3) for _ in range(3)]

    def run():
        for x in xs:
            (w * x).sum().backward()

    its = trace(run, detail="light")
    assert [it.params["w"]["grad_norm"] for it in its] == pytest.approx([x.norm().item() for x in xs])


def test_post_accumulate_hook_that_clears_grad_is_still_seen():
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(4))
    x = torch.randn(4)
    seen = []

    def step_in_backward(p):
        seen.append(p.grad.norm().item())
        p.grad = None  # an "optimizer in backward" frees the gradient at once

    w.register_post_accumulate_grad_hook(step_in_backward)
    its = trace(lambda: (w * x).sum().backward(), detail="light")
    assert its[0].params["w"]["grad_norm"] == pytest.approx(seen[0]) and w.grad is None


def test_autograd_grad_in_light_detail():
    a = torch.tensor([1.0, 2.0, 2.0], requires_grad=True)

    def run():
        (ga,) = torch.autograd.grad((a ** 2).sum(), a)
        run.ga = ga

    (it,) = trace(run, detail="light")
    assert it.params["a"]["grad_norm"] == pytest.approx(run.ga.norm().item()) and a.grad is None


def test_light_nonfinite_gradients_are_counted():
    w = nn.Parameter(torch.tensor([1.0, 0.0, -1.0]))
    (it,) = trace(lambda: torch.log(w).sum().backward(), detail="light")
    assert it.params["w"]["inf"] == 1 and it.params["w"]["nan"] == 0


def test_auto_budget_keeps_traced_time_within_the_overhead(monkeypatch):
    """A simulated run: 10 ms steps, light tracing 0.2 ms, a full iteration 40 ms extra."""
    from core import tracer as tracer_mod

    clock = [0.0]
    monkeypatch.setattr(tracer_mod.time, "perf_counter", lambda: clock[0])
    budget = tracer_mod.Budget("auto", overhead=0.10)
    plain = 0.0
    details = []
    for _ in range(3000):
        full = budget.next_is_full()
        details.append("full" if full else "light")
        own = 0.0002 if not full else 0.001
        wall = 0.010 + own + (0.040 if full else 0.0)
        clock[0] += wall
        plain += 0.010
        budget.charge(full, wall, own)
    assert details[:2] == ["full", "light"]
    ratio = clock[0] / plain
    assert 1.06 <= ratio <= 1.10, ratio
    assert 0.01 < details.count("full") / len(details) < 0.03
