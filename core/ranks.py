"""Ranks in sync: under DDP every rank's parameters are identical after each optimizer step, so each
step's per-parameter update norm and parameter norm (recorded anyway, core/updates.py) agree across ranks.
The first step where they do not is a `ranks-diverge` finding (nothing extra is computed or sent)."""

from __future__ import annotations

import math

from backprop_studio.core.recording import Recording

REL_TOL = 1e-6  # identical tensors give identical norms; this only forgives a different summation order


def _same(values: list[float | None]) -> bool:
    known = [v for v in values if v is not None]
    return all(math.isclose(v, known[0], rel_tol=REL_TOL, abs_tol=1e-12) or (math.isnan(v) and math.isnan(known[0]))
               for v in known)


def divergence(rec: Recording) -> dict | None:
    """The first (iteration, parameter) whose norms differ between the ranks of `rec`'s file:
    {iteration, parameter, update_norms: {rank: norm}, param_norms: {rank: norm}}; None if they agree
    (or the file holds one rank). Steps some rank did not sample are skipped."""
    if len(rec.ranks) < 2:
        return None
    norms = {}
    for r in rec.ranks:
        other = Recording(rec.path, rank=r)
        try:
            norms[r] = other.update_norms()
        finally:
            other.close()
    first = norms[rec.ranks[0]]
    common = [k for k in first if all(k in n for n in norms.values())]
    for key in sorted(common, key=lambda k: k[0]):  # stable: parameters stay in recorded order
        updates = {r: n[key][0] for r, n in norms.items()}
        params = {r: n[key][1] for r, n in norms.items()}
        if not (_same(list(updates.values())) and _same(list(params.values()))):
            return {"iteration": key[0], "parameter": key[1], "update_norms": updates, "param_norms": params}
    return None


def findings(rec: Recording) -> list[dict]:
    """The `ranks-diverge` finding in the training doctor's form ({code, level, iteration, subject,
    message, hint}, plus the norms by rank), or none."""
    d = divergence(rec)
    if d is None:
        return []
    shown = ", ".join(f"rank {r}: {v:.6g}" for r, v in d["update_norms"].items())
    return [{"code": "ranks-diverge", "level": "error", "iteration": d["iteration"], "subject": d["parameter"],
             "message": f"ranks disagree on {d['parameter']} after the optimizer step of iteration "
                        f"{d['iteration']} (update norms {shown})",
             "hint": "under DDP every rank must apply the same update: call the DDP-wrapped model, not "
                     "model.module (that skips the gradient all-reduce); no rank-dependent learning rate; "
                     "SyncBatchNorm for batch statistics",
             "update_norms": {str(r): v for r, v in d["update_norms"].items()},
             "param_norms": {str(r): v for r, v in d["param_norms"].items()}}]
