"""Light detail's per-parameter gradient norms against plain torch, on every path the tracer takes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.util import spend_budget, trace


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


def simulate_budget(monkeypatch, step: float, light: float, full_extra: float, loss: float = 0.00002,
                    n: int = 3000) -> tuple[list[str], float]:
    """Run the auto budget on a simulated clock: each step takes `step` plus what its detail costs.
    Returns the detail of each iteration and traced time / untraced time."""
    from core import tracer as tracer_mod

    clock = [0.0]
    monkeypatch.setattr(tracer_mod.time, "perf_counter", lambda: clock[0])
    budget = tracer_mod.Budget("auto", overhead=0.10)
    details = []
    for _ in range(n):
        detail = budget.next_detail()
        details.append(detail)
        own = {"full": 0.001, "light": light, "loss": loss}[detail]
        wall = step + own + (full_extra if detail == "full" else 0.0)
        clock[0] += wall
        budget.charge(detail, wall, own)
    return details, clock[0] / (n * step)


def test_auto_budget_keeps_traced_time_within_the_overhead(monkeypatch):
    """10 ms steps, light tracing 0.2 ms, a full iteration 40 ms extra: every iteration light, some full."""
    details, ratio = simulate_budget(monkeypatch, 0.010, 0.0002, 0.040)
    assert details[:2] == ["full", "light"]
    assert 1.06 <= ratio <= 1.10, ratio
    assert 0.005 < details.count("full") / len(details) < 0.03
    assert details.count("loss") < 0.01 * len(details)


def test_auto_budget_drops_to_loss_only_when_light_alone_is_too_dear(monkeypatch):
    """7 ms steps whose light tracing costs 2 ms (28%): the budget still holds, by mixing in iterations
    that keep only the loss; all three tiers occur, light ones most among the rich."""
    details, ratio = simulate_budget(monkeypatch, 0.007, 0.002, 0.025)
    assert 1.05 <= ratio <= 1.10, ratio
    share = {d: details.count(d) / len(details) for d in ("full", "light", "loss")}
    assert 0.15 < share["light"] < 0.35 and 0.003 < share["full"] < 0.03 and share["loss"] > 0.6, share


def train_losses(steps: int, after_step=lambda: None) -> list[float]:
    """The losses of `steps` SGD steps of make()'s net; `after_step()` runs after each."""
    net, x, y = make()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        out.append(loss.item())
        after_step()
    return out


def spent_budget_run(monkeypatch, control=None, steps: int = 6):
    """Train under auto detail whose budget is always spent after the first two iterations."""
    from core import tracer as tracer_mod

    spend_budget(monkeypatch)
    its = []
    tracer = tracer_mod.Tracer(its.append, detail="auto", control=control)

    def wrapper_only_with_a_graph():
        assert (torch.nn.Module.__call__ is tracer._module_call) == (tracer._detail != "loss")

    tracer.install()
    try:
        losses = train_losses(steps, wrapper_only_with_a_graph)
    finally:
        tracer.uninstall()
    assert torch.nn.Module.__call__ is not tracer._module_call
    return its, losses


def test_loss_only_iterations_keep_the_exact_loss_and_no_graph(monkeypatch):
    from core import stats

    plain = train_losses(6)
    before = stats.host_transfers
    its, losses = spent_budget_run(monkeypatch)
    assert stats.host_transfers - before == 6  # still one transfer per iteration
    assert losses == plain and [it.loss for it in its] == plain
    assert [it.detail for it in its] == ["full", "light", "loss", "loss", "loss", "loss"]
    for it in its[2:]:
        assert it.graph.number_of_nodes() == 0 and it.signature == "" and it.params == {}
        assert set(it.phase_times) == {"forward", "backward"}
    assert its[1].params["0.weight"]["grad_norm"] > 0


