"""The doctor's rules about gradient flow: each a pure function of a `doctor.Run`, returning findings.

grad-accumulates, not-optimized, no-grad, detached-loss, dead-units, double-softmax, nonfinite. The rules
about sizes (exploding, vanishing, lr-too-small) are in core/doctor/scale.py, about shapes (broadcast,
softmax-dim) in core/doctor/shapes.py, about optimizer steps (step-without-grad, eval-mode) in
core/doctor/steps.py, ranks-diverge in core/doctor/ranks.py.
"""

from __future__ import annotations

import math
import re

import networkx as nx

from ..iteration import SINK, first_nonfinite
from ..iteration import nonfinite as nonfinite_summary

REF_FIELDS = ("kind", "op", "name", "module", "source")
LOSS = {"id": SINK}  # the loss: the sink of every iteration's graph


def finding(code: str, level: str, iteration: int | None, subject: str, message: str, hint: str, *,
            node: dict | None = None, evidence: dict | None = None, curve: str | None = None) -> dict:
    """A finding. `node`: the graph node it is about ({id?, kind, op, name, module, source}: node_ref,
    param_ref, LOSS), for the app to select without parsing `subject`; `evidence`: the numbers it rests
    on; `curve`: the plot that shows it ("loss", "grad_norm", "update_ratio")."""
    return {"code": code, "level": level, "iteration": iteration, "subject": subject, "message": message,
            "hint": hint, "node": node, "evidence": evidence or {}, "curve": curve}


def node_ref(g: nx.DiGraph, nid: str) -> dict:
    """A structured reference to node `nid` of `g`: its id (stable within one structure) and what names it."""
    a = g.nodes[nid]
    return {"id": nid, **{k: a.get(k) for k in REF_FIELDS if a.get(k) is not None}}


def param_ref(name: str) -> dict:
    return {"kind": "param", "name": name}


def node_subject(a: dict) -> str:
    """A node as a finding names it: op, its variable or parameter name, file:line."""
    text = a.get("op") or "?"
    if a.get("name"):
        text += f" `{a['name']}`"
    elif a.get("module"):
        text += f" (module {a['module']})"
    if a.get("source"):
        text += f" at {a['source']}"
    return text


def _has_grad(row: dict) -> bool:
    return row.get("grad_norm") is not None


def _leftover(row: dict) -> bool:
    """.grad held a sum from earlier backwards (it is more than this backward's own gradient)."""
    acc, own = row.get("accumulated_norm"), row.get("grad_norm")
    if acc is None or own is None or not (math.isfinite(acc) and math.isfinite(own)):
        return False
    return abs(acc - own) > 1e-6 * max(acc, own, 1e-30)


# ---- grad-accumulates -------------------------------------------------------
def grad_accumulates(run) -> list[dict]:
    """A parameter's .grad kept its sum across two optimizer steps: zero_grad forgotten.

    Deliberate accumulation (several backwards, one step, then zero_grad) keeps a sum between steps,
    never across one. One step crossed is not enough either: a GAN's discriminator keeps its gradient
    through the generator's backward (after its own step) and clears it before its next step. So the
    rule wants one unbroken sum that spans two steps.
    """
    idle = unchanged(run) | orphans(run)  # nothing updates them: a sum is harmless (not-optimized says so)
    start: dict[str, int] = {}  # parameter -> optimizer steps counted when its .grad last started clean
    first_stale: dict[str, int] = {}  # parameter -> the first iteration of its sum that came after a step
    hits: dict[str, tuple[int, int]] = {}  # parameter -> (iteration seen, where its stale sum began)
    last: dict[str, int] = {}  # parameter -> the last iteration it was seen in
    for s in run.steps:
        for name, row in s["params"].items():
            if not _has_grad(row) or name in hits or name in idle:
                continue
            unseen = last.get(name, s["index"] - 1) != s["index"] - 1  # a backward between without it
            last[name] = s["index"]
            if not _leftover(row) or unseen:  # a sum not seen growing is not known to be unbroken
                start[name] = s["optimizer_steps"]
                first_stale.pop(name, None)
                continue
            began = start.setdefault(name, s["optimizer_steps"])
            if s["optimizer_steps"] > began:
                first_stale.setdefault(name, s["index"])
            if s["optimizer_steps"] - began >= 2:
                hits[name] = (s["index"], first_stale[name])
    if not hits:
        return []
    name = min(hits, key=lambda n: hits[n])
    seen, since = hits[name]
    others = len(hits) - 1
    more = f" (and {others} more parameter{'s' if others > 1 else ''})" if others else ""
    return [finding("grad-accumulates", "error", since, name,
                    f".grad of {name}{more} is never cleared: from iteration {since} on, each optimizer step "
                    f"uses the sum of every earlier backward pass (still so at iteration {seen})",
                    "call optimizer.zero_grad() once per step (before backward or after step)",
                    node=param_ref(name), evidence={"since": since, "seen": seen, "parameters": len(hits)},
                    curve="grad_norm")]


