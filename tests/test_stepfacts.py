"""What the tracer records for the training doctor beyond the graph: a softmax's dimension (a static node
attribute) and what each optimizer step found (core/trace/stepfacts.py: parameters with a .grad, modules in
eval mode, parameters no optimizer holds), written to the recording's step_facts table when they change."""

from __future__ import annotations

import pytest
import torch

from backprop_studio.core.recording.store import Recording
from tests import doctor_cases
from tests.util import trace, write_script


def test_a_softmax_keeps_its_dimension_counted_from_zero():
    x = torch.randn(4, 3, requires_grad=True)

    def run():
        (torch.softmax(x, dim=0).sum() + torch.log_softmax(x, dim=-1).sum()).backward()

    (it,) = trace(run)
    dims = {a["op"]: a["dim"] for _, a in it.graph.nodes(data=True) if "Softmax" in a["op"]}
    assert dims == {"SoftmaxBackward0": 0, "LogSoftmaxBackward0": 1}  # -1 of a 2-d tensor is 1
    assert all(a["dim"] is None for _, a in it.graph.nodes(data=True) if "Softmax" not in a["op"])


def record_events(tmp_path, body: str) -> list[dict]:
    path = write_script(tmp_path, body)
    out = str(tmp_path / "run.bps")
    assert doctor_cases.record(doctor_cases.Case("t", "tuned", path), out) == 0
    rec = Recording(out)
    try:
        return [{"index": i, **facts} for i, facts in rec.step_facts()]
    finally:
        rec.close()


@pytest.mark.parametrize("zero_between", [False, True])
def test_a_step_after_zero_grad_finds_no_gradient(tmp_path, zero_between):
    events = record_events(tmp_path, f"""
        import torch
        model = torch.nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(4):
            if not {zero_between}:
                opt.zero_grad()
            model(torch.randn(5, 3)).sum().backward()
            if {zero_between}:
                opt.zero_grad()
            opt.step()
    """)
    assert [(e["index"], e["step"], e["params"], e["with_grad"]) for e in events] == \
        [(0, 1, 2, 0 if zero_between else 2)]  # the same at every step: written once


def test_eval_mode_modules_and_parameters_no_optimizer_holds_are_listed_when_they_change(tmp_path):
    events = record_events(tmp_path, """
        import torch
        from torch import nn
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.1), nn.Linear(4, 2))
        opt = torch.optim.SGD(model[:3].parameters(), lr=0.1)  # the last layer left out
        for i in range(4):
            model.train(i < 2)
            opt.zero_grad()
            model(torch.randn(5, 3)).sum().backward()
            opt.step()
    """)
    assert [(e["index"], e["models"]) for e in events] == [
        (0, [["Sequential", 2, [], ["3.weight", "3.bias"]]]),
        (2, [["Sequential", 2, ["1", "2"], ["3.weight", "3.bias"]]])]


def test_a_closure_step_is_not_judged_by_its_gradient_before_the_closure(tmp_path):
    events = record_events(tmp_path, """
        import torch
        model = torch.nn.Linear(3, 1)
        opt = torch.optim.LBFGS(model.parameters(), max_iter=2)
        x = torch.randn(8, 3)

        def closure():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
    """)
    assert events and {e["with_grad"] for e in events} == {None}


def test_a_model_no_optimizer_holds_is_listed_when_its_parameters_get_gradients(tmp_path):
    events = record_events(tmp_path, """
        import copy
        import torch
        from torch import nn
        encoder = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
        decoder = nn.Sequential(nn.Linear(2, 3))  # gets gradients, left out of the optimizer
        ema = copy.deepcopy(encoder)  # called under no_grad only: no gradient
        teacher = nn.Linear(3, 3).requires_grad_(False)
        opt = torch.optim.SGD(encoder.parameters(), lr=0.1)
        for _ in range(3):
            x = torch.randn(5, 3)
            with torch.no_grad():
                ema(x)
            opt.zero_grad()
            (decoder(encoder(x)) - teacher(x)).pow(2).mean().backward()
            opt.step()
    """)
    assert [(e["index"], sorted(e["models"])) for e in events] == [
        (0, [["decoder", 0, [], ["decoder.0.weight", "decoder.0.bias"]], ["encoder", 0, [], []]])]
