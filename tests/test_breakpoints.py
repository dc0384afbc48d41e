"""Breakpoints: where a NaN/Inf first appeared, loss / grad-norm / iteration conditions, headless and interactive."""

import os
import runpy

import networkx as nx
import pytest

from backprop_studio.core.recording.store import Recording
from backprop_studio.core.session.session import Session
from backprop_studio.core.trace.control import check, parse_condition
from tests.blocking import send_and_wait, wait_finished, wait_paused
from tests.util import record, record_fast, run_plain, trace, write_script

PLANTED = """
import torch
w = torch.tensor([9.0, 8.0], requires_grad=True)
for i in range(5):
    a = w * 1.0
    b = torch.log(a - 5 - 2 * i)  # iteration 2: log(0) and log(-1)
    c = b * 3 + 1
    loss = c.sum()
    loss.backward()
print("ran to the end")
"""
PLANTED_LINE = 6  # write_script dedents; line 1 is empty

TWO_BRANCHES = """
import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
p = torch.sqrt(x - 3)
q = torch.log(x - 4)
loss = (p + q).sum()
loss.backward()
"""

GRAD_ONLY = """
import torch
x = torch.tensor([0.0, 1.0], requires_grad=True)
y = x * 2.0
z = torch.sqrt(y)
loss = (z * 3).sum()
loss.backward()
"""

TRAIN = """
import torch
torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
x, y = torch.randn(32, 3), torch.randn(32, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
losses, norms = [], []
for i in range(30):
    loss = ((model(x) - y) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    losses.append(loss.item())
    norms.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm().item())
    opt.step()
"""


def nonfinite_hit(script):
    its = trace(lambda: runpy.run_path(script, run_name="__main__"))
    hits = [check([parse_condition("nonfinite")], it) for it in its]
    return next(h for h in hits if h)


def test_nonfinite_names_the_first_op_in_forward_order(tmp_path):
    hit = nonfinite_hit(write_script(tmp_path, TWO_BRANCHES))
    # both branches are NaN; the sqrt ran first (the graph walk reaches the log branch first)
    assert (hit["op"], hit["source"], hit["iteration"]) == ("SqrtBackward0", "script.py:4", 0)


def test_nonfinite_gradient_names_the_op_whose_backward_made_it(tmp_path):
    hit = nonfinite_hit(write_script(tmp_path, GRAD_ONLY))
    # every value is finite; d sqrt(y)/dy at y=0 is inf: the sqrt's backward made it
    assert (hit["op"], hit["source"]) == ("SqrtBackward0", "script.py:5")


@pytest.mark.e2e
def test_headless_break_on_planted_nan(tmp_path):
    script = write_script(tmp_path, PLANTED)
    proc, data = record(tmp_path, script, options=("--break-on", "nonfinite"), expect=3)
    brk = data["break"]
    assert brk["reason"] == "nonfinite" and brk["iteration"] == 2
    assert brk["op"] == "LogBackward0" and brk["source"] == f"script.py:{PLANTED_LINE}" and brk["name"] == "b"
    assert data["status"] == "stopped" and [it["index"] for it in data["iterations"]] == [0, 1, 2]
    assert "ran to the end" not in data["console"]
    (line,) = [ln for ln in proc.stderr.splitlines() if "break:" in ln]
    assert "nonfinite" in line and "iteration 2" in line and f"script.py:{PLANTED_LINE}" in line


@pytest.mark.e2e
def test_headless_break_on_iteration_and_loss(tmp_path):
    """In this process, as `record`'s child runs it (the command line's exit 3 is tested above)."""
    script = write_script(tmp_path, TRAIN)
    losses = run_plain(script)[0]["losses"]
    _, data = record_fast(tmp_path, script, break_on=("iteration=7",), expect=3)
    assert data["break"]["iteration"] == 7 and len(data["iterations"]) == 8
    limit = (losses[10] + losses[11]) / 2
    _, data = record_fast(tmp_path, script, break_on=(f"loss<{limit!r}", "loss>1e9"), expect=3)
    assert data["break"]["iteration"] == 11 and data["break"]["reason"].startswith("loss<")