# ---- not-optimized / no-grad ------------------------------------------------
def _optimized(run) -> set[str]:
    """Parameters known to be in an optimizer: those with update rows (sampled steps list every parameter
    of the optimizer that stepped) and those listed without a gradient (the tracer lists only optimizer
    parameters so). Never complete: a sampled step shows one optimizer's parameters."""
    return set(run.updates) | {n for s in run.steps for n, row in s["params"].items() if not _has_grad(row)}


def unchanged(run) -> set[str]:
    """Parameters whose forward value stayed the same across optimizer steps while other parameters'
    values changed: nothing updates them."""
    first: dict[str, tuple[int, tuple]] = {}  # name -> (optimizer steps, fingerprint) when first seen
    last: dict[str, int] = {}
    changed: set[str] = set()
    for s in run.steps:
        for name, value in s.get("values", {}).items():
            seen = first.setdefault(name, (s["optimizer_steps"], value))
            if value != seen[1]:
                changed.add(name)
            last[name] = s["optimizer_steps"]
    if not changed:
        return set()  # nothing moved at all (no step, a manual loop): no evidence
    return {n for n, (steps, _) in first.items() if n not in changed and last[n] > steps}


def orphans(run) -> set[str]:
    """Trainable parameters of a model being trained that no optimizer held at its last steps."""
    last: dict[int, dict] = {}
    for _, facts in run.facts:
        last[facts["optimizer"]] = facts
    return {n for facts in last.values() for model in facts["models"] for n in model[3]}


def _kinds(run) -> dict[str, str]:
    return {a["name"]: a["kind"] for _, g in run.graphs.values() for _, a in g.nodes(data=True) if a.get("name")}


def not_optimized(run) -> list[dict]:
    """A module parameter gets gradients but no optimizer holds it: seen at the steps (core/trace/stepfacts.py),
    or, without those facts, its value never changes over optimizer steps and no sampled step shows it."""
    idle = (unchanged(run) - _optimized(run)) | orphans(run)
    if not idle:
        return []
    kinds = _kinds(run)
    first: dict[str, int] = {}
    for s in run.steps:
        for name, row in s["params"].items():
            if name in idle and kinds.get(name) == "param" and (row.get("grad_norm") or 0) > 0:
                first.setdefault(name, s["index"])
    return [finding("not-optimized", "warning", first[name], name,
                    f"{name} receives gradients but is in no optimizer's parameter groups: it never changes",
                    "pass it to the optimizer (e.g. optimizer = SGD(model.parameters(), ...)) or freeze it "
                    "with requires_grad_(False)", node=param_ref(name), curve="update_ratio")
            for name in sorted(first, key=first.get)]


def no_grad(run) -> list[dict]:
    """A parameter an optimizer holds never gets a gradient (detached, unused or cut off). When no loss
    reaches any parameter, detached-loss says so once instead."""
    if loss_leaf(run) is not None:
        return []
    missing = _starved(run)
    out = []
    for name in sorted(missing, key=missing.get):
        cut = cut_line(name, run.script, run.script_lines)
        where = f"; the cut: {cut}" if cut else ""
        out.append(finding("no-grad", "warning", missing[name], name,
                           f"{name} is in an optimizer but never received a gradient: it is not used in "
                           f"the forward pass, or its output is cut off from the loss{where}",
                           "remove the detach() / torch.no_grad() between it and the loss, or drop it from "
                           "the optimizer if it is frozen on purpose (requires_grad_(False))", node=param_ref(name)))
    return out


def _starved(run) -> dict[str, int]:
    """Optimizer parameters that never received a gradient: name -> the first iteration listing them."""
    missing: dict[str, int] = {}
    got: set[str] = set()
    for s in run.steps:
        for name, row in s["params"].items():
            if _has_grad(row):
                got.add(name)
            else:
                missing.setdefault(name, s["index"])
    return {n: i for n, i in missing.items() if n not in got}


def loss_leaf(run) -> int | None:
    """The first iteration, when every backward started from a fresh leaf (a loss rebuilt from a number:
    torch.tensor(loss.item(), requires_grad=True)) and an optimizer's parameters got no gradient."""
    if not run.graphs or any(a.get("kind") != "leaf" for _, g in run.graphs.values() for _, a in g.nodes(data=True)):
        return None
    starved = _starved(run)
    return min(starved.values()) if starved else None


