"""Facts with one home (issue 23): each is computed by one function in core, and every user agrees.

A non-finite iteration, a non-finite node, the total gradient norm and a parameter's name are checked
here through all their users (tracer, breakpoint, recording, doctor, plots), numbers against plain torch.
"""

from __future__ import annotations

import math
import runpy

import pytest
import torch

from backprop_studio.core import iteration as core_iteration
from backprop_studio.core.doctor import scale as doctor_scale
from backprop_studio.core.doctor.diagnose import diagnose_recording
from backprop_studio.core.iteration import iteration_nonfinite, node_nonfinite, total_grad_norm
from backprop_studio.core.recording.store import Recording, RecordingWriter
from backprop_studio.core.render import labels
from backprop_studio.core.trace.control import check, parse_condition
from backprop_studio.core.trace.tracer import Tracer
from backprop_studio.core.trace.updates import Updates
from tests.util import write_script

# iteration 0: log(w - 2) is NaN for w < 2; nan_to_num hides it, so the loss and every gradient stay finite.
# iteration 1: all finite. iteration 2: the loss itself is Inf.
CAUGHT_NAN = """
import torch
w = torch.tensor([1.0, 3.0], requires_grad=True)
y = torch.log(w - 2)
loss = torch.nan_to_num(y, nan=0.0).sum()
loss.backward()
w.grad = None
(w * 2).sum().backward()
w.grad = None
(w / 0).sum().backward()
"""


def record_in_process(tmp_path, script: str, detail: str = "full"):
    """Trace `script` into a recording in this process (with the optimizer observer); the Iterations."""
    path = str(tmp_path / "run.bps")
    writer = RecordingWriter(path, {"script": script, "argv": [], "detail": detail})
    its = []

    def sink(it):
        its.append(it)
        writer.add_iteration(it)

    tracer = Tracer(sink, detail=detail)
    tracer.add_observer(Updates(tracer, writer, every_step=True))
    tracer.install()
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        tracer.uninstall()
    writer.close("finished")
    return its, Recording(path)


def test_a_nan_caught_by_nan_to_num_is_non_finite_for_every_user(tmp_path):
    w = torch.tensor([1.0, 3.0], requires_grad=True)
    assert not torch.isfinite(torch.log(w - 2)).all()  # the oracle: plain torch makes a NaN
    loss = torch.nan_to_num(torch.log(w - 2), nan=0.0).sum()
    loss.backward()
    assert math.isfinite(loss.item()) and torch.isfinite(w.grad).all()  # ... that the loss and grads hide

    its, rec = record_in_process(tmp_path, write_script(tmp_path, CAUGHT_NAN))
    assert [it.nonfinite for it in its] == [True, False, True]  # the tracer's flag
    hits = [check([parse_condition("nonfinite")], it) for it in its]  # the breakpoint
    assert [h is not None for h in hits] == [True, False, True]
    assert hits[0]["op"] == "LogBackward0"
    assert [r["nonfinite"] for r in rec.scalars()] == [True, False, True]  # the recording's flag
    assert [rec.iteration(i).nonfinite for i in range(3)] == [True, False, True]
    found = [f for f in diagnose_recording(rec) if f["code"] == "nonfinite"]  # the doctor
    assert [f["iteration"] for f in found] == [0] and "LogBackward0" in found[0]["subject"]
    assert "a value is NaN/Inf" in found[0]["message"]
    # the rule, applied to a recording's numbers without graphs, as the doctor's fast read does
    for index, _key, numbers, params in rec.numbers():
        loss_of = rec.scalars()[index]["loss"]
        nodes = ({"value": n[0], "grad": n[1]} for n in numbers.values())
        assert iteration_nonfinite(loss_of, params, nodes) == its[index].nonfinite
    rec.close()


def test_the_plots_shade_what_the_rule_flags(qtbot, tmp_path):
    from backprop_studio.gui.plots.view import PlotsView

    _, rec = record_in_process(tmp_path, write_script(tmp_path, CAUGHT_NAN))
    replay = PlotsView()
    qtbot.addWidget(replay)
    replay.set_history(rec.scalars(), rec.param_stats())
    live = PlotsView()
    qtbot.addWidget(live)
    for r in rec.scalars():  # as the bridge's sig_scalars hands them over
        live.add_iteration(r["index"], r["loss"], {}, r["nonfinite"])
    for view in (replay, live):
        assert view.nonfinite_spans == [[0, 0], [2, 2]]  # iteration 0's loss is finite: shaded all the same
    rec.close()


