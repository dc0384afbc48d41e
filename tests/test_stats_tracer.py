"""Light detail's per-parameter gradient norms against plain torch, on every path the tracer takes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.util import loss_only_recording, spend_budget, trace


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


def simulate_budget(monkeypatch, step: float, light: float, full_extra: float,
                    n: int = 3000) -> tuple[list[str], float]:
    """Run the auto budget on a simulated clock: each step takes `step` plus what its detail costs.
    Returns the detail of each iteration and traced time / untraced time."""
    from backprop_studio.core.trace import tracer as tracer_mod

    clock = [0.0]
    monkeypatch.setattr(tracer_mod.time, "perf_counter", lambda: clock[0])
    budget = tracer_mod.Budget("auto", overhead=0.10)
    details = []
    for _ in range(n):
        detail = budget.next_detail()
        details.append(detail)
        own = {"full": 0.001, "light": light}[detail]
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


def test_auto_budget_never_drops_the_graph_when_light_alone_is_too_dear(monkeypatch):
    """7 ms steps whose light tracing costs 2 ms (28%): no room for full iterations after the first,
    but every iteration keeps its light graph (the structure is never traded for speed)."""
    details, ratio = simulate_budget(monkeypatch, 0.007, 0.002, 0.025)
    assert details[0] == "full" and set(details[1:]) == {"light"}
    assert ratio == pytest.approx(1 + 0.002 / 0.007, rel=0.01)


@pytest.mark.parametrize(("step", "full_extra"), [(0.00005, 0.0012), (0.0003, 0.0012), (0.0008, 0.0005)])
def test_auto_budget_gives_small_scripts_full_detail_on_every_iteration(monkeypatch, step, full_extra):
    """Sub-millisecond steps (lessons, students' scripts): the absolute allowance (a traced iteration
    may take up to 3 ms) pays a full iteration every time."""
    details, _ = simulate_budget(monkeypatch, step, 0.0001, full_extra)
    assert details[1] == "light"  # learns the untraced time once
    assert details.count("full") >= len(details) - 2, details.count("light")


def test_auto_budget_allowance_is_not_added_to_long_steps(monkeypatch):
    """3 ms steps: the budget is 10% of the time (0.3 ms), not 10% plus the allowance."""
    details, ratio = simulate_budget(monkeypatch, 0.003, 0.0001, 0.004)
    assert ratio <= 1.10, ratio
    assert details.count("full") < 0.1 * len(details)


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


def test_a_spent_budget_still_keeps_every_graph_with_one_transfer_each(monkeypatch):
    """Auto detail with no room for full iterations: every iteration is light, with its whole graph
    (names, edges, the signature), the exact loss, parameter gradient norms and one host transfer."""
    from backprop_studio.core.trace import stats
    from backprop_studio.core.trace import tracer as tracer_mod

    plain = train_losses(6)
    spend_budget(monkeypatch)
    its = []
    tracer = tracer_mod.Tracer(its.append, detail="auto")
    before = stats.host_transfers
    tracer.install()
    try:
        losses = train_losses(6)
    finally:
        tracer.uninstall()
    assert stats.host_transfers - before == 6
    assert losses == plain and [it.loss for it in its] == plain
    assert [it.detail for it in its] == ["full"] + ["light"] * 5
    for it in its:
        assert it.graph.number_of_nodes() == 10 and it.signature == its[0].signature
        assert sorted(a["name"] for _, a in it.graph.nodes(data=True) if a["kind"] == "param") == \
            ["0.bias", "0.weight", "2.bias", "2.weight"]
        assert it.params["0.weight"]["grad_norm"] > 0
        assert it.graph.nodes["n0"]["value"]["inf"] == 0


def test_export_draws_any_iteration_and_says_when_an_old_one_kept_only_its_loss(tmp_path):
    """Every iteration of a light run exports its graph; a recording from before every iteration kept
    one says why a loss-only iteration has nothing to draw and draws the last graph by default."""
    from backprop_studio.core.recording.store import Recording, RecordingWriter
    from backprop_studio.core.render import export
    from backprop_studio.core.trace.tracer import Tracer

    out = str(tmp_path / "light.bps")
    writer = RecordingWriter(out, {"script": "light.py", "argv": [], "detail": "light"})
    tracer = Tracer(writer.add_iteration, detail="light")
    net, x, y = make()
    tracer.install()
    try:
        for _ in range(4):
            nn.functional.mse_loss(net(x), y).backward()
    finally:
        tracer.uninstall()
    writer.close("finished")
    for i in range(4):
        export.write(Recording(out), "dot", str(tmp_path / f"{i}.dot"), iteration=i)
        dot = (tmp_path / f"{i}.dot").read_text()
        assert f"iteration {i}" in dot and "AddmmBackward0" in dot
    old = str(tmp_path / "old.bps")
    loss_only_recording(old)
    rec = Recording(old)
    export.write(rec, "dot", str(tmp_path / "last.dot"))
    assert "iteration 1" in (tmp_path / "last.dot").read_text()
    with pytest.raises(ValueError, match=r"iteration 3 kept only its loss .* the nearest with one: 1"):
        export.write(rec, "dot", str(tmp_path / "x.dot"), iteration=3)


def test_a_tracer_failure_does_not_end_the_training(monkeypatch, capsys):
    """A bug of ours in one backward: the script goes on with plain torch's numbers, that backward
    is not recorded, one line on stderr says so; the script's own errors still reach it."""
    from backprop_studio.core.trace import graph as graph_mod

    plain = train_losses(4)
    real = graph_mod.bare_walk
    calls = []

    def flaky(roots):
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("planted")
        return real(roots)

    monkeypatch.setattr(graph_mod, "bare_walk", flaky)
    from backprop_studio.core.trace.tracer import Tracer

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


