"""The .bps recording: a SQLite file written as the run goes (WAL, no pickle).

Graph structures are stored once per structure key; each iteration stores its
scalars and a zlib-compressed JSON of its per-node numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
import zlib

from ..iteration import NODE_FIELDS, STATIC_FIELDS, Iteration

FORMAT = "backprop-studio-recording"
VERSION = 1
COMMIT_EVERY = 0.25  # seconds between commits while running
CONSOLE_LIMIT = 20_000_000  # characters of console output kept

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS graphs (key TEXT PRIMARY KEY, signature TEXT NOT NULL, structure BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS iterations (
    rank INTEGER NOT NULL DEFAULT 0,  -- the distributed rank (0 for a single process; older files lack it)
    idx INTEGER NOT NULL, loss REAL, optimizer_steps INTEGER NOT NULL, signature TEXT NOT NULL,
    graph_key TEXT NOT NULL, detail TEXT NOT NULL, phase_times TEXT NOT NULL, wall REAL NOT NULL,
    loss_is_nan INTEGER NOT NULL DEFAULT 0,  -- SQLite stores NaN as NULL
    grad_scale REAL,  -- GradScaler's factor of the node gradients (recordings before it lack the column)
    nonfinite INTEGER,  -- core.iteration.iteration_nonfinite (recordings before it lack the column)
    PRIMARY KEY (rank, idx));
CREATE TABLE IF NOT EXISTS node_stats (rank INTEGER NOT NULL DEFAULT 0, idx INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (rank, idx));
CREATE TABLE IF NOT EXISTS param_stats (
    rank INTEGER NOT NULL DEFAULT 0, idx INTEGER NOT NULL, name TEXT NOT NULL, grad_norm REAL, nan INTEGER,
    inf INTEGER,
    accumulated_norm REAL,  -- the .grad the optimizer uses, when earlier backwards left a sum in it
    PRIMARY KEY (rank, idx, name));
CREATE TABLE IF NOT EXISTS console (seq INTEGER PRIMARY KEY, rank INTEGER NOT NULL DEFAULT 0, idx INTEGER NOT NULL,
    stream TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS param_updates (
    rank INTEGER NOT NULL DEFAULT 0, idx INTEGER NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,
    update_norm REAL, param_norm REAL, update_ratio REAL, PRIMARY KEY (rank, idx, name, source));
CREATE TABLE IF NOT EXISTS ranks (rank INTEGER PRIMARY KEY, meta TEXT NOT NULL);  -- merged files: each rank's meta
CREATE TABLE IF NOT EXISTS step_facts (  -- what optimizer steps found, when it changed (core/trace/stepfacts.py)
    rank INTEGER NOT NULL DEFAULT 0, idx INTEGER NOT NULL, data TEXT NOT NULL);
"""
RANKED_TABLES = ("iterations", "node_stats", "param_stats", "console", "param_updates", "step_facts")


class RecordingError(Exception):
    """The file is not a readable Backprop Studio recording."""


def _pack(obj) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":"), allow_nan=True).encode(), 1)


def _unpack(blob: bytes):
    return json.loads(zlib.decompress(blob))


