"""The one QObject between the engine and the views: Session events or a Recording in, sig_* out.

Live: a core.session.Session read through a QSocketNotifier (never blocking the UI thread), or a
core.dist_session.DistributedSession: every rank's events arrive, the rank in focus is shown
(core.ranks.LiveRanks sorts them), and `select_rank` shows another.
Replay: a core.recording.Recording, followed as it grows while another process writes it (a notebook's
trace()). Commands go to the source (gui/sources.py) whatever it is.
Scrubbing the timeline of a live run reads the .bps file the child writes (iterations the GUI was
sent are kept in a small cache first). What is shown lives in `view` (core/view_state.py), which
the bridge writes and the views read; data reaches the views only through these signals.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict, deque

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from ..core.distributed.live import DistributedSession
from ..core.doctor.ranks import LiveRanks
from ..core.iteration import LIVE_DETAIL, Iteration
from ..core.recording.store import Recording, RecordingError
from ..core.session.protocol import Event
from ..core.session.session import Session
from ..core.view_state import ViewState
from .sources import LiveSource, ReplaySource, Source

FOLLOW_MS = 500  # how often a recording still being written is read again
LIVE_CACHE = 64  # iterations kept in memory for scrubbing back without reading the file
GRAPH_SHARE = 0.3  # at most this share of the UI thread goes to showing graphs while a run goes freely
SHOW_GRAPH_FIRST = ("node_grad", "paused", "break", "finished", "error")
FULL_PHASES = {"forward_op": "forward", "backward_begin": "backward", "backward_node": "backward",
               "backward_end": "backward done", "optimizer_pre": "optimizer", "optimizer_post": "optimizer done"}


class Bridge(QObject):
    """Turns a live Session or a Recording into signals; forwards commands to the session."""

    sig_reset = Signal(dict)  # a new run or recording starts: {"mode", "script" | "recording"}
    sig_iteration = Signal(object)  # an Iteration to show (live, scrubbed or replayed)
    sig_scalars = Signal(dict)  # every iteration: {index, loss, optimizer_steps, signature, detail, params}
    sig_history = Signal(list, dict)  # a recording's scalars and per-parameter grad norms, all at once
    sig_updates = Signal(int, dict)  # (iteration, {parameter: update/parameter norm ratio})
    sig_console = Signal(str, str)  # (stream, text)
    sig_status = Signal(dict)  # {mode, state, iteration, phase, optimizer_steps, it_per_s, count}
    sig_paused = Signal(dict)  # the "paused" event (point, index, reason, node, ...)
    sig_node_grad = Signal(str, object)  # (node id, gradient summary) during node stepping
    sig_optimizer = Signal(dict)  # optimizer_pre / optimizer_post data, with "kind"
    sig_break = Signal(dict)  # a breakpoint hit
    sig_finished = Signal(dict)  # {status, error, break, exit_code}
    sig_error = Signal(dict)  # {type, message, file, line}
    sig_rank_scalars = Signal(int, dict)  # a distributed run: (rank, its iteration's scalars), every rank
    sig_ranks = Signal(dict)  # a distributed run: LiveRanks.status() and "at" (where each rank is); {} for others

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.view = ViewState()
        self.source: Source = Source(self)
        self.recording: Recording | None = None  # read for scrubbing (live: the file the child writes)
        self.record_path: str | None = None
        self.ranks: LiveRanks | None = None  # a distributed run's ranks
        self._cache: OrderedDict[int, Iteration] = OrderedDict()
        self._times: deque[float] = deque(maxlen=200)
        self._notifier: QSocketNotifier | None = None
        self._ignore_until_started = False
        self._pending_graph: tuple[dict, bool] | None = None
        self._graph_cost = 0.0  # seconds to decode and draw one graph (moving average)
        self._graph_at = 0.0
        self._graph_timer = QTimer(self, singleShot=True)
        self._graph_timer.timeout.connect(self._flush_graph)
        self._follow_timer = QTimer(self)  # a recording still being written (a notebook's trace())
        self._follow_timer.timeout.connect(self._follow)
        self._console_seen = 0
        self._updates_seen = -1  # the last iteration whose update ratios were sent

    # -- opening --------------------------------------------------------------------------------
    def start_script(self, script: str, args: list[str] | tuple = (), detail: str = LIVE_DETAIL,
                     paused: bool = True, break_on: list[str] | tuple = (), nproc: int | None = None) -> None:
        """Trace `script` live in a child process, or with `nproc` as that many ranks under torchrun
        (ValueError with a clear message for bad input)."""
        self.close()
        if nproc:
            session = DistributedSession(script, list(args), nproc, detail=detail, paused=paused,
                                         break_on=list(break_on))
            self.ranks = LiveRanks(nproc, session.focus)
            self.record_path = session.rank_record(session.focus)
        else:
            session = Session(script, list(args), detail=detail, paused=paused, break_on=list(break_on))
            self.record_path = session.record_path
        self.source = LiveSource(self, session)
        self._begin({"mode": "live", "script": session.script, "args": list(args)}, "paused" if paused else "running")
        session.start()
        self._watch()
        self.emit_status()

    def open_recording(self, path: str) -> None:
        """Replay a .bps recording (RecordingError with a clear message when it cannot be read)."""
        rec = Recording(path)
        self.close()
        self.recording, self.record_path = rec, os.path.abspath(path)
        self.source = ReplaySource(self, rec)
        self._begin({"mode": "replay", "recording": self.record_path, "script": rec.meta.get("script")}, "paused")
        self._history(rec)
        self._console_seen = 0
        self._console(rec)
        if rec.status == "running":  # another process still writes it: follow the file as it grows
            self.view.state = "running"
            self._follow_timer.start(FOLLOW_MS)
        else:
            self._ended(rec)
        self.emit_status()

    @property
    def following_file(self) -> bool:
        """A recording is open that another process is still writing (it is read again every FOLLOW_MS)."""
        return self._follow_timer.isActive()

    def _console(self, rec: Recording) -> None:
        rows = rec.console()
        for _, stream, text in rows[self._console_seen:]:
            self.sig_console.emit(stream, text)
        self._console_seen = len(rows)

    def _ended(self, rec: Recording) -> None:
        error, brk = rec.meta.get("error"), rec.meta.get("break")
        if error:
            self.sig_error.emit(error)
        if brk:
            self.sig_break.emit(brk)

    def _follow(self) -> None:
        """A growing recording: what was committed since the last look, as a live run's iterations."""
        try:
            rec = Recording(self.record_path)  # its status is read when opened
        except RecordingError:
            return
        self.recording.close()
        self.recording = rec
        last = self.view.count - 1
        rows, params = rec.scalars(after=last), rec.params(after=last)
        for r in rows:
            self._ev_iteration({**r, "params": params.get(r["index"], {})})
        self._console(rec)
        self._updates(rec)
        if rows and self.view.following:
            self.show(rows[-1]["index"])
        if rec.status != "running":
            self._follow_timer.stop()
            self.view.state = "paused"
            self._ended(rec)
            self.sig_finished.emit({"status": rec.status, "error": rec.meta.get("error"),
                                    "break": rec.meta.get("break"), "exit_code": None})
        self.emit_status()

    def _history(self, rec: Recording) -> None:
        """Everything `rec` holds so far to the plots and the timeline, and its last iteration shown."""
        rows = rec.scalars()
        for r in rows:
            self.view.mark(r["index"], r["detail"])
        self.sig_history.emit(rows, rec.param_stats())
        self._updates_seen = -1
        self._updates(rec)
        if rows:
            self.view.optimizer_steps = rows[-1]["optimizer_steps"]
            self.show(rows[-1]["index"])

    def _updates(self, rec: Recording) -> None:
        """The update/parameter ratios `rec` holds after those already sent."""
        by_index: dict[int, dict] = {}
        for name, points in rec.param_updates().items():
            for idx, ratio in points:
                if ratio is not None and idx > self._updates_seen:
                    by_index.setdefault(idx, {})[name] = ratio
        for idx in sorted(by_index):
            self.sig_updates.emit(idx, by_index[idx])
        self._updates_seen = max(by_index, default=self._updates_seen)

    def select_rank(self, rank: int) -> None:
        """A distributed run: show rank `rank` (graph, inspector, timeline, plots); finer steps act on it."""
        session = self.session
        if self.ranks is None or not isinstance(session, DistributedSession) or rank == session.focus:
            return
        session.focus = self.ranks.focus = rank
        if self.recording is not None:
            self.recording.close()
            self.recording = None
        self.record_path = session.rank_record(rank)
        self._cache.clear()
        self._pending_graph = None
        self.view.count, self.view.shown, self.view.following = 0, None, True
        if os.path.isfile(self.record_path):  # what it has committed (a paused rank: everything)
            try:
                self.recording = Recording(self.record_path)
                self._history(self.recording)
            except RecordingError as e:
                self.sig_error.emit({"type": "RecordingError", "message": str(e), "file": None, "line": None})
        self.emit_status()

    @property
    def session(self) -> Session | DistributedSession | None:
        return getattr(self.source, "session", None)

    def close(self) -> None:
        """End the current run (the child is killed) or recording."""
        self._unwatch()
        self._follow_timer.stop()
        if self.recording is not None:
            self.recording.close()
            self.recording = None
        self.source.close()
        self.source = Source(self)
        self.ranks = None
        self.view.mode, self.view.state = "idle", "idle"

    # -- commands -----------------------------------------------------------------------------
    def run(self, rate: float | None = None) -> None:
        self.source.run(rate)
        self.emit_status()

    def pause(self) -> None:
        self.source.pause()
        self.emit_status()

    def step(self, kind: str) -> None:
        """step_iteration | step_phase | step_node | step_forward_op (replay: next iteration)."""
        self.source.step(kind)
        self.emit_status()

    def run_to(self, iteration: int) -> None:
        self.source.run_to(iteration)
        self.emit_status()

    def stop(self) -> None:
        self.source.stop()
        self.emit_status()

    def restart(self) -> None:
        """Live: run the script again from the start. Replay: back to the first iteration."""
        if self.session is not None:
            self._unwatch()
            self._ignore_until_started = True  # the old child's last words are still queued
            if self.recording is not None:
                self.recording.close()  # the new child rewrites the same file
                self.recording = None
            self.source.restart()
            if self.ranks is not None:
                self.ranks = LiveRanks(self.ranks.ranks, self.ranks.focus)
            self._begin({"mode": "live", "script": self.session.script, "args": self.session.args}, self.view.state)
            self._watch()
        else:
            self.source.restart()
        self.emit_status()

    def set_breakpoints(self, conditions: list[str]) -> None:
        """The live run's breakpoints from now on (core.conditions strings)."""
        self.source.send("set_breakpoints", conditions=list(conditions))

    def set_detail(self, detail: str) -> None:
        self.source.send("set_detail", detail=detail)

    def iteration(self, index: int) -> Iteration | None:
        """Iteration `index` from the live cache or the recording, without showing it."""
        return self._cache.get(index) or self._read(index)

    def show(self, index: int) -> bool:
        """Show iteration `index` (timeline scrubbing); following resumes when it is the newest."""
        view = self.view
        it = self.iteration(index)
        if it is None:
            return False
        view.shown = index
        if view.count:
            view.following = index >= view.count - 1
        self.sig_iteration.emit(it)
        self.emit_status()
        return True

    # -- live events ----------------------------------------------------------------------------
    def _watch(self) -> None:
        fd = self.session.fileno()
        self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)

    def _unwatch(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None

    def _on_readable(self, *_args) -> None:
        session = self.session
        if session is None:
            return
        try:
            events = session.events(0)
        except (OSError, ValueError) as e:
            events = [Event("protocol_error",
                            {"message": self.tr("lost the connection to the script: {error}").format(error=e)})]
        for ev in events:
            if ev.kind in SHOW_GRAPH_FIRST:
                self._flush_graph()  # these refer to the graph just sent: show it first
            self._dispatch(ev)
        self._flush_graph(force=False)
        if session.finished is not None and self._notifier is not None and not self._ignore_until_started:
            self._notifier.setEnabled(False)  # the socket stays readable at end of stream
        self.emit_status()

    def _dispatch(self, ev: Event) -> None:
        kind, d = ev.kind, ev.data
        if self._ignore_until_started:
            if kind != "started":
                return
            self._ignore_until_started = False
        if self.ranks is not None and "rank" in d:
            if kind == "iteration":
                self.sig_rank_scalars.emit(d["rank"], d)
            d = self.ranks.feed(kind, d)
            if d is None:  # another rank's
                return
        handler = getattr(self, f"_ev_{kind}", None)
        if handler is not None:
            handler(d)

    def _ev_started(self, d: dict) -> None:
        self.record_path = d.get("record") or self.record_path

    def _ev_paused(self, d: dict) -> None:
        self.view.state = "paused"
        self.view.phase = FULL_PHASES.get(d.get("point", ""), d.get("point", ""))
        partial = d.get("graph")
        if d.get("point") == "forward_op" and isinstance(partial, dict) and self.view.following:
            self._emit_iteration(partial, cache=False)
        self.sig_paused.emit(d)

    def _ev_graph_ready(self, d: dict) -> None:
        self.view.phase = "backward"
        if self.view.following:
            self._emit_iteration(d["iteration"], cache=False)

    def _ev_node_grad(self, d: dict) -> None:
        if self.view.following:
            self.sig_node_grad.emit(d["node"], d.get("grad"))

    def _ev_iteration(self, d: dict) -> None:
        self.view.mark(d["index"], d.get("detail", ""))
        self.view.optimizer_steps = d.get("optimizer_steps", self.view.optimizer_steps)
        self._times.append(time.monotonic())
        self.sig_scalars.emit(d)

    def _ev_backward_done(self, d: dict) -> None:
        self.view.phase = "backward done"
        self._emit_iteration(d["iteration"], cache=True)

    def _ev_optimizer_pre(self, d: dict) -> None:
        self.view.phase = "optimizer"
        self.sig_optimizer.emit({"kind": "optimizer_pre", **d})

    def _ev_optimizer_post(self, d: dict) -> None:
        self.view.optimizer_steps = max(self.view.optimizer_steps, d.get("step", 0))
        self.sig_optimizer.emit({"kind": "optimizer_post", **d})

    def _ev_params_changed(self, d: dict) -> None:
        ratios = {r["name"]: r["update_ratio"] for r in d.get("params") or []
                  if r.get("name") and r.get("update_ratio") is not None}
        if ratios:
            self.sig_updates.emit(d["index"], ratios)

    def _ev_stdout(self, d: dict) -> None:
        self.sig_console.emit("stdout", d["text"])

    def _ev_stderr(self, d: dict) -> None:
        self.sig_console.emit("stderr", d["text"])

    def _ev_error(self, d: dict) -> None:
        self.sig_error.emit(d)

    def _ev_break(self, d: dict) -> None:
        self.sig_break.emit(d)

    def _ev_protocol_error(self, d: dict) -> None:
        self.sig_error.emit({"type": "ProtocolError", "message": d.get("message", ""), "file": None, "line": None})

    def _ev_finished(self, d: dict) -> None:
        self.view.state = "finished"
        self.view.phase = d.get("status", "finished")
        self.sig_finished.emit(d)

    def _emit_iteration(self, data: dict, cache: bool) -> None:
        """Queue a graph to show: only the newest of a burst is decoded and drawn (see _flush_graph)."""
        self._pending_graph = (data, cache)

    def _flush_graph(self, force: bool = True) -> None:
        """Decode and show the queued graph. Unforced (running freely), graphs are shown at most every
        GRAPH_SHARE⁻¹ × their own cost, so a 10k-node model leaves the UI most of its time."""
        if self._pending_graph is None:
            return
        wait = self._graph_cost / GRAPH_SHARE - (time.monotonic() - self._graph_at)
        if not force and wait > 0:
            if not self._graph_timer.isActive():
                self._graph_timer.start(int(wait * 1000) + 1)
            return
        self._graph_timer.stop()
        (data, cache), self._pending_graph = self._pending_graph, None
        started = time.monotonic()
        try:
            it = Iteration.from_json(data)
        except (KeyError, TypeError, ValueError) as e:
            self._ev_protocol_error({"message": self.tr("unreadable iteration: {error}").format(error=e)})
            return
        if cache:
            self._cache[it.index] = it
            while len(self._cache) > LIVE_CACHE:
                self._cache.popitem(last=False)
        if self.view.following:
            self.view.shown = it.index
            self.sig_iteration.emit(it)
        self._graph_at = time.monotonic()
        self._graph_cost = 0.7 * self._graph_cost + 0.3 * (self._graph_at - started)

    # -- recording --------------------------------------------------------------------------------
    def _read(self, index: int) -> Iteration | None:
        """An iteration from the recording (live: the file the child writes, committed part)."""
        if self.recording is None and self.record_path and os.path.isfile(self.record_path):
            try:
                self.recording = Recording(self.record_path)
            except RecordingError:
                return None
        if self.recording is None:
            return None
        try:
            return self.recording.iteration(index)
        except RecordingError as e:
            if self.view.mode == "replay":  # live, it is just not committed yet (a few commits a second)
                self.sig_error.emit({"type": "RecordingError", "message": str(e), "file": None, "line": None})
            return None

    # -- status -----------------------------------------------------------------------------------
    def _begin(self, info: dict, state: str) -> None:
        self.view.begin(self.source.mode, state)
        self._cache.clear()
        self._times.clear()
        self._pending_graph = None
        self._graph_timer.stop()
        self.sig_reset.emit(info)
        if self.ranks is None:
            self.sig_ranks.emit({})

    def it_per_s(self) -> float:
        """Iterations per second over the last few seconds of a live run."""
        now = time.monotonic()
        recent = [t for t in self._times if now - t <= 3.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def emit_status(self) -> None:
        self.sig_status.emit(self.view.status(self.it_per_s()))
        if isinstance(self.session, DistributedSession) and self.ranks is not None:
            self.sig_ranks.emit({**self.ranks.status(), "at": self.session.where()})
