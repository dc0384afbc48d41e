"""One recording from several: the ranks of one distributed job (one file per rank, or one per node).

Rows are copied as stored (every per-rank table has a `rank` column; graph structures are keyed by
content, so ranks share them); each rank's status, error and break go to the `ranks` table.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time

from ..recording.store import RANKED_TABLES, SCHEMA, Recording, RecordingError

RANK_KEYS = ("status", "error", "break", "started", "finished", "ended", "rank", "local_rank", "node_rank", "host")


class MergeError(Exception):
    """The files are not ranks of one job."""


def status_of_job(rank_meta: dict[int, dict]) -> tuple[str, dict | None]:
    """The job's status (failed if any rank failed, finished if all did, else stopped) and the error of
    the rank that failed first, with its "rank". A rank killed before it could write when it stopped (torchrun
    ends the others when one fails) counts after every rank that did: it is the victim, not the cause."""
    failed = [(m.get("ended") or m.get("finished") or math.inf, r, m) for r, m in rank_meta.items()
              if m.get("status") == "failed"]
    if failed:
        _, rank, m = min(failed, key=lambda x: (x[0], x[1]))
        return "failed", {**(m.get("error") or {}), "rank": rank}
    if all(m.get("status") == "finished" for m in rank_meta.values()):
        return "finished", None
    return "stopped", None


def _check(paths: list[str], recs: list[Recording]) -> None:
    for path, rec in zip(paths, recs, strict=True):
        if not rec.meta.get("job"):
            raise MergeError(f"{path} is not a recording of a distributed job (no job id)")
        if any(m.get("status") == "running" for m in rec.rank_meta.values()):
            raise MergeError(f"{path} is still being written")
    first = recs[0]
    for path, rec in zip(paths[1:], recs[1:], strict=True):
        a, b = (first.meta["job"], first.world_size), (rec.meta["job"], rec.world_size)
        if a != b:
            raise MergeError(f"{paths[0]} and {path} are from different jobs "
                             f"(job {a[0]!r} of {a[1]} ranks, job {b[0]!r} of {b[1]} ranks)")
    seen: dict[int, str] = {}
    for path, rec in zip(paths, recs, strict=True):
        for rank in rec.ranks:
            if rank in seen:
                raise MergeError(f"rank {rank} is in both {seen[rank]} and {path}")
            seen[rank] = path


def merge(paths: list[str], out: str) -> None:
    """Write the ranks of `paths` (recordings of one job) into the new recording `out`."""
    recs = []
    try:
        for p in paths:
            recs.append(Recording(p))
        _check(paths, recs)
        rank_meta = {r: {k: v for k, v in rec.rank_meta[r].items() if k in RANK_KEYS}
                     for rec in recs for r in rec.ranks}
    finally:
        for rec in recs:
            rec.close()
    job = {k: v for k, v in recs[0].meta.items() if k not in RANK_KEYS}
    status, error = status_of_job(rank_meta)
    job.update(status=status, error=error, ranks=sorted(rank_meta), merged=time.time())
    tmp = out + ".merging"
    if os.path.exists(tmp):
        os.remove(tmp)
    db = sqlite3.connect(f"file:{tmp}", uri=True, isolation_level=None)  # uri: ATTACH ... ?mode=ro
    try:
        db.executescript(SCHEMA)
        for p in paths:
            _copy(db, p)
        with db:
            db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in job.items()])
            db.executemany("INSERT INTO ranks VALUES (?, ?)", [(r, json.dumps(m)) for r, m in rank_meta.items()])
    except sqlite3.DatabaseError as e:
        raise RecordingError(f"could not merge into {out}: {e}") from None
    finally:
        db.close()
    os.replace(tmp, out)


def _copy(db: sqlite3.Connection, path: str) -> None:
    """Every row of `path` into `db` (console and event numbers are renumbered, in order)."""
    db.execute("ATTACH DATABASE ? AS src", (f"file:{path}?mode=ro",))
    try:
        db.execute("BEGIN")
        for table in ("graphs", *RANKED_TABLES):
            theirs = [r[1] for r in db.execute(f"PRAGMA src.table_info({table})")]
            ours = {r[1] for r in db.execute(f"PRAGMA main.table_info({table})")}
            cols = ", ".join(c for c in theirs if c in ours and c != "seq")
            if cols:
                verb = "INSERT OR IGNORE" if table == "graphs" else "INSERT"
                db.execute(f"{verb} INTO main.{table} ({cols}) SELECT {cols} FROM src.{table} ORDER BY rowid")
        db.execute("COMMIT")
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.execute("DETACH DATABASE src")
