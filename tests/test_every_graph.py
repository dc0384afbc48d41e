"""Every iteration keeps its graph, by default: structure always, values within the budget, NaN/Inf
never missed. Oracle: the same computation in plain torch."""

from __future__ import annotations

import math
import os
import time

import pytest
import torch
from torch import nn

from backprop_studio.core.trace import tracer as tracer_mod
from tests.util import LESSONS, nodes, record_fast, spend_budget, write_script

INF_SCRIPT = """
    import torch
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    for i in range(6):
        big = 1e30 if i >= 3 else 1.0  # the loss overflows to inf from iteration 3 on
        loss = (w * big).pow(2).sum()
        print(i, loss.item())
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
        w.grad = None
"""
TINY_SCRIPT = """
    import torch
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    x = torch.randn(8, 3)
    for i in range(200):
        loss = (x @ w).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
"""


def flagged(it: dict) -> bool:
    return any(s and (s.get("nan") or s.get("inf")) for n in it["graph"]["nodes"] for s in (n["value"], n["grad"]))


def poly_losses(steps: int) -> list[float]:
    """poly_autograd.py's losses, computed here in plain torch."""
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a, b, c, d = (torch.randn((), requires_grad=True) for _ in range(4))
    out = []
    for _ in range(steps):
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= 1e-6 * p.grad
                p.grad = None
        out.append(loss.item())
    return out


@pytest.mark.e2e
def test_a_2000_iteration_polynomial_fit_recorded_by_default_keeps_every_graph(recorded):
    its = recorded.data(os.path.join(LESSONS, "poly_autograd.py"))["iterations"]
    assert len(its) == 2000
    assert [it["loss"] for it in its] == poly_losses(2000)
    for it in its:
        assert len(it["graph"]["nodes"]) == 13 and it["signature"] == its[0]["signature"], it["index"]
    assert sorted(n["name"] for n in nodes(its[-1], kind="leaf")) == ["a", "b", "c", "d"]
    assert nodes(its[-1], name="loss")[0]["op"] == "SumBackward0"
    # how many are full depends on the machine's timing: benchmarks/processes.py measures it (>= 90 %)
    assert any(it["detail"] == "full" for it in its) and its[0]["detail"] == "full"


@pytest.mark.e2e
def test_the_custom_function_fit_recorded_by_default_shows_its_node_on_the_last_iteration(recorded, plain_run):
    its = recorded.data(os.path.join(LESSONS, "legendre_custom_function.py"))["iterations"]
    g, _ = plain_run(os.path.join(LESSONS, "legendre_custom_function.py"))
    assert len(its) == 2000 and its[-1]["loss"] == g["loss"].item()
    assert all(it["graph"]["nodes"] for it in its)
    (custom,) = nodes(its[-1], kind="custom")
    assert custom["op"] == "LegendrePolynomial3Backward"
    assert its[0]["detail"] == "full" and nodes(its[0], kind="custom")[0]["grad"] is not None  # the first: full


@pytest.mark.e2e
def test_a_loss_turning_inf_is_flagged_at_its_iteration_without_a_breakpoint(tmp_path):
    script = write_script(tmp_path, INF_SCRIPT)
    proc, data = record_fast(tmp_path, script, detail="auto")
    its = data["iterations"]
    assert len(its) == 6 and data["status"] == "finished"
    assert [flagged(it) for it in its] == [False, False, False, True, True, True]
    root = nodes(its[3], id="n0")[0]
    assert root["value"]["inf"] == 1 and its[3]["loss"] == "inf"
    assert its[3]["detail"] == "full"
    (w,) = nodes(its[3], kind="leaf")
    assert w["grad"]["inf"] == 2


@pytest.mark.parametrize("body", [TINY_SCRIPT, INF_SCRIPT], ids=["tiny-200", "inf"])
def test_a_screenshot_of_three_iterations_finishes_with_a_png(make_main_window, tmp_path, body):
    """As `--screenshot OUT --iterations 3 SCRIPT` takes it (the command line itself: test_gui_window.py,
    test_temp_files.py)."""
    from backprop_studio.gui.app import screenshot

    script = write_script(tmp_path, body)
    png = tmp_path / "shot.png"
    assert screenshot(make_main_window(), {"mode": "script", "script": script, "args": []}, str(png), 3) == 0
    assert png.stat().st_size > 10_000


# ---- in-process: the rules of the auto budget, with the budget spent --------------------------

def run_traced(body, steps: int) -> list:
    its = []
    tracer = tracer_mod.Tracer(its.append, detail="auto")
    tracer.install()
    try:
        for i in range(steps):
            body(i)
    finally:
        tracer.uninstall()
    return its


def test_the_first_nonfinite_loss_gets_full_detail_whatever_the_budget(monkeypatch):
    spend_budget(monkeypatch)
    w = nn.Parameter(torch.tensor([1.0, 2.0]))

    def body(i):
        (w * (1e30 if i in (3, 5) else 1.0)).pow(2).sum().backward()

    its = run_traced(body, 7)
    assert [it.detail for it in its] == ["full", "light", "light", "full", "light", "light", "light"]
    for it in its:
        bad = it.index in (3, 5)
        assert (it.graph.nodes["n0"]["value"]["inf"] == 1) is bad
        assert (it.params["w"]["inf"] == 2) is bad
    assert math.isinf(its[5].loss) and its[5].graph.nodes["n1"]["op"] == "PowBackward0"