def test_a_watcher_or_a_gradient_breakpoint_gets_graphs_even_when_the_budget_is_spent(monkeypatch):
    from core.control import Breakpoints

    class Watching(Breakpoints):
        def wants_node_events(self):
            return True

    for control in (Watching([]), Breakpoints(["grad_norm>1e9"])):
        its, _ = spent_budget_run(monkeypatch, control)
        assert [it.detail for it in its] == ["full"] + ["light"] * 5
        assert all(it.graph.number_of_nodes() == its[0].graph.number_of_nodes() == 10 for it in its)
    its, _ = spent_budget_run(monkeypatch, Breakpoints(["loss>1e9"]))  # the loss is always there
    assert [it.detail for it in its][2:] == ["loss"] * 4


def test_auto_budget_holds_when_light_iterations_slow_down_the_next_ones(monkeypatch):
    """Costs no clock inside an iteration sees (the graph's objects collected later, evicted caches):
    each light iteration here also makes the next iteration 2 ms slower. The check on the whole
    (all walls against loss-only ones) still keeps the run within the budget."""
    from core import tracer as tracer_mod

    clock = [0.0]
    monkeypatch.setattr(tracer_mod.time, "perf_counter", lambda: clock[0])
    budget = tracer_mod.Budget("auto", overhead=0.10)
    step, late, n = 0.007, 0.0, 4000
    details = []
    for _ in range(n):
        detail = budget.next_detail()
        details.append(detail)
        own = {"full": 0.001, "light": 0.002, "loss": 0.00002}[detail]
        wall = step + own + late + (0.025 if detail == "full" else 0.0)
        late = 0.002 if detail in ("light", "full") else 0.0
        clock[0] += wall
        budget.charge(detail, wall, own)
    ratio = clock[0] / (n * step)
    assert ratio <= 1.10, ratio
    assert details.count("light") > 0.05 * n  # and still gives graphs


def test_export_draws_the_last_iteration_with_a_graph(monkeypatch, tmp_path):
    """A recording ending in loss-only iterations exports the last graph it has by default, and
    asking for a loss-only iteration says why there is nothing to draw."""
    from core import export
    from core import tracer as tracer_mod
    from core.recording import Recording, RecordingWriter

    spend_budget(monkeypatch)
    out = str(tmp_path / "auto.bps")
    writer = RecordingWriter(out, {"script": "auto.py", "argv": [], "detail": "auto"})
    tracer = tracer_mod.Tracer(writer.add_iteration, detail="auto")
    net, x, y = make()
    tracer.install()
    try:
        for _ in range(4):
            nn.functional.mse_loss(net(x), y).backward()
    finally:
        tracer.uninstall()
    writer.close("finished")
    rec = Recording(out)
    export.write(rec, "dot", str(tmp_path / "last.dot"))
    dot = (tmp_path / "last.dot").read_text()
    assert "iteration 1" in dot and "AddmmBackward0" in dot
    with pytest.raises(ValueError, match=r"iteration 3 kept only its loss .* the nearest with one: 1"):
        export.write(rec, "dot", str(tmp_path / "x.dot"), iteration=3)
    export.write(rec, "dot", str(tmp_path / "first.dot"), iteration=0)
    assert "iteration 0" in (tmp_path / "first.dot").read_text()


def test_a_tracer_failure_does_not_end_the_training(monkeypatch, capsys):
    """A bug of ours in one backward: the script goes on with plain torch's numbers, that backward
    is not recorded, one line on stderr says so; the script's own errors still reach it."""
    from core import graph as graph_mod

    plain = train_losses(4)
    real = graph_mod.walk
    calls = []

    def flaky(roots):
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("planted")
        return real(roots)

    monkeypatch.setattr(graph_mod, "walk", flaky)
    from core.tracer import Tracer

    its = []
    tracer = Tracer(its.append, detail="light")
    net, x, y = make()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    tracer.install()
    try:
        for _ in range(4):
            opt.zero_grad()
            loss = nn.functional.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()  # the script's error, unchanged
    finally:
        tracer.uninstall()
    assert losses == plain
    assert [it.index for it in its] == [0, 1, 2] and tracer.failures == 1
    assert [it.loss for it in its] == [plain[0], plain[2], plain[3]]
    err = capsys.readouterr().err
    assert "tracing failed in backward 1 (KeyError: 'planted'); the script goes on" in err
