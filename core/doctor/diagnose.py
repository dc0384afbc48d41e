"""Training doctor: finds the classic training bugs in a recording or a live run's iterations.

A finding is `{code, level, iteration, subject, message, hint, node, evidence, curve}` (rules.finding):
`subject` names the parameter, the node (op, name, file:line) or the parameter that ranks disagree on, in
words; `node` is the same as a structured reference the app selects by; `evidence` holds the numbers
the finding rests on. The codes are a contract (CODES). The rules are pure functions of a `Run`
(core/doctor/rules.py, scale.py, shapes.py, steps.py); ranks-diverge compares the ranks of a distributed
recording (core/doctor/ranks.py). Each code's explanation, in English and Chinese, is in core/doctor/text.py.
A `warning` or `error` claims a fault; what healthy runs also show is at most `info`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from ..iteration import Iteration, iteration_nonfinite
from . import ranks, rules, scale, shapes, steps

CODES = ("grad-accumulates", "not-optimized", "no-grad", "detached-loss", "double-softmax", "softmax-dim",
         "broadcast", "step-without-grad", "eval-mode", "exploding", "vanishing", "dead-units", "lr-too-small",
         "nonfinite", "ranks-diverge")
LEVELS = ("info", "warning", "error")
RULES = (rules.nonfinite, rules.grad_accumulates, rules.not_optimized, rules.no_grad, rules.detached_loss,
         rules.double_softmax, shapes.softmax_dim, shapes.broadcast, steps.step_without_grad, steps.eval_mode,
         scale.exploding, scale.vanishing, scale.dead_units, scale.lr_too_small)


@dataclass
class Run:
    """What the rules read: every iteration's numbers, one graph per structure, update ratios."""

    # per iteration: {index, loss, optimizer_steps, signature, params, values: {parameter: fingerprint}}
    steps: list[dict] = field(default_factory=list)
    graphs: dict[str, tuple[int, nx.DiGraph]] = field(default_factory=dict)  # signature -> (first index, graph)
    nonfinite: tuple[int, nx.DiGraph] | None = None  # the first iteration with a NaN/Inf, and its graph
    updates: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # name -> [(index, ratio)]
    script: str | None = None
    script_lines: list[str] | None = None
    param_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # recorded structure -> {node id: name}
    # what optimizer steps found, when it changed (core/trace/stepfacts.py): [(iteration, facts)]
    facts: list[tuple[int, dict]] = field(default_factory=list)


def summarize(iterations: Iterable[Iteration], updates: dict | None = None, script: str | None = None) -> Run:
    """A Run from iterations in order (a recording's or a live session's); graphs are kept only for the
    first iteration of each structure and the first non-finite one."""
    run = Run(updates=dict(updates or {}), script=script, script_lines=_read_lines(script))
    return add(run, iterations)


def add(run: Run, iterations: Iterable[Iteration]) -> Run:
    """`run` with iterations appended (in order, after its last)."""
    for it in iterations:
        step = {"index": it.index, "loss": it.loss, "optimizer_steps": it.optimizer_steps,
                "signature": it.signature, "params": it.params, "values": _param_values(it.graph)}
        run.steps.append(step)
        if it.signature not in run.graphs and len(it.graph):
            run.graphs[it.signature] = (it.index, it.graph)
        if run.nonfinite is None and it.nonfinite:
            run.nonfinite = (it.index, it.graph)
    return run


def from_recording(rec, run: Run | None = None) -> Run:
    """A Run from a core.recording.Recording (RecordingError if it is damaged). Given `run`, read earlier
    from the same file while it was being written (a live run's), only the iterations committed since
    are read, into it."""
    run = run if run is not None else Run()
    if not run.steps:
        run.script = rec.meta.get("script")
        run.script_lines = _read_lines(run.script)
    last = run.steps[-1]["index"] if run.steps else -1
    scalars = {r["index"]: r for r in rec.scalars() if r["index"] > last}
    for index, key, numbers, params in rec.numbers(last):
        row = scalars[index]
        step = {"index": index, "loss": row["loss"], "optimizer_steps": row["optimizer_steps"],
                "signature": row["signature"], "params": params}
        nonfinite = run.nonfinite is None and iteration_nonfinite(
            row["loss"], params, ({"value": n[0], "grad": n[1]} for n in numbers.values()))
        if key not in run.param_ids or row["signature"] not in run.graphs or nonfinite:
            it = rec.iteration(index)  # a graph is needed: read the whole iteration
            add(run, [it])
            run.param_ids[key] = {n: a["name"] for n, a in it.graph.nodes(data=True)
                                  if a.get("kind") == "param" and a.get("name")}
            continue
        step["values"] = {name: _fingerprint(numbers[n][0]) for n, name in run.param_ids[key].items()
                          if n in numbers and numbers[n][0]}
        run.steps.append(step)
    run.updates = rec.param_updates()
    run.facts = rec.step_facts()
    return run


def diagnose(run: Run) -> list[dict]:
    """Every rule's findings, by iteration."""
    return _by_iteration([f for rule in RULES for f in rule(run)])


def diagnose_recording(rec, run: Run | None = None) -> list[dict]:
    """The rules on `rec`'s rank, and ranks-diverge across every rank in the file (core/doctor/ranks.py).
    `run`: an earlier read of the same growing file, brought up to date first (see from_recording)."""
    return _by_iteration(diagnose(from_recording(rec, run)) + ranks.findings(rec))


def _by_iteration(found: list[dict]) -> list[dict]:
    return sorted(found, key=lambda f: (f["iteration"] is None, f["iteration"] or 0))


def has_problems(findings: list[dict]) -> bool:
    """A warning or an error among the findings."""
    return any(f["level"] in ("warning", "error") for f in findings)


def to_text(findings: list[dict]) -> str:
    """One line per finding: `LEVEL code iteration N subject: message`."""
    return "".join(f"{f['level'].upper()} {f['code']} iteration {f['iteration']} {f['subject']}: {f['message']}\n"
                   for f in findings)


def to_json(findings: list[dict]) -> str:
    return json.dumps({"findings": findings}, ensure_ascii=False, indent=1) + "\n"


def _param_values(g: nx.DiGraph) -> dict[str, tuple]:
    """Parameters' forward values, as a fingerprint of their summary (iterations with values only)."""
    return {a["name"]: _fingerprint(a["value"])
            for _, a in g.nodes(data=True) if a.get("kind") == "param" and a.get("name") and a.get("value")}


def _fingerprint(summary: dict) -> tuple:
    return tuple(summary.get(k) for k in ("norm", "mean", "min", "max"))


def _read_lines(script: str | None) -> list[str] | None:
    """The recorded script's lines (to name a detach() line), when it is still there."""
    if not script or not os.path.isfile(script):
        return None
    try:
        with open(script, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return None
