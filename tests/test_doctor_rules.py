"""The training doctor's rules on synthetic runs (each rule alone), its text and its formats."""

from __future__ import annotations

import math

import networkx as nx

from backprop_studio.core.doctor import diagnose as doctor
from backprop_studio.core.doctor import rules as doctor_rules
from backprop_studio.core.doctor import scale as doctor_scale
from backprop_studio.core.doctor import shapes as doctor_shapes
from backprop_studio.core.doctor import steps as doctor_steps
from backprop_studio.core.doctor import text as doctor_text
from backprop_studio.core.doctor.diagnose import Run
from backprop_studio.core.iteration import iteration_nonfinite


def step(index, params, optimizer_steps=0, loss=1.0, signature="s"):
    return {"index": index, "loss": loss, "optimizer_steps": optimizer_steps, "signature": signature,
            "params": params}


def grad(norm, accumulated=None):
    row = {"grad_norm": norm, "nan": 0, "inf": 0}
    if accumulated is not None:
        row["accumulated_norm"] = accumulated
    return row


NO_GRAD = {"grad_norm": None, "nan": 0, "inf": 0}


def chain(*ops, params=()):
    """A forward chain of ops (the last is the loss), with (name, shape, op index it feeds) params."""
    g = nx.DiGraph()
    for k, op in enumerate(ops):
        g.add_node(f"n{len(ops) - 1 - k}", op=op, kind="op", name=None, source=f"t.py:{k + 1}", module=None)
        if k:
            g.add_edge(f"n{len(ops) - k}", f"n{len(ops) - 1 - k}")
    for k, (name, shape, feeds) in enumerate(params):
        nid = f"p{k}"
        g.add_node(nid, op="AccumulateGrad", kind="param", name=name, shape=list(shape), source=None, module=None)
        g.add_edge(nid, f"n{len(ops) - 1 - feeds}")
    return g


# ---- grad-accumulates ---------------------------------------------------------
def test_forgotten_zero_grad_is_found_from_the_iteration_after_the_first_step():
    steps = [step(0, {"w": grad(1.0)}, 0), step(1, {"w": grad(1.0, 1.9)}, 1), step(2, {"w": grad(1.0, 2.7)}, 2)]
    found = doctor_rules.grad_accumulates(Run(steps=steps))
    assert [(f["code"], f["level"], f["iteration"], f["subject"]) for f in found] == \
        [("grad-accumulates", "error", 1, "w")]


def test_deliberate_accumulation_and_a_zeroed_grad_are_not_flagged():
    steps = []
    for k in range(4):  # three backwards per step, zero_grad after the step
        steps += [step(3 * k, {"w": grad(1.0)}, k), step(3 * k + 1, {"w": grad(1.0, 1.8)}, k),
                  step(3 * k + 2, {"w": grad(1.0, 2.5)}, k)]
    steps += [step(12, {"w": grad(2.0, 2.0)}, 5), step(13, {"w": grad(2.0, 2.0)}, 6)]  # zero_grad(set_to_none=False)
    assert doctor_rules.grad_accumulates(Run(steps=steps)) == []


def test_gan_discriminator_keeping_its_grad_through_the_generator_backward_is_not_flagged():
    steps = []
    for k in range(4):  # D: backward, D step, G backward (reaches D), G step, D zero_grad
        steps += [step(2 * k, {"d": grad(1.0)}, 2 * k), step(2 * k + 1, {"d": grad(0.5, 1.3), "g": grad(1.0)}, 2 * k + 1)]
    assert doctor_rules.grad_accumulates(Run(steps=steps)) == []


def test_a_parameter_nothing_updates_is_left_to_not_optimized():
    steps = [step(i, {"w": grad(1.0), "head": grad(1.0, 1.0 + i)}, i) for i in range(4)]
    for i, s in enumerate(steps):
        s["values"] = {"w": (1.0 + i, 0.1), "head": (2.0, 0.3)}  # head never changes
    run = Run(steps=steps, graphs={"s": (0, chain("Add", params=[("w", (2, 2), 0), ("head", (2, 2), 0)]))})
    assert doctor_rules.grad_accumulates(run) == []
    assert [f["subject"] for f in doctor_rules.not_optimized(run)] == ["head"]


