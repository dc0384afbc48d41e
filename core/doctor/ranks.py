"""Ranks in sync: under DDP every rank's parameters are identical after each optimizer step, so each
step's per-parameter update norm and parameter norm (recorded anyway, core/trace/updates.py) agree across ranks.
The first step where they do not is a `ranks-diverge` finding (nothing extra is computed or sent)."""

from __future__ import annotations

import math

from ..recording.store import Recording
from .rules import finding, param_ref

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
        d = compare(key, {r: n[key] for r, n in norms.items()})
        if d is not None:
            return d
    return None


def compare(key: tuple[int, str, str], norms: dict[int, tuple[float, float]]) -> dict | None:
    """One step's (iteration, parameter, source) norms by rank, {rank: (update norm, parameter norm)}:
    None when the ranks agree, else the divergence."""
    updates = {r: n[0] for r, n in norms.items()}
    params = {r: n[1] for r, n in norms.items()}
    if _same(list(updates.values())) and _same(list(params.values())):
        return None
    return {"iteration": key[0], "parameter": key[1], "update_norms": updates, "param_norms": params}


class Agreement:
    """Ranks in sync, live: each rank's update norms as they arrive (`params_changed` events), compared
    as soon as every rank has sent the same step. `diverged` is the first divergence, or None."""

    def __init__(self, ranks: int):
        self.ranks = ranks
        self.compared = 0  # (iteration, parameter) steps every rank sent, all compared
        self.diverged: dict | None = None
        self._waiting: dict[tuple[int, str, str], dict[int, tuple[float, float]]] = {}
        self._last: dict[int, int] = {}  # rank -> the last iteration it sent

    def add(self, rank: int, index: int, source: str, rows: list[dict]) -> None:
        """One rank's `params_changed` rows ({name, update_norm, param_norm}) for iteration `index`."""
        self._last[rank] = index
        if len(self._last) == self.ranks:  # a step every rank has gone past and some rank did not sample
            done = min(self._last.values())
            for key in [k for k in self._waiting if k[0] < done]:
                del self._waiting[key]
        for row in rows:
            key = (index, row["name"], source)
            norms = self._waiting.setdefault(key, {})
            norms[rank] = (row.get("update_norm"), row.get("param_norm"))
            if len(norms) == self.ranks:
                del self._waiting[key]
                self.compared += 1
                d = compare(key, norms)
                if d is not None and (self.diverged is None or key[0] < self.diverged["iteration"]):
                    self.diverged = d


def findings(rec: Recording) -> list[dict]:
    """The `ranks-diverge` finding in the training doctor's form (rules.finding, plus the norms by rank),
    or none."""
    d = divergence(rec)
    if d is None:
        return []
    shown = ", ".join(f"rank {r}: {v:.6g}" for r, v in d["update_norms"].items())
    update_norms = {str(r): v for r, v in d["update_norms"].items()}
    param_norms = {str(r): v for r, v in d["param_norms"].items()}
    return [{**finding("ranks-diverge", "error", d["iteration"], d["parameter"],
                       f"ranks disagree on {d['parameter']} after the optimizer step of iteration "
                       f"{d['iteration']} (update norms {shown})",
                       "under DDP every rank must apply the same update: call the DDP-wrapped model, not "
                       "model.module (that skips the gradient all-reduce); no rank-dependent learning rate; "
                       "SyncBatchNorm for batch statistics", node=param_ref(d["parameter"]),
                       evidence={"update_norms": update_norms, "param_norms": param_norms}, curve="update_ratio"),
             "update_norms": update_norms, "param_norms": param_norms}]


class LiveRanks:
    """A live distributed run as the app shows it: the rank in focus (the one the graph, inspector and
    timeline show), whether the ranks agree, and each rank's console lines marked with its rank.
    Fed every event of a core/distributed/live.py session (each has a "rank"; the job's end has None)."""

    def __init__(self, ranks: int, focus: int = 0):
        self.ranks = ranks
        self.focus = focus
        self.agreement = Agreement(ranks)
        self._line_start: dict[int, bool] = {}

    def feed(self, kind: str, data: dict) -> dict | None:
        """The event's data for the views, or None when it is another rank's to keep to itself.
        Console text comes back with "[rank R] " at each line's start."""
        rank = data["rank"]
        if kind == "params_changed":
            self.agreement.add(rank, data["index"], data.get("by") or "optimizer", data["params"])
        if rank is None:  # the job's own events (its end)
            return data
        if kind in ("stdout", "stderr"):
            return {**data, "text": self._marked(rank, data["text"])}
        if kind == "finished":  # one rank's end: the job's follows
            return None
        return data if rank == self.focus or kind in ("error", "protocol_error") else None

    def _marked(self, rank: int, text: str) -> str:
        prefix = f"[rank {rank}] "
        body = text[:-1].replace("\n", "\n" + prefix) + text[-1:] if text else text
        out = (prefix if self._line_start.get(rank, True) else "") + body
        self._line_start[rank] = text.endswith("\n")
        return out

    def status(self) -> dict:
        """{ranks, focus, compared, diverged} for the views."""
        return {"ranks": self.ranks, "focus": self.focus, "compared": self.agreement.compared,
                "diverged": self.agreement.diverged}