class RecordingWriter:
    """Appends iterations; commits at most every COMMIT_EVERY seconds and on close."""

    def __init__(self, path: str, meta: dict | None = None, rank: int = 0):
        if os.path.exists(path):
            os.remove(path)
        for suffix in ("-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        self.path = path
        self.rank = rank
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._alive = _hold_writer_lock(path)  # readers tell a live writer from a dead one by it
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._known_graphs: set[str] = set()
        self._key_of: dict[tuple, str] = {}  # structure -> its key in the graphs table
        self._key_nodes = 0  # nodes held by _key_of
        self._console_chars = 0
        self._console_seq = 0
        self._last_commit = time.monotonic()
        self.last_index = -1
        self.db.execute("BEGIN")
        self.set_meta({"format": FORMAT, "version": VERSION, "status": "running", "error": None,
                       "break": None, "started": time.time(), "rank": rank, **(meta or {})})
        self.commit()

    def set_meta(self, items: dict) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in items.items()])

    def add_iteration(self, it: Iteration) -> None:
        g = it.graph
        key = self._graph_key(it)
        numbers = {n: [a.get("value"), a.get("grad"), *([a["accumulated"]] if a.get("accumulated") else [])]
                   for n, a in g.nodes(data=True) if a.get("value") is not None or a.get("grad") is not None}
        nan_loss = it.loss is not None and math.isnan(it.loss)
        self.db.execute("INSERT OR REPLACE INTO iterations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (self.rank, it.index, it.loss, it.optimizer_steps, it.signature, key, it.detail,
                         json.dumps(it.phase_times), time.time(), int(nan_loss), it.grad_scale, int(it.nonfinite)))
        self.db.execute("INSERT OR REPLACE INTO node_stats VALUES (?, ?, ?)", (self.rank, it.index, _pack(numbers)))
        if it.params:
            self.db.executemany("INSERT OR REPLACE INTO param_stats VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(self.rank, it.index, k, v.get("grad_norm"), v.get("nan"), v.get("inf"),
                                  v.get("accumulated_norm")) for k, v in it.params.items()])
        self.last_index = it.index
        self.maybe_commit()

    def _graph_key(self, it: Iteration) -> str:
        """The graphs-table key of `it`'s structure, stored on first sight."""
        g = it.graph
        token = it.structure
        if token is not None:  # the tracer's structure object: a repeat costs one lookup
            hit = self._key_of.get(id(token))
            if hit is not None and hit[0] is token:
                return hit[1]
        # from elsewhere (replays, tests): recognised by an exact comparison, not re-serialised
        seen = (tuple((n, *(tuple(v) if type(v) is list else v for v in map(a.get, STATIC_FIELDS)))
                      for n, a in g.nodes(data=True)), tuple(g.edges()))
        try:
            key = self._key_of.get(seen)
        except TypeError:  # an unhashable attribute value: no shortcut
            key, seen = None, None
        if key is None:
            static = [[n] + [a.get(k) for k in STATIC_FIELDS] for n, a in g.nodes(data=True)]
            edges = list(g.edges())
            key = hashlib.blake2b(json.dumps([static, edges]).encode(), digest_size=10).hexdigest()
            if key not in self._known_graphs:
                self.db.execute("INSERT OR IGNORE INTO graphs VALUES (?, ?, ?)",
                                (key, it.signature, _pack({"nodes": static, "edges": edges})))
                self._known_graphs.add(key)
            if self._key_nodes > 200_000:  # bounded: memory stays flat over long runs
                self._key_of.clear()
                self._key_nodes = 0
            if seen is not None:
                self._key_of[seen] = key
                self._key_nodes += len(g)
        if token is not None:
            self._key_of[id(token)] = (token, key)  # holds the token: its id is not reused meanwhile
            self._key_nodes += len(g)
        return key

    def add_console(self, stream: str, text: str) -> None:
        if self._console_chars >= CONSOLE_LIMIT:
            return
        if self._console_chars + len(text) >= CONSOLE_LIMIT:
            text = text[: CONSOLE_LIMIT - self._console_chars] + "\n[console output truncated]\n"
        self._console_chars += len(text)
        self._console_seq += 1
        self.db.execute("INSERT INTO console VALUES (?, ?, ?, ?, ?)",
                        (self._console_seq, self.rank, self.last_index + 1, stream, text))

    def add_step_facts(self, index: int, facts: dict) -> None:
        """What the optimizer step after iteration `index` found (the training doctor reads it)."""
        self.db.execute("INSERT INTO step_facts VALUES (?, ?, ?)", (self.rank, index, json.dumps(facts)))

    def add_param_updates(self, index: int, source: str, rows: list[dict]) -> None:
        """Per-parameter update sizes after iteration `index` (`source`: optimizer | manual)."""
        self.db.executemany("INSERT OR REPLACE INTO param_updates VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(self.rank, index, r["name"], source, r["update_norm"], r["param_norm"], r["update_ratio"])
                             for r in rows])

    def maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._last_commit = time.monotonic()

    def close(self, status: str, error: dict | None = None, brk: dict | None = None,
              ended: float | None = None) -> None:
        """Finish the file; `ended`: when the script stopped (default now)."""
        now = time.time()
        self.set_meta({"status": status, "error": error, "break": brk, "finished": now, "ended": ended or now})
        self.db.execute("COMMIT")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()
        if self._alive is not None:
            self._alive.close()