# ---- not-optimized ------------------------------------------------------------
def idle_head_run(optimizer_steps=lambda i: i, updates=None):
    graph = {"s": (0, chain("Add", params=[("w", (2, 2), 0), ("head.weight", (2, 2), 0)]))}
    steps = [step(i, {"w": grad(1.0), "head.weight": grad(1.0)}, optimizer_steps(i)) for i in range(3)]
    for i, s in enumerate(steps):
        s["values"] = {"w": (1.0 + i,), "head.weight": (2.0,)}
    return Run(steps=steps, graphs=graph, updates=updates or {})


def test_not_optimized_wants_a_parameter_that_stays_put_over_steps():
    found = doctor_rules.not_optimized(idle_head_run())
    assert [(f["code"], f["level"], f["subject"]) for f in found] == [("not-optimized", "warning", "head.weight")]
    assert doctor_rules.not_optimized(idle_head_run(lambda i: 0)) == []  # no optimizer step in between
    in_optimizer = {"head.weight": [(1, 0.0)]}  # a sampled step lists it: an optimizer holds it (lr 0?)
    assert doctor_rules.not_optimized(idle_head_run(updates=in_optimizer)) == []
    run = idle_head_run()
    for s in run.steps:
        s["values"]["w"] = (1.0,)  # nothing moves at all: no evidence
    assert doctor_rules.not_optimized(run) == []


# ---- no-grad ------------------------------------------------------------------
def test_no_grad_names_a_parameter_that_never_got_a_gradient_and_its_detach_line():
    lines = ["x = 1", "h = self.encoder(x).detach()  # frozen", "z = other.detach()"]
    steps = [step(i, {"encoder.weight": NO_GRAD, "head.weight": grad(1.0)}, i) for i in range(3)]
    found = doctor_rules.no_grad(Run(steps=steps, script="/a/b/train.py", script_lines=lines))
    assert [(f["code"], f["iteration"], f["subject"]) for f in found] == [("no-grad", 0, "encoder.weight")]
    assert "h = self.encoder(x).detach()  # frozen at train.py:2" in found[0]["message"]


def test_no_grad_spares_a_parameter_that_gets_gradients_in_another_backward():
    steps = [step(0, {"g.w": NO_GRAD, "d.w": grad(1.0)}), step(1, {"g.w": grad(2.0), "d.w": grad(1.0)})]
    assert doctor_rules.no_grad(Run(steps=steps)) == []


def test_cut_line_falls_back_to_the_only_cut_and_gives_up_on_several():
    assert doctor_rules.cut_line("0.weight", "s.py", ["a = 1", "b = model(x).detach()"]) == \
        "b = model(x).detach() at s.py:2"
    assert doctor_rules.cut_line("0.weight", "s.py", ["b = f(x).detach()", "with torch.no_grad():"]) is None
    assert doctor_rules.cut_line("0.weight", "s.py", ["# x.detach() in a comment"]) is None
    assert doctor_rules.cut_line("0.weight", "s.py", None) is None


# ---- double-softmax -----------------------------------------------------------
def test_softmax_before_cross_entropy_is_found_through_shape_ops():
    g = chain("AddmmBackward0", "SoftmaxBackward0", "ViewBackward0", "LogSoftmaxBackward0", "NllLossBackward0")
    found = doctor_rules.double_softmax(Run(graphs={"s": (3, g)}))
    assert [(f["code"], f["iteration"], f["subject"]) for f in found] == \
        [("double-softmax", 3, "SoftmaxBackward0 at t.py:2")]


def test_log_softmax_then_nll_loss_and_log_of_softmax_are_not_flagged():
    correct = chain("AddmmBackward0", "LogSoftmaxBackward0", "NllLossBackward0")
    log_of_softmax = chain("AddmmBackward0", "SoftmaxBackward0", "LogBackward0", "NllLossBackward0")
    attention = chain("BmmBackward0", "SoftmaxBackward0", "BmmBackward0", "LogSoftmaxBackward0", "NllLossBackward0")
    run = Run(graphs={"a": (0, correct), "b": (1, log_of_softmax), "c": (2, attention)})
    assert doctor_rules.double_softmax(run) == []


