"""Real-world training code: the tracer never changes the run. Oracle: the same code without it."""

from __future__ import annotations

import pytest
import torch

from tests.util import trace


def no_grad_view_then_inplace() -> tuple[float, float]:
    """What transformers' weight initialisation does: a view made under no_grad, its base changed in
    place with grad enabled, the view used again under no_grad. Reading that view's grad_fn raises."""
    torch.manual_seed(0)
    w = torch.randn(4, 4, requires_grad=True)
    h = w * 1
    with torch.no_grad():
        v = h[0]
    h.mul_(2)
    with torch.no_grad():
        v.add_(1)
    loss = h.sum()
    loss.backward()
    return loss.item(), w.grad.sum().item()


@pytest.mark.parametrize("detail", ["full", "light", "auto"])
def test_a_no_grad_view_of_a_base_changed_in_place_runs_as_without_the_tracer(detail):
    plain = no_grad_view_then_inplace()
    box = {}
    its = trace(lambda: box.setdefault("out", no_grad_view_then_inplace()), detail=detail)
    assert box["out"] == plain
    assert len(its) == 1 and its[0].loss == plain[0]