@pytest.mark.parametrize("detail", ["light", "full"])
def test_a_forgotten_zero_grad_shows_the_accumulated_grad_beside_this_backwards(detail):
    """Without zero_grad, .grad grows every step: each iteration records this backward's gradient and
    the accumulated .grad the optimizer will use (plain torch's w.grad as the oracle)."""
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(3))
    x = torch.randn(3)
    seen = []

    def run():
        for _ in range(4):
            (w * x).sum().backward()
            seen.append(w.grad.norm().item())

    its = trace(run, detail=detail)
    assert [it.params["w"]["grad_norm"] for it in its] == pytest.approx([x.norm().item()] * 4)
    assert "accumulated_norm" not in its[0].params["w"]  # nothing was there before the first
    assert [it.params["w"]["accumulated_norm"] for it in its[1:]] == pytest.approx(seen[1:])
    (node,) = [a for _, a in its[3].graph.nodes(data=True) if a["kind"] == "param"]
    assert node["accumulated"]["norm"] == pytest.approx(seen[3]) and node["grad"]["norm"] == pytest.approx(seen[0])


def test_an_optimizer_parameter_without_a_gradient_is_listed():
    """A layer the forward never uses: its parameters are in Iteration.params with no norm, not missing."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 1), nn.Linear(3, 1)

        def forward(self, x):
            return self.used(x)

    def run():
        torch.manual_seed(0)
        net = Net()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            net(torch.randn(4, 3)).pow(2).mean().backward()
            opt.step()

    for it in trace(run, detail="light"):
        assert it.params["unused.weight"]["grad_norm"] is None and it.params["unused.bias"]["grad_norm"] is None
        assert it.params["used.weight"]["grad_norm"] > 0


def test_full_gradients_of_ops_feeding_views_equal_plain_torch():
    """An op whose whole output goes into a view (reshape, transpose, squeeze) has that view's gradient
    rearranged, and a view of a leaf that feeds nothing else the leaf's .grad (read from those, not hooked):
    their summaries against plain torch's, a chain of views included; a small output (values kept) and one
    feeding two ops are hooked as before."""
    torch.manual_seed(0)
    w = nn.Parameter(torch.randn(12, 16))
    v = nn.Parameter(torch.randn(16, 12))
    x = torch.randn(10, 12)

    def forward():
        h = x @ w  # (10, 16): feeds one view only
        t = h.reshape(20, 8).t().unsqueeze(0)  # a chain of views
        s = w[:2, :2] * 3.0  # 4 elements: values kept, hooked
        u = torch.tanh(t) * 2.0  # feeds two ops: hooked
        loss = (u * u).sum() + (u.sum() * s.reshape(-1)).sum() + (x @ v.t()).pow(2).sum()
        return h, u, s, loss

    h, u, s, loss = forward()
    for t in (h, u, s):
        t.retain_grad()
    loss.backward()
    want = {(tuple(t.shape), round(t.grad.norm().item(), 4)): t.grad for t in (h, u, s)}
    v_grad = v.grad.clone()
    w.grad = v.grad = None
    (it,) = trace(lambda: forward()[-1].backward(), detail="full")
    by_op = {}
    for _, a in it.graph.nodes(data=True):
        by_op.setdefault(a["op"], []).append(a)
    twins = it.structure.view_twins(None)  # made (and kept) by the iteration's walk
    assert sorted(it.graph.nodes[n]["op"] for n in twins) == ["MmBackward0", "TBackward0", "TBackward0",
                                                              "ViewBackward0"]
    mm = by_op["MmBackward0"][0]["grad"]
    g = want[((10, 16), round(mm["norm"], 4))]
    assert mm["shape"] == [10, 16] and "values" not in mm
    assert (mm["mean"], mm["min"], mm["max"]) == pytest.approx(
        (g.mean().item(), g.min().item(), g.max().item()), rel=1e-5, abs=1e-9)
    for op, shape in (("ViewBackward0", [20, 8]), ("TBackward0", [8, 20]), ("UnsqueezeBackward0", [1, 8, 20])):
        (a,) = [a for a in by_op[op] if a["shape"] == shape]  # each the same elements, its own shape
        assert a["grad"]["norm"] == pytest.approx(mm["norm"], rel=1e-6) and a["grad"]["shape"] == shape
    (vt,) = [a for a in by_op["TBackward0"] if a["shape"] == [12, 16]]
    assert vt["grad"]["shape"] == [12, 16] and "values" not in vt["grad"]
    assert (vt["grad"]["norm"], vt["grad"]["mean"], vt["grad"]["min"]) == pytest.approx(
        (v_grad.norm().item(), v_grad.mean().item(), v_grad.min().item()), rel=1e-5, abs=1e-9)
    for a in by_op["MulBackward0"]:
        if a["shape"] == [2, 2]:
            assert a["grad"]["values"] == want[((2, 2), round(a["grad"]["norm"], 4))].tolist()
    assert w.grad is not None and it.params["w"]["grad_norm"] == pytest.approx(w.grad.norm().item(), rel=1e-6)