# ---- nonfinite ------------------------------------------------------------------
def test_nonfinite_names_the_op_where_the_inf_began():
    g = chain("MulBackward0", "LogBackward0", "MeanBackward0")
    for n, value in (("n2", 1.0), ("n1", math.inf), ("n0", math.inf)):
        g.nodes[n]["value"] = {"norm": value, "nan": 0, "inf": int(math.isinf(value))}
    steps = [step(0, {"w": grad(1.0)}), step(1, {"w": grad(math.nan)}, loss=math.inf)]
    run = Run(steps=steps, nonfinite=(1, g))
    assert [iteration_nonfinite(s["loss"], s["params"], ()) for s in steps] == [False, True]
    found = doctor_rules.nonfinite(run)
    assert [(f["code"], f["level"], f["iteration"], f["subject"]) for f in found] == \
        [("nonfinite", "error", 1, "LogBackward0 at t.py:2")]


# ---- exploding ------------------------------------------------------------------
def test_exploding_loss_gradient_and_update_ratio():
    rising = [step(i, {"w": grad(1.0)}, i, loss=2.0 * 10 ** i) for i in range(6)]
    assert [(f["code"], f["iteration"], f["subject"]) for f in doctor_scale.exploding(Run(steps=rising))] == \
        [("exploding", 4, "loss")]  # the start: the median of 2, 20, 200
    grads = [step(i, {"w": grad(10.0 ** i)}, i, loss=1.0) for i in range(5)]
    assert [f["subject"] for f in doctor_scale.exploding(Run(steps=grads))] == ["gradient norm"]
    graph = {"s": (0, chain("Add", params=[("w", (4, 4), 0), ("b", (4,), 0)]))}
    calm = [step(i, {"w": grad(1.0)}, i) for i in range(5)]
    big = {"w": [(i, 0.5) for i in range(5)], "b": [(i, 5.0) for i in range(5)]}
    found = doctor_scale.exploding(Run(steps=calm, graphs=graph, updates=big))
    assert [(f["level"], f["iteration"], f["subject"]) for f in found] == [("info", 0, "w")]  # stable: no fault
    assert found[0]["evidence"] == {"median_update_ratio": 0.5, "steps": 5}
    healthy = {"w": [(i, 1e-3) for i in range(5)], "b": [(i, 5.0) for i in range(5)]}  # a bias from zero: spared
    assert doctor_scale.exploding(Run(steps=calm, graphs=graph, updates=healthy)) == []


def test_a_falling_or_noisy_loss_is_not_exploding():
    falling = [step(i, {"w": grad(100.0 / (i + 1))}, i, loss=1e5 / (i + 1)) for i in range(20)]
    noisy = [step(i, {"w": grad(1.0)}, i, loss=(0.7, 3.0, 0.2, 9.0)[i % 4]) for i in range(20)]
    assert doctor_scale.exploding(Run(steps=falling)) == []
    assert doctor_scale.exploding(Run(steps=noisy)) == []


# ---- vanishing ------------------------------------------------------------------
def deep(n_layers):
    ops = ["AddmmBackward0"] * n_layers + ["MseLossBackward0"]
    return chain(*ops, params=[(f"{k}.weight", (8, 8), k) for k in range(n_layers)])


def test_vanishing_on_a_deep_stack_only():
    norms = {f"{k}.weight": grad(10.0 ** (k - 6)) for k in range(6)}  # 1e-6 first .. 0.1 last
    found = doctor_scale.vanishing(Run(steps=[step(0, norms)], graphs={"s": (0, deep(6))}))
    assert [(f["code"], f["subject"]) for f in found] == [("vanishing", "0.weight")]
    assert "1e-05 of the one at 5.weight" in found[0]["message"]
    shallow = {f"{k}.weight": grad(10.0 ** (k - 3)) for k in range(3)}
    assert doctor_scale.vanishing(Run(steps=[step(0, shallow)], graphs={"s": (0, deep(3))})) == []
    healthy = {f"{k}.weight": grad(0.5 + k) for k in range(6)}
    assert doctor_scale.vanishing(Run(steps=[step(0, healthy)], graphs={"s": (0, deep(6))})) == []


def test_a_residual_path_keeps_early_layers_near_the_loss():
    g = deep(6)
    for k in range(6):
        g.add_edge(f"n{6 - k}", "n0")  # every layer's output also reaches the loss directly
    norms = {f"{k}.weight": grad(10.0 ** (k - 6)) for k in range(6)}
    assert doctor_scale.depths(g)["0.weight"][0] == 2
    assert doctor_scale.vanishing(Run(steps=[step(0, norms)], graphs={"s": (0, g)})) == []