def test_a_node_is_non_finite_by_one_definition():
    good = {"kind": "op", "op": "MulBackward0", "value": {"norm": 1.0, "nan": 0, "inf": 0},
            "grad": {"norm": 2.0, "nan": 0, "inf": 0}}
    bad_grad = {**good, "grad": {"norm": math.nan, "nan": 1, "inf": 0}}
    bad_value = {**good, "value": {"norm": math.inf, "nan": 0, "inf": 3}, "grad": None}  # no gradient to tell
    nan_value = {**good, "value": {"norm": math.nan, "nan": 1, "inf": 0}}
    masked = {**good, "value": {"norm": math.inf, "nan": 0, "inf": 3}}  # -inf a softmax absorbed: grad finite
    assert [node_nonfinite(a) for a in (good, bad_grad, bad_value, nan_value, masked)] == [False, True, True, True,
                                                                                           False]
    assert [labels.node_fill(a) == labels.NONFINITE_FILL for a in (good, bad_grad, bad_value)] == [False, True, True]
    assert "NaN×1" in labels.node_label(bad_grad) and "Inf×3" in labels.node_label(bad_value)


def test_total_gradient_norm_matches_torch_for_every_user(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x = torch.randn(16, 4)
    tracer_its = []
    tracer = Tracer(tracer_its.append, detail="full")
    tracer.install()
    try:
        net(x).pow(2).mean().backward()
    finally:
        tracer.uninstall()
    expected = torch.nn.utils.clip_grad_norm_(net.parameters(), math.inf, norm_type=2.0).item()
    it = tracer_its[0]
    assert total_grad_norm(it.params) == pytest.approx(expected, rel=1e-5)
    hit = check([parse_condition(f"grad_norm>{expected * 0.99}")], it)  # the breakpoint compares the same
    assert hit is not None and f"grad_norm={expected:g}" in hit["reason"]
    assert check([parse_condition(f"grad_norm>{expected * 1.01}")], it) is None
    assert doctor_scale.total_grad_norm is core_iteration.total_grad_norm  # the doctor's exploding rule
    nan_row = {**it.params, "x": {"grad_norm": math.nan, "nan": 1, "inf": 0}}
    assert math.isnan(total_grad_norm(nan_row))  # as torch reports a NaN among the gradients
    assert total_grad_norm({}) is None


UNNAMED = """
import torch
a = torch.nn.Linear(2, 1)
opt = torch.optim.SGD([{"params": a.parameters()}, {"params": [torch.ones(2, requires_grad=True)]}], lr=0.1)
for _ in range(2):
    opt.zero_grad()
    (a(torch.ones(3, 2)).sum() + (opt.param_groups[1]["params"][0] * 3).sum()).backward()
    opt.step()
"""


def test_an_unnamed_parameter_has_one_name_in_every_table(tmp_path):
    its, rec = record_in_process(tmp_path, write_script(tmp_path, UNNAMED))
    # no module path, no variable holding it: its place in the optimizer, "group1.param0"
    names = {"weight", "bias", "group1.param0"}
    assert set(its[-1].params) == names  # Iteration.params
    graph_names = {a["name"] for _, a in its[-1].graph.nodes(data=True) if a.get("kind") in ("param", "leaf")}
    assert graph_names == names  # the graph's boxes
    assert set(rec.param_updates()) == names  # the optimizer's update table
    rec.close()


def test_a_recording_from_before_the_flag_applies_the_rule_when_read_whole(tmp_path):
    import sqlite3

    its, rec = record_in_process(tmp_path, write_script(tmp_path, CAUGHT_NAN))
    rec.close()
    db = sqlite3.connect(str(tmp_path / "run.bps"))
    db.execute("ALTER TABLE iterations DROP COLUMN nonfinite")  # as versions before the flag wrote it
    db.commit()
    db.close()
    old = Recording(str(tmp_path / "run.bps"))
    assert [r["nonfinite"] for r in old.scalars()] == [False, False, True]  # the loss alone, as they flagged it
    assert [old.iteration(i).nonfinite for i in range(3)] == [True, False, True]  # the rule on the graph
    old.close()