ABRUPT = {"type": "RecordingEndedAbruptly", "message": "recording ended abruptly: the process writing it was "
          "killed before it closed the file; every iteration committed before that is kept",
          "file": None, "line": None}


def _hold_writer_lock(path: str):
    """An exclusive advisory lock held while the writer lives; the OS drops it with the process."""
    try:
        import fcntl
    except ImportError:  # not POSIX: readers cannot tell, and trust the status written
        return None
    f = open(path, "rb")  # noqa: SIM115 - held open for the writer's lifetime
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return f


def _writer_alive(path: str) -> bool:
    try:
        import fcntl
    except ImportError:
        return True
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def save_copy(path: str, out: str) -> None:
    """A consistent copy of a recording, even one still being written (SQLite's backup: WAL included)."""
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def remove(path: str) -> None:
    """Delete a recording and SQLite's files beside it."""
    for p in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(p):
            os.remove(p)


def mark_status(path: str, status: str, error: dict | None) -> None:
    """Finish a recording whose writer died (killed child): keep what was committed."""
    db = sqlite3.connect(path)
    try:
        cur = json.loads(db.execute("SELECT value FROM meta WHERE key='status'").fetchone()[0])
        if cur == "running":
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("status", json.dumps(status)), ("error", json.dumps(error)),
                            ("finished", json.dumps(time.time()))])
            db.commit()
    finally:
        db.close()