# ---- the doctor as a whole --------------------------------------------------------
def test_text_for_every_code_in_both_languages():
    assert set(doctor_text.EXPLAIN) == set(doctor.CODES)
    for code in doctor.CODES:
        en, zh = doctor_text.explain(code, "en"), doctor_text.explain(code, "zh")
        assert len(en) > 200 and len(zh) > 60 and en != zh
        assert any("\u4e00" <= c <= "\u9fff" for c in zh)
        assert doctor_text.explain(code, "fr") == en


def test_diagnose_orders_findings_and_formats_them():
    steps = [step(0, {"w": grad(1.0), "v": NO_GRAD}, 0, loss=1.0), step(1, {"w": grad(1.0, 1.5), "v": NO_GRAD}, 1),
             step(2, {"w": grad(1.0, 2.0), "v": NO_GRAD}, 2, loss=math.nan)]
    findings = doctor.diagnose(Run(steps=steps, nonfinite=(2, nx.DiGraph())))
    assert [(f["code"], f["iteration"]) for f in findings] == [("no-grad", 0), ("grad-accumulates", 1), ("nonfinite", 2)]
    assert all(set(f) == {"code", "level", "iteration", "subject", "message", "hint", "node", "evidence", "curve"}
               for f in findings)
    assert findings[0]["node"] == {"kind": "param", "name": "v"} and findings[2]["node"] == {"id": "n0"}
    lines = doctor.to_text(findings).splitlines()
    assert lines[0].startswith("WARNING no-grad iteration 0 v: ")
    assert lines[2].startswith("ERROR nonfinite iteration 2 loss: ")
    assert doctor.has_problems(findings) and not doctor.has_problems([{**findings[0], "level": "info"}])


# ---- detached-loss ------------------------------------------------------------------
def leaf_loss():
    g = nx.DiGraph()
    g.add_node("n0", op="AccumulateGrad", kind="leaf", name="loss", shape=[], source=None, module=None)
    return g


def test_a_loss_made_from_a_number_is_one_detached_loss_finding_not_a_no_grad_per_parameter():
    steps = [step(i, {"loss": grad(1.0), "0.weight": NO_GRAD, "0.bias": NO_GRAD}, i) for i in range(3)]
    run = Run(steps=steps, graphs={"s": (0, leaf_loss())})
    found = doctor.diagnose(run)
    assert [(f["code"], f["level"], f["iteration"], f["subject"], f["node"]) for f in found] == \
        [("detached-loss", "error", 0, "loss", {"id": "n0"})]
    assert found[0]["evidence"] == {"parameters_without_gradient": 2}
    lesson = Run(steps=[step(0, {"x": grad(1.0)})], graphs={"s": (0, leaf_loss())})  # no optimizer: nothing to say
    assert doctor_rules.detached_loss(lesson) == []


# ---- broadcast / softmax-dim (core/doctor/shapes.py) ---------------------------------
def shaped(*nodes, edges):
    """A graph of (id, op, shape[, extra attributes]) nodes and forward edges."""
    g = nx.DiGraph()
    for nid, op, shape, *extra in nodes:
        g.add_node(nid, op=op, kind="param" if op == "AccumulateGrad" else "op", shape=list(shape), name=None,
                   module=None, source=f"t.py:{nid[1:]}", **(extra[0] if extra else {}))
    g.add_edges_from(edges)
    return g


def test_broadcast_finds_n1_against_n_on_the_way_to_the_loss():
    g = shaped(("n3", "AddmmBackward0", (32, 1)), ("n2", "SubBackward0", (32, 32)), ("n1", "PowBackward0", (32, 32)),
               ("n0", "MeanBackward0", ()), edges=[("n3", "n2"), ("n2", "n1"), ("n1", "n0")])
    (found,) = doctor_shapes.broadcast(Run(graphs={"s": (2, g)}))
    assert (found["code"], found["level"], found["iteration"], found["node"]["id"]) == ("broadcast", "warning", 2, "n2")
    assert found["evidence"] == {"operand_shape": [32, 1], "result_shape": [32, 32]}