def test_interactive_breakpoints(tmp_path):
    planted = write_script(tmp_path, PLANTED, name="planted.py")
    s = Session(planted, break_on=["nonfinite"], paused=False, record=str(tmp_path / "a.bps"))
    s.start()
    try:
        events = wait_paused(s, 60)
        (brk,) = [e.data for e in events if e.kind == "break"]
        assert brk["iteration"] == 2 and brk["op"] == "LogBackward0"
        assert brk["source"] == f"planted.py:{PLANTED_LINE}"
        assert events[-1].data["point"] == "backward_end" and events[-1].data["reason"] == "break"
        events = send_and_wait(s, "step_iteration")  # still NaN at iteration 3: breaks again
        assert [e.data["iteration"] for e in events if e.kind == "break"] == [3]
        finished = s.stop()
    finally:
        s.close()
    assert finished.data["status"] == "stopped" and finished.data["break"]["iteration"] == 3
    rec = Recording(str(tmp_path / "a.bps"))
    assert rec.meta["break"]["iteration"] == 3  # the last break; the iterations say where NaN/Inf was
    assert [r["index"] for r in rec.scalars() if r["nonfinite"]] == [2, 3]

    script = write_script(tmp_path, TRAIN)
    oracle = runpy.run_path(script, run_name="__main__")
    losses, norms = oracle["losses"], oracle["norms"]
    s = Session(script, break_on=["iteration=3"], paused=False, record=str(tmp_path / "b.bps"))
    s.start()
    try:
        events = wait_paused(s, 60)
        assert events[-1].data["index"] == 3 and events[-1].data["reason"] == "break"
        limit = (losses[9] + losses[10]) / 2
        s.send("set_breakpoints", conditions=[f"loss<{limit!r}"])
        s.send("run")
        events = wait_paused(s)
        (brk,) = [e.data for e in events if e.kind == "break"]
        assert brk["iteration"] == 10 and events[-1].data["index"] == 10
        limit = (min(norms[11:]) + max(norms[11:])) / 2
        want = next(i for i in range(11, 30) if norms[i] < limit)
        s.send("set_breakpoints", conditions=[f"grad_norm<{limit!r}"])
        s.send("run")
        (brk,) = [e.data for e in wait_paused(s) if e.kind == "break"]
        assert brk["iteration"] == want
        assert float(brk["reason"].split("grad_norm=")[1].rstrip(")")) == pytest.approx(norms[want], rel=1e-5)
        s.send("set_breakpoints", conditions=[])
        s.send("run")
        assert wait_finished(s, 60).data == {"status": "finished", "error": None, "break": None, "exit_code": 0}
    finally:
        s.close()


def test_parse_condition_messages():
    assert parse_condition(" loss >= 1e4 ") == ("loss", ">=", 1e4)
    assert parse_condition("iteration==5") == ("iteration", "=", 5.0)
    for bad in ("loss>>1", "grad_norm>e", "lr>1", "nonfinite!", "iteration=", ""):
        with pytest.raises(ValueError, match="bad breakpoint"):
            parse_condition(bad)


def test_without_forward_values_the_origin_comes_from_the_gradients():
    """An iteration whose ops have gradients but no forward values (made full at its backward, its
    forward not captured): the first bad value would be the loss itself; the op whose backward turned
    finite gradients into NaN (sqrt of a negative) names the origin instead. Light detail, with neither,
    names the loss."""
    import torch

    from backprop_studio.core.iteration import first_nonfinite
    from tests.util import trace

    w = torch.tensor([1.0, 2.0], requires_grad=True)

    def run():
        torch.sqrt(w * -1.0).mul(3).sum().backward()

    (full,) = trace(run, detail="full")
    for _, a in full.graph.nodes(data=True):
        if a["kind"] == "op" and a["op"] != "SumBackward0":
            a["value"] = None  # as a forward without the capture mode leaves them
    assert full.graph.nodes[first_nonfinite(full.graph)]["op"] == "SqrtBackward0"
    (light,) = trace(run, detail="light")
    assert light.graph.nodes["n0"]["value"]["nan"] == 1 and first_nonfinite(light.graph) == "n0"