class Recording:
    """Read-only access to a .bps file (safe on files from anyone: JSON and SQLite only).

    A distributed recording holds several ranks; a Recording reads one of them (`rank`, default the
    lowest): every query and `meta`'s status, error and break are that rank's."""

    def __init__(self, path: str, rank: int | None = None):
        if not os.path.isfile(path):
            raise RecordingError(f"{path}: no such file")
        with open(path, "rb") as f:
            head = f.read(16)
        if head != b"SQLite format 3\x00":
            raise RecordingError(f"{path}: not a Backprop Studio recording (not an SQLite file)")
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            rows = self.db.execute("SELECT key, value FROM meta").fetchall()
            self.meta = {k: json.loads(v) for k, v in rows}
        except (sqlite3.DatabaseError, json.JSONDecodeError, TypeError, ValueError) as e:
            raise RecordingError(f"{path}: damaged or foreign recording ({e})") from None
        if self.meta.get("format") != FORMAT:
            raise RecordingError(f"{path}: not a Backprop Studio recording")
        if not isinstance(self.meta.get("version"), int) or self.meta["version"] > VERSION:
            raise RecordingError(f"{path}: recording version {self.meta.get('version')} is newer than this app")
        self.path = path
        self._graphs: dict[str, tuple[str, dict]] = {}
        # columns newer than some recordings
        columns = {r[1] for r in self._query("PRAGMA table_info(iterations)")}
        self._has_scale = "grad_scale" in columns
        # rows from before the column (older files, merged with newer ones): NULL, a non-finite loss counts
        # in scalars() and an iteration read whole applies the rule to its graph
        self._nonfinite = "nonfinite" if "nonfinite" in columns else "NULL"
        self._has_total = any(r[1] == "accumulated_norm" for r in self._query("PRAGMA table_info(param_stats)"))
        self.rank_meta = self._rank_meta()
        self.ranks = sorted(self.rank_meta)
        self.rank = self.ranks[0] if rank is None else rank
        if self.rank not in self.rank_meta:
            raise RecordingError(f"{path}: no rank {rank} (the recording has ranks {self.ranks})")
        self.meta.update(self.rank_meta[self.rank])
        self._select_rank()

    def _rank_meta(self) -> dict[int, dict]:
        """rank -> its status, error, break and whereabouts; a writer killed midway reads as failed."""
        tables = {r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = self._query("SELECT rank, meta FROM ranks") if "ranks" in tables else []
        out = {int(r): self._json(m) for r, m in rows} or {int(self.meta.get("rank") or 0): dict(self.meta)}
        for m in out.values():
            if m.get("status", "running") == "running" and not _writer_alive(self.path):
                m["status"], m["error"] = "failed", ABRUPT  # every process writing it was killed
        return out

    def _select_rank(self) -> None:
        """Files with a rank column: temporary views of this rank's rows shadow the tables (rowid kept:
        rows in the order written)."""
        for table in RANKED_TABLES:
            if any(r[1] == "rank" for r in self._query(f"PRAGMA table_info({table})")):
                self._query(f"CREATE TEMP VIEW {table} AS SELECT rowid AS rowid, * FROM main.{table} "
                            f"WHERE rank={int(self.rank)}")

    @property
    def world_size(self) -> int:
        """Ranks in the job (1 for a single process)."""
        return int(self.meta.get("world_size") or 1)

    def close(self) -> None:
        self.db.close()

    @property
    def status(self) -> str:
        return self.meta.get("status", "running")

    def indices(self) -> list[int]:
        return [r[0] for r in self._query("SELECT idx FROM iterations ORDER BY idx")]

    def scalars(self, after: int = -1) -> list[dict]:
        """Per-iteration scalars of the iterations after `after`, in order."""
        rows = self._query("SELECT idx, loss, optimizer_steps, signature, detail, phase_times, loss_is_nan, "
                           f"coalesce({self._nonfinite}, loss_is_nan OR abs(loss) > 1e308) FROM iterations "
                           "WHERE idx>? ORDER BY idx", (after,))
        return [{"index": i, "loss": math.nan if nan else loss, "optimizer_steps": s, "signature": sig,
                 "detail": d, "nonfinite": bool(bad), **{f"{k}_time": v for k, v in self._json(pt).items()}}
                for i, loss, s, sig, d, pt, nan, bad in rows]

    def param_stats(self) -> dict[str, list[tuple[int, float]]]:
        out: dict[str, list] = {}
        for idx, name, norm in self._query("SELECT idx, name, grad_norm FROM param_stats ORDER BY idx"):
            out.setdefault(name, []).append((idx, norm))
        return out

    def params(self, after: int = -1) -> dict[int, dict]:
        """Iteration.params of the iterations after `after`, by index."""
        return self._param_rows("idx>?", (after,))

    def param_updates(self) -> dict[str, list[tuple[int, float]]]:
        """name -> [(iteration, update/param norm ratio)], sampled within a time share (core/trace/updates.py)."""
        if not self._query("SELECT name FROM sqlite_master WHERE type='table' AND name='param_updates'"):
            return {}
        out: dict[str, list] = {}
        for idx, name, ratio in self._query("SELECT idx, name, update_ratio FROM param_updates ORDER BY idx"):
            out.setdefault(name, []).append((idx, ratio))
        return out

    def update_norms(self) -> dict[tuple[int, str, str], tuple[float, float]]:
        """(iteration, parameter, source) -> (norm of the update, norm of the parameter before it)."""
        if not self._query("SELECT name FROM sqlite_master WHERE type='table' AND name='param_updates'"):
            return {}
        rows = self._query("SELECT idx, name, source, update_norm, param_norm FROM param_updates ORDER BY idx, rowid")
        return {(i, name, src): (u, p) for i, name, src, u, p in rows}

    def console(self) -> list[tuple[int, str, str]]:
        return self._query("SELECT idx, stream, text FROM console ORDER BY seq")

    def step_facts(self) -> list[tuple[int, dict]]:
        """[(iteration, facts)] in the order written (core/trace/stepfacts.py); [] for older recordings."""
        if not self._query("SELECT name FROM sqlite_master WHERE type='table' AND name='step_facts'"):
            return []
        return [(i, self._json(d)) for i, d in self._query("SELECT idx, data FROM step_facts ORDER BY rowid")]

    def iteration(self, index: int) -> Iteration:
        """One iteration's graph and numbers (RecordingError if the file is damaged)."""
        import networkx as nx  # here: `record`'s parent process reads a recording's status only

        try:
            return self._iteration(index)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, nx.NetworkXError) as e:
            raise RecordingError(f"{self.path}: damaged iteration {index} ({type(e).__name__}: {e})") from None

    def _iteration(self, index: int) -> Iteration:
        import networkx as nx

        scale = "grad_scale" if self._has_scale else "NULL"
        row = self._query("SELECT idx, loss, optimizer_steps, signature, graph_key, detail, phase_times, "
                          f"loss_is_nan, {scale}, {self._nonfinite} FROM iterations WHERE idx=?", (index,))
        if not row:
            raise RecordingError(f"{self.path}: no iteration {index}")
        idx, loss, steps, sig, key, detail, pt, nan_loss, grad_scale, bad = row[0]
        loss = math.nan if nan_loss else loss
        structure = self._structure(key)
        blob = self._query("SELECT data FROM node_stats WHERE idx=?", (index,))
        numbers = self._decode(blob[0][0]) if blob else {}
        g = nx.DiGraph()
        for rec in structure["nodes"]:
            nid = rec[0]
            attrs = dict(zip(STATIC_FIELDS, rec[1:], strict=False))
            value, grad, *accumulated = numbers.get(nid, (None, None))
            attrs["value"], attrs["grad"] = value, grad
            attrs["accumulated"] = accumulated[0] if accumulated else None
            g.add_node(nid, **{k: attrs.get(k) for k in NODE_FIELDS})
        g.add_edges_from(tuple(e) for e in structure["edges"])
        params = self._param_rows("idx=?", (index,)).get(index, {})
        return Iteration(index=idx, loss=loss, optimizer_steps=steps, signature=sig, graph=g,
                         detail=detail, phase_times=self._json(pt), params=params, grad_scale=grad_scale,
                         nonfinite=None if bad is None else bool(bad))

    def numbers(self, after: int = -1) -> list[tuple[int, str, dict, dict]]:
        """Every iteration after `after` without building its graph: (index, graph key, node numbers
        {node id: (value, grad[, accumulated])}, params as in Iteration.params). `iteration()` builds the
        graph where one is needed (the training doctor reads a long run this way, ~8x faster)."""
        params = self._param_rows("idx>?", (after,))
        blobs = dict(self._query("SELECT idx, data FROM node_stats WHERE idx>?", (after,)))
        try:
            return [(idx, key, self._decode(blobs[idx]) if idx in blobs else {}, params.get(idx, {}))
                    for idx, key in self._query("SELECT idx, graph_key FROM iterations WHERE idx>? ORDER BY idx",
                                                (after,))]
        except (TypeError, ValueError) as e:
            raise RecordingError(f"{self.path}: damaged iteration data ({e})") from None

    def _param_rows(self, where: str, args: tuple) -> dict[int, dict]:
        """Iteration.params of the iterations matching `where`, by index, in the order they were written."""
        total = "accumulated_norm" if self._has_total else "NULL"
        params: dict[int, dict] = {}
        for idx, name, n, a, b, acc in self._query(f"SELECT idx, name, grad_norm, nan, inf, {total} FROM param_stats "
                                                   f"WHERE {where} ORDER BY idx, rowid", args):
            row = params.setdefault(idx, {})[name] = {"grad_norm": math.nan if n is None and a else n, "nan": a, "inf": b}
            if acc is not None:
                row["accumulated_norm"] = acc
        return params

    def _structure(self, key: str) -> dict:
        if key not in self._graphs:
            row = self._query("SELECT structure FROM graphs WHERE key=?", (key,))
            if not row:
                raise RecordingError(f"{self.path}: graph {key} missing")
            self._graphs[key] = self._decode(row[0][0])
        return self._graphs[key]

    def _json(self, text) -> dict:
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, TypeError, ValueError) as e:
            raise RecordingError(f"{self.path}: damaged data ({e})") from None
        if not isinstance(value, dict):
            raise RecordingError(f"{self.path}: damaged data (expected an object)")
        return value

    def _decode(self, blob):
        try:
            return _unpack(blob)
        except (zlib.error, json.JSONDecodeError, TypeError, ValueError) as e:
            raise RecordingError(f"{self.path}: damaged data ({e})") from None

    def _query(self, sql: str, args: tuple = ()) -> list:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise RecordingError(f"{self.path}: damaged recording ({e})") from None