# ---- detached-loss -------------------------------------------------------------
def detached_loss(run) -> list[dict]:
    """The loss is a new leaf tensor: backward reaches no parameter, so no optimizer learns anything."""
    index = loss_leaf(run)
    if index is None:
        return []
    starved = sorted(_starved(run))
    return [finding("detached-loss", "error", index, "loss",
                    f"the loss has no graph behind it (a leaf tensor made from a number): backward reaches none "
                    f"of the {len(starved)} optimizer parameters ({', '.join(starved[:3])}"
                    f"{', ...' if len(starved) > 3 else ''}), so the model never learns",
                    "compute the loss from the model's output tensors; keep .item() / float() / NumPy for "
                    "logging only, never to build the loss that backward() is called on",
                    node=dict(LOSS), evidence={"parameters_without_gradient": len(starved)})]


CUTS = re.compile(r"\.detach\(\)|torch\.no_grad\(\)|\.data\b")


def cut_line(name: str, script: str | None, lines: list[str] | None) -> str | None:
    """The script line that cuts `name`'s module from the loss: a detach() / no_grad() / .data line naming
    one of the module path's parts, else the script's only such line. The graph cannot show it (a
    detached tensor has no grad_fn), so it is read from the source."""
    if not lines:
        return None
    hits = [(k + 1, line) for k, line in enumerate(lines) if CUTS.search(line.split("#")[0])]
    parts = [p for p in name.split(".")[:-1] if not p.isdigit()]
    named = [k for k, line in hits if any(re.search(rf"\b{re.escape(p)}\b", line) for p in parts)]
    chosen = named if named else [k for k, _ in hits] if len(hits) == 1 else []
    if not chosen:
        return None
    base = script.replace("\\", "/").rsplit("/", 1)[-1] if script else "script"
    return ", ".join(f"{lines[k - 1].strip()} at {base}:{k}" for k in chosen[:2])


# ---- double-softmax ----------------------------------------------------------
SOFTMAX = {"Softmax", "LogSoftmax"}
PASS_THROUGH = {"View", "UnsafeView", "Reshape", "ReshapeAlias", "Squeeze", "Unsqueeze", "Permute", "Transpose",
                "T", "Clone", "ToCopy", "Slice", "Select", "Index", "Expand", "Contiguous"}


def base_op(op: str | None) -> str:
    """An autograd node's op without the Backward suffix (ReluBackward0 -> Relu)."""
    return re.sub(r"Backward\d*$", "", op or "")


def softmax_input(g: nx.DiGraph, node: str) -> str | None:
    """The softmax / log_softmax node feeding `node` (through shape-only ops), if any."""
    todo, seen = list(g.predecessors(node)), set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        base = base_op(g.nodes[n].get("op"))
        if base in SOFTMAX:
            return n
        if base in PASS_THROUGH:
            todo.extend(g.predecessors(n))
    return None


def double_softmax(run) -> list[dict]:
    """cross_entropy (log_softmax inside) given probabilities: a softmax or log_softmax before it."""
    out, seen = [], set()
    for first, g in sorted(run.graphs.values(), key=lambda x: x[0]):
        for n, a in g.nodes(data=True):
            if base_op(a.get("op")) != "LogSoftmax":
                continue
            prior = softmax_input(g, n)
            if prior is None:
                continue
            subject = node_subject(g.nodes[prior])
            if subject in seen:
                continue
            seen.add(subject)
            out.append(finding("double-softmax", "warning", first, subject,
                               f"the loss's log_softmax (cross_entropy) is applied to the output of "
                               f"{subject}: probabilities, where it expects logits; the gradients shrink "
                               "and training stalls",
                               "give cross_entropy the raw scores (drop the softmax), or use log_softmax "
                               "followed by nll_loss", node=node_ref(g, prior)))
    return out


# ---- nonfinite --------------------------------------------------------------
def nonfinite(run) -> list[dict]:
    """The first non-finite iteration (core.iteration.iteration_nonfinite), with the op and the user's line where it began."""
    if run.nonfinite is None:
        return []
    index, g = run.nonfinite
    step = next(s for s in run.steps if s["index"] == index)
    origin = first_nonfinite(g) if g is not None and len(g) else None
    loss = step.get("loss")
    what = f"the loss is {loss}" if loss is not None and not math.isfinite(loss) else \
        "a value is NaN/Inf" if origin is not None and nonfinite_summary(g.nodes[origin].get("value")) else "a gradient is NaN/Inf"
    if origin is None:
        return [finding("nonfinite", "error", index, "loss", f"first NaN/Inf at iteration {index}: {what}",
                        "record with --detail full to see the op where it began", node=dict(LOSS),
                        evidence={"loss": loss}, curve="loss")]
    subject = node_subject(g.nodes[origin])
    return [finding("nonfinite", "error", index, subject,
                    f"first NaN/Inf at iteration {index} ({what}); it began at {subject}",
                    "guard that op: clamp its input (log(x.clamp_min(eps))), use the stable form "
                    "(log_softmax, BCEWithLogitsLoss), or lower the learning rate", node=node_ref(g, origin),
                    evidence={"loss": loss}, curve="loss")]