def test_a_new_structure_gets_full_detail_and_a_repeated_one_shares_its_graph(monkeypatch):
    spend_budget(monkeypatch)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    xs = [torch.randn(16, 4)] * 3 + [torch.randn(5, 4)] + [torch.randn(16, 4)] * 2  # a short last batch

    def body(i):
        out = net(xs[i])
        (out.pow(2).mean() if i != 4 else out.abs().mean()).backward()

    its = run_traced(body, 6)
    assert [it.detail for it in its] == ["full", "light", "light", "full", "full", "light"]
    assert its[1].structure is its[2].structure and its[1].graph is not its[2].graph
    assert its[3].signature != its[0].signature  # shapes are part of the structure
    assert its[3].graph.nodes["n1"]["shape"] == [5, 1] and its[2].graph.nodes["n1"]["shape"] == [16, 1]
    assert its[4].graph.nodes["n0"]["op"] == "MeanBackward0" and its[4].graph.nodes["n1"]["op"] == "AbsBackward0"
    for it in its:
        names = sorted(a["name"] for _, a in it.graph.nodes(data=True) if a["kind"] == "param")
        assert names == ["0.bias", "0.weight", "2.bias", "2.weight"]
    # each iteration's own numbers, not another's: gradient norms against plain torch
    net.zero_grad()
    nn.functional.mse_loss(net(xs[2]), torch.zeros(16, 1), reduction="mean").backward()
    assert its[2].params["2.bias"]["grad_norm"] == pytest.approx(net[2].bias.grad.norm().item(), rel=1e-5)
    assert all("grad" not in a and "value" not in a for _, a in its[1].structure.graph.nodes(data=True))


def test_a_fresh_leaf_each_iteration_keeps_its_script_name(monkeypatch):
    spend_budget(monkeypatch)
    torch.manual_seed(0)

    def body(i):
        if i < 3:
            x = torch.randn(3, requires_grad=True)
            (x * 2).sum().backward()
        else:
            z = torch.randn(3, requires_grad=True)
            (z * 2).sum().backward()

    its = run_traced(body, 5)
    assert [it.graph.nodes["n2"]["name"] for it in its] == ["x", "x", "x", "z", "z"]
    assert all(it.graph.nodes["n2"]["grad"]["norm"] == pytest.approx(2 * math.sqrt(3)) for it in its)
    # the same structure over a new tensor named alike is recognised (no graph built again); renamed, not
    assert its[1].structure is its[0].structure is its[2].structure and its[4].structure is its[3].structure
    assert its[3].structure is not its[0].structure and [it.detail for it in its[1:3]] == ["light", "light"]


def test_full_iterations_of_an_unchanged_structure_share_one_structure(tmp_path):
    """Full detail builds each iteration's graph afresh (its numbers go into it) but keeps one Structure:
    a recording then stores the structure once and holds no growing table of them."""
    from backprop_studio.core.recording.store import Recording, RecordingWriter

    writer = RecordingWriter(str(tmp_path / "full.bps"))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = torch.randn(5, 3)
    its = []

    def sink(it):
        its.append(it)
        writer.add_iteration(it)

    tracer = tracer_mod.Tracer(sink, detail="full")
    tracer.install()
    try:
        for _ in range(30):
            net(x).pow(2).mean().backward()
    finally:
        tracer.uninstall()
    writer.close("finished")
    assert len({id(it.structure) for it in its}) == 1 and len(writer._key_of) <= 2
    assert len({id(it.graph) for it in its}) == 30
    rec = Recording(str(tmp_path / "full.bps"))
    assert rec.db.execute("SELECT COUNT(*) FROM graphs").fetchone()[0] == 1
    assert rec.iteration(29).graph.nodes["n0"]["value"]["values"] == pytest.approx(its[29].loss)


def test_a_screenshot_never_waits_forever(make_main_window, tmp_path):
    """A script that never reaches its backward: the screenshot gives up on time, saves what is shown
    and says why (exit 1)."""
    from backprop_studio.gui.app import screenshot

    script = write_script(tmp_path, "import time\nimport torch\ntime.sleep(600)\n")
    out = tmp_path / "shot.png"
    w = make_main_window()
    started = time.monotonic()
    code = screenshot(w, {"mode": "script", "script": script, "args": []}, str(out), 3, timeout=4)
    assert code == 1 and time.monotonic() - started < 300  # it gave up: the script sleeps 600 s
    assert out.stat().st_size > 10_000


def test_a_fresh_leaf_of_another_dtype_is_another_structure(monkeypatch):
    """Leaves are recognised by what they are, not which tensor: a float64 `x` in place of a float32 one
    (same name, same shapes) is a new structure with its own dtype."""
    spend_budget(monkeypatch)

    def body(i):
        x = torch.ones(3, dtype=torch.float64 if i == 2 else torch.float32, requires_grad=True)
        (x * 2).sum().backward()

    its = run_traced(body, 3)
    assert its[1].structure is its[0].structure and its[2].structure is not its[0].structure
    assert [it.graph.nodes["n2"]["dtype"] for it in its] == ["float32", "float32", "float64"]