def test_a_bias_add_and_a_pairwise_kernel_are_not_broadcast_bugs():
    bias = shaped(("n3", "MmBackward0", (16, 16)), ("n4", "AccumulateGrad", (16,)), ("n2", "AddBackward0", (16, 16)),
                  ("n0", "MeanBackward0", ()), edges=[("n3", "n2"), ("n4", "n2"), ("n2", "n0")])
    pairwise = shaped(("n4", "UnsqueezeBackward0", (8, 1, 4)), ("n3", "UnsqueezeBackward0", (1, 8, 4)),
                      ("n2", "SubBackward0", (8, 8, 4)), ("n1", "ExpBackward0", (8, 8, 4)), ("n0", "MeanBackward0", ()),
                      edges=[("n4", "n2"), ("n3", "n2"), ("n2", "n1"), ("n1", "n0")])
    assert doctor_shapes.outer([8, 1, 4], [8, 8, 4])  # the shapes alone look like the bug: the way to the loss decides
    assert doctor_shapes.broadcast(Run(graphs={"a": (0, bias), "b": (0, pairwise)})) == []


def test_softmax_over_the_batch_into_the_loss_but_not_attention_over_time():
    bad = shaped(("n2", "AddmmBackward0", (32, 3)), ("n1", "LogSoftmaxBackward0", (32, 3), {"dim": 0}),
                 ("n0", "NllLossBackward0", ()), edges=[("n2", "n1"), ("n1", "n0")])
    (found,) = doctor_shapes.softmax_dim(Run(graphs={"s": (0, bad)}))
    assert (found["code"], found["node"]["id"], found["evidence"]) == ("softmax-dim", "n1", {"dim": 0, "shape": [32, 3]})
    fine = shaped(("n2", "AddmmBackward0", (32, 3)), ("n1", "LogSoftmaxBackward0", (32, 3), {"dim": 1}),
                  ("n0", "NllLossBackward0", ()), edges=[("n2", "n1"), ("n1", "n0")])
    attention = shaped(("n4", "SqueezeBackward1", (9, 8)), ("n3", "SoftmaxBackward0", (9, 8), {"dim": 0}),
                       ("n5", "GruBackward0", (9, 8, 12)), ("n2", "MulBackward0", (9, 8, 12)),
                       ("n1", "SumBackward1", (8, 12)), ("n0", "MeanBackward0", ()),
                       edges=[("n4", "n3"), ("n3", "n2"), ("n5", "n2"), ("n2", "n1"), ("n1", "n0")])
    assert doctor_shapes.softmax_dim(Run(graphs={"a": (0, fine), "b": (0, attention)})) == []


# ---- step-without-grad / eval-mode (core/doctor/steps.py) ------------------------------
def facts(index, optimizer=0, params=2, with_grad=2, models=()):
    return index, {"step": index + 1, "optimizer": optimizer, "params": params, "with_grad": with_grad,
                   "models": [list(m) for m in models]}


def fed_steps(n):
    return [step(i, {"w": grad(1.0), "b": grad(0.5)}, i) for i in range(n)]


def test_steps_that_find_no_gradient_after_a_backward_that_gave_one():
    run = Run(steps=fed_steps(5), facts=[facts(0, with_grad=0)])
    (found,) = doctor_steps.step_without_grad(run)
    assert (found["code"], found["iteration"], found["evidence"]) == ("step-without-grad", 0, {"iterations": 5,
                                                                                               "parameters": 2})
    assert doctor_steps.step_without_grad(Run(steps=fed_steps(5), facts=[facts(0)])) == []
    closure = Run(steps=fed_steps(5), facts=[facts(0, with_grad=None)])  # L-BFGS: its backward runs in the step
    assert doctor_steps.step_without_grad(closure) == []


def test_sampled_steps_changing_nothing_but_not_a_first_step_at_lr_zero():
    zero = {"w": [(1, 0.0), (3, 0.0)], "b": [(1, 0.0), (3, 0.0)]}
    (found,) = doctor_steps.step_without_grad(Run(steps=fed_steps(5), updates=zero))
    assert (found["node"], found["iteration"], found["evidence"]) == ({"kind": "param", "name": "w"}, 1,
                                                                      {"blind_steps": 2, "steps": 2})
    warmup = {"w": [(0, 0.0), (3, 1e-3)], "b": [(0, 0.0), (3, 1e-3)]}  # lr 0 at the first step only
    assert doctor_steps.step_without_grad(Run(steps=fed_steps(5), updates=warmup)) == []


