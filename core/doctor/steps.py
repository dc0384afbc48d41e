"""The doctor's rules about optimizer steps (pure functions of a `doctor.Run`): step-without-grad (steps
that find no gradient although the backward before gave one) and eval-mode (steps taken with a model's
dropout / batch norm in eval mode). Facts from core/trace/stepfacts.py and the sampled update rows."""

from __future__ import annotations

from ..iteration import SINK
from .rules import finding, param_ref

BLIND_SHARE = 0.8  # this share of the sampled steps changed nothing
MIN_SPAN = 2  # iterations a state must last to be a finding


def spans(run) -> list[tuple[int, int, dict]]:
    """(first iteration, iterations it lasted, facts) for each optimizer's states: each holds until that
    optimizer's next change, or the end of the run."""
    end = run.steps[-1]["index"] + 1 if run.steps else 0
    out = []
    for k, (index, facts) in enumerate(run.facts):
        later = next((i for i, f in run.facts[k + 1:] if f["optimizer"] == facts["optimizer"]), end)
        out.append((index, max(later, index + 1) - index, facts))
    return out


def _fed(run, index: int) -> bool:
    """The backward of iteration `index` gave some parameter a non-zero gradient (not the loss itself: a
    loss that is a leaf gets one)."""
    losses = {g.nodes[SINK].get("name") for _, g in run.graphs.values() if SINK in g}
    return any((row.get("grad_norm") or 0) > 0 for s in run.steps if s["index"] == index
               for name, row in s["params"].items() if name not in losses)


def step_without_grad(run) -> list[dict]:
    """Optimizer steps find no gradient although the backward just before gave one: the gradients were
    cleared (zero_grad between backward and step) before the optimizer could use them. Seen from .grad
    being None at the steps, or (zero_grad(set_to_none=False)) from sampled steps changing nothing."""
    for index, lasted, facts in spans(run):
        if facts["with_grad"] == 0 and facts["params"] and lasted >= MIN_SPAN and _fed(run, index):
            return [finding("step-without-grad", "warning", index, "optimizer",
                            f"from iteration {index} on ({lasted} iterations) the optimizer stepped with none of its "
                            f"{facts['params']} parameters holding a .grad, although the backward before gave "
                            "gradients: they were cleared before the step", HINT,
                            evidence={"iterations": lasted, "parameters": facts["params"]}, curve="update_ratio")]
    return _unchanged_steps(run)


HINT = "call optimizer.zero_grad() before backward() (or after step()), never between backward() and step()"


def _unchanged_steps(run) -> list[dict]:
    grads = {s["index"]: s["params"] for s in run.steps}
    steps: dict[int, dict[str, float]] = {}  # iteration -> {parameter: update ratio}
    for name, rows in run.updates.items():
        for i, r in rows:
            steps.setdefault(i, {})[name] = r
    considered, blind = 0, []
    for i, ratios in sorted(steps.items()):
        fed = [n for n in ratios if (grads.get(i, {}).get(n) or {}).get("grad_norm")]
        if not fed:
            continue
        considered += 1
        if all(ratios[n] == 0 for n in fed):
            blind.append((i, fed))
    if len(blind) < MIN_SPAN or len(blind) < BLIND_SHARE * considered:
        return []
    index, fed = blind[0]
    more = f" (and {len(fed) - 1} more)" if len(fed) > 1 else ""
    return [finding("step-without-grad", "warning", index, "optimizer",
                    f"{len(blind)} of {considered} sampled optimizer steps left {fed[0]}{more} exactly unchanged "
                    "although the backward just before gave it a gradient: the step found .grad zero", HINT,
                    node=param_ref(fed[0]), evidence={"blind_steps": len(blind), "steps": considered},
                    curve="update_ratio")]


def eval_mode(run) -> list[dict]:
    """Optimizer steps taken while every dropout / batch-norm module of the model being trained is in eval
    mode (model.eval() for validation, never model.train() again). Some of them in eval mode on purpose
    (frozen batch-norm statistics) is not a finding."""
    out, flagged = [], set()
    for index, lasted, facts in spans(run):
        for model, sensitive, off, _ in facts["models"]:
            if model in flagged or not sensitive or len(off) < sensitive or lasted < MIN_SPAN:
                continue
            flagged.add(model)
            out.append(finding("eval-mode", "warning", index, model,
                               f"from iteration {index} on ({lasted} iterations) the optimizer stepped with {model} "
                               f"in eval mode: all {sensitive} of its dropout / batch-norm modules "
                               f"({', '.join(off[:4])}{', ...' if len(off) > 4 else ''}) behave as at inference",
                               "call model.train() before each training epoch (after validating with model.eval())",
                               node={"module": off[0]}, evidence={"iterations": lasted, "modules": off}))
    return out