CAUSAL = """
import torch
torch.manual_seed(0)
q = torch.randn(2, 5, 8, requires_grad=True)
scores = (q @ q.transpose(1, 2)).masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1), float("-inf"))
loss = scores.softmax(dim=-1).mul(torch.randn(2, 5, 5)).sum()
loss.backward()
"""

EXP_OVERFLOW = """
import torch
x = torch.tensor([1000.0, 1.0], requires_grad=True)
loss = torch.exp(x).mean()
loss.backward()
"""


def test_a_causal_masks_minus_inf_is_expected_a_real_nan_or_inf_is_not(tmp_path):
    """The rule of core/iteration.py: -inf that a softmax turns into 0 (its gradient finite) flags nothing and
    breaks nothing; a NaN, an infinite gradient or loss is flagged, the origin named, break_on nonfinite stops."""
    from backprop_studio.core.iteration import node_nonfinite

    (it,) = trace(lambda: runpy.run_path(write_script(tmp_path, CAUSAL), run_name="__main__"))
    masked = next(a for _, a in it.graph.nodes(data=True) if a["op"] == "MaskedFillBackward0")
    assert masked["value"]["inf"] == 2 * 10  # the -inf are recorded (10 above the diagonal, 2 batches)
    assert not it.nonfinite and not any(node_nonfinite(a) for _, a in it.graph.nodes(data=True))
    assert check([parse_condition("nonfinite")], it) is None
    for script, op in ((GRAD_ONLY, "SqrtBackward0"), (TWO_BRANCHES, "SqrtBackward0"), (EXP_OVERFLOW, "ExpBackward0")):
        hit = nonfinite_hit(write_script(tmp_path, script))  # an infinite gradient; NaN values; an infinite loss
        assert hit["op"] == op, script


@pytest.mark.e2e
def test_headless_break_on_nonfinite_passes_a_causal_transformer(tmp_path):
    """A GPT-style transformer with a causal -inf mask runs to its end under --break-on nonfinite."""
    from tests.util import ROOT

    script = os.path.join(ROOT, "tests", "scripts", "models", "transformer.py")
    _, data = record_fast(tmp_path, script, "2", break_on=("nonfinite",), expect=0)
    assert data["break"] is None and data["status"] == "finished" and len(data["iterations"]) == 2
    assert not any(it.get("nonfinite") for it in data["iterations"])


def test_a_graph_sent_as_its_backward_begins_flags_no_infinity_before_its_gradient():
    """Mid-backward (graph_ready) a node's gradient is still to come: a causal mask's -inf is not flagged
    until its gradient says; a NaN is flagged at once; an infinite gradient, when it comes, is."""
    from backprop_studio.core.iteration import PENDING, Iteration, node_nonfinite

    inf, nan, fine = {"inf": 3, "nan": 0}, {"inf": 0, "nan": 1}, {"inf": 0, "nan": 0}
    g = nx.DiGraph()
    g.add_node("n0", op="MaskedFillBackward0", value=inf)
    g.add_node("n1", op="SqrtBackward0", value=nan)
    data = {**Iteration(0, None, 0, "", g, "full").to_json(), "grads_pending": True}
    assert data["nonfinite"]  # the child's own view, without the gradients to come
    it = Iteration.from_json(data)
    masked, sqrt = it.graph.nodes["n0"], it.graph.nodes["n1"]
    assert masked[PENDING] and not node_nonfinite(masked) and node_nonfinite(sqrt) and it.nonfinite
    masked.pop(PENDING)  # its gradient came (gui/graph/view.light_node): the rule of a finished backward
    assert node_nonfinite(masked)
    masked["grad"] = fine
    assert not node_nonfinite(masked)
    masked["grad"] = inf
    assert node_nonfinite(masked)
    assert not any(PENDING in a for _, a in Iteration.from_json({**data, "grads_pending": False}).graph.nodes(data=True))