def test_eval_mode_when_all_dropout_and_batch_norm_are_off_for_steps():
    model_on = ("net", 2, [], [])
    model_off = ("net", 2, ["1", "3"], [])
    run = Run(steps=fed_steps(10), facts=[facts(0, models=[model_on]), facts(4, models=[model_off])])
    (found,) = doctor_steps.eval_mode(run)
    assert (found["code"], found["iteration"], found["subject"], found["node"]) == ("eval-mode", 4, "net", {"module": "1"})
    assert found["evidence"] == {"iterations": 6, "modules": ["1", "3"]}
    frozen_bn = Run(steps=fed_steps(10), facts=[facts(0, models=[("net", 2, ["1"], [])])])  # only batch norm off
    back = Run(steps=fed_steps(10), facts=[facts(0, models=[model_off]), facts(1, models=[model_on])])  # one iteration
    assert doctor_steps.eval_mode(frozen_bn) == [] and doctor_steps.eval_mode(back) == []


def test_a_parameter_no_optimizer_holds_is_not_optimized_without_value_fingerprints():
    steps = [step(i, {"w": grad(1.0), "head.weight": grad(1.0, 1.0 + i)}, i) for i in range(4)]  # light: no values
    graph = {"s": (0, chain("Add", params=[("w", (2, 2), 0), ("head.weight", (2, 2), 0)]))}
    run = Run(steps=steps, graphs=graph, facts=[facts(0, params=1, with_grad=1, models=[("net", 0, [], ["head.weight"])])])
    assert [(f["code"], f["subject"]) for f in doctor.diagnose(run)] == [("not-optimized", "head.weight")]


# ---- lr-too-small / dead-units (core/doctor/scale.py) -----------------------------------
def tiny_run(ratios, n=12):
    graph = {"s": (0, chain("Add", params=[("w", (4, 4), 0)]))}
    return Run(steps=[step(i, {"w": grad(1.0)}, i, loss=0.7) for i in range(n)], graphs=graph,
               updates={"w": list(ratios)})


def test_lr_too_small_on_tiny_steady_updates_not_on_a_warm_up_or_a_short_run():
    (found,) = doctor_scale.lr_too_small(tiny_run([(0, 3e-9), (5, 3e-9), (10, 3e-9)]))
    assert (found["code"], found["iteration"], found["subject"]) == ("lr-too-small", 0, "loss")
    assert found["evidence"]["largest_update_ratio"] == 3e-9 and found["evidence"]["steps"] == 3
    assert doctor_scale.lr_too_small(tiny_run([(0, 1e-9), (5, 1e-8), (10, 3e-7)])) == []  # rising: a warm-up
    assert doctor_scale.lr_too_small(tiny_run([(0, 3e-9), (5, 2e-3)])) == []  # a normal step seen
    assert doctor_scale.lr_too_small(tiny_run([(0, 3e-9), (3, 3e-9)], n=4)) == []  # 4 steps: too few to tell


def test_dead_units_names_the_relu_whose_output_is_all_zero():
    g = shaped(("n5", "AccumulateGrad", (8, 4)), ("n4", "AddmmBackward0", (16, 8)),
               ("n3", "ReluBackward0", (16, 8), {"value": {"max": 0.0, "min": 0.0}}),
               ("n6", "AccumulateGrad", (1, 8)), ("n7", "TBackward0", (8, 1)),
               ("n2", "AddmmBackward0", (16, 1)), ("n0", "MseLossBackward0", ()),
               edges=[("n5", "n4"), ("n4", "n3"), ("n3", "n2"), ("n6", "n7"), ("n7", "n2"), ("n2", "n0")])
    g.nodes["n5"]["name"], g.nodes["n6"]["name"] = "0.weight", "2.weight"
    steps = [step(i, {"0.weight": grad(0.0), "2.weight": grad(0.0), "2.bias": grad(0.3)}, i) for i in range(5)]
    (found,) = doctor_scale.dead_units(Run(steps=steps, graphs={"s": (0, g)}))
    assert (found["code"], found["node"]["id"]) == ("dead-units", "n3")  # the layer before and the one after
    assert found["evidence"] == {"zero_gradient_iterations": 5, "iterations": 5, "parameters": ["0.weight", "2.weight"]}
    alive = [step(i, {"0.weight": grad(0.0 if i < 2 else 0.1), "2.bias": grad(0.3)}, i) for i in range(5)]
    assert doctor_scale.dead_units(Run(steps=alive, graphs={"s": (0, g)})) == []  # zero twice: not a dead layer
