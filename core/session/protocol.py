"""The message protocol between the GUI process and the script's child process.

A frame is a 4-byte big-endian length, then one msgpack map:
    {"v": VERSION, "type": "command" | "event", "kind": str, "seq": int, "data": {str: value}}
Decoding builds only None, bool, int, float, str, bytes, lists and maps (no pickle, msgpack
extension types rejected), so a frame can never execute code. Anything unexpected (unknown kind,
wrong version, wrong field types, oversize or truncated frame) raises ProtocolError, which the
receiver turns into a `protocol_error` event.
"""

from __future__ import annotations

import math
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import msgpack

from ..iteration import DETAILS

VERSION = 1
MAX_FRAME = 64 << 20  # bytes of one frame's payload
HEADER = struct.Struct(">I")

POINTS = ("forward_op", "backward_begin", "backward_node", "backward_end", "optimizer_pre", "optimizer_post")
STATUSES = ("finished", "failed", "stopped")


class ProtocolError(Exception):
    """A frame that was rejected; the message says why."""


@dataclass
class Event:
    """Child -> parent: something happened in the script."""

    kind: str
    data: dict = field(default_factory=dict)


@dataclass
class Command:
    """Parent -> child: what the script should do next; `seq` numbers commands in order sent."""

    kind: str
    args: dict = field(default_factory=dict)
    seq: int = 0


NONE = type(None)
NUM = (int, float)
OPT_STR = (str, NONE)
OPT_INT = (int, NONE)

# Allowed arguments of each command (all of them; a missing optional one is None).
COMMANDS: dict[str, dict[str, tuple]] = {
    "run": {"rate": (*NUM, NONE)},
    "pause": {},
    "step_iteration": {},
    "step_phase": {},
    "step_node": {},
    "step_forward_op": {},
    "run_to": {"iteration": (int,)},
    "stop": {},
    "set_detail": {"detail": (str,)},
    "set_breakpoints": {"conditions": (list,)},
}

# Required fields of each event (more fields may follow).
EVENTS: dict[str, dict[str, tuple]] = {
    "started": {"script": (str,), "argv": (list,), "pid": (int,), "record": (str,)},
    "paused": {"point": (str,), "index": (int,), "seq": OPT_INT},
    "graph_ready": {"iteration": (dict,)},
    "node_grad": {"index": (int,), "node": (str,), "grad": (dict, NONE)},
    "iteration": {"index": (int,), "loss": (*NUM, NONE), "optimizer_steps": (int,), "signature": (str,),
                  "detail": (str,), "params": (dict,), "nonfinite": (bool,)},
    "backward_done": {"iteration": (dict,)},
    "optimizer_pre": {"step": (int,), "optimizer": (str,), "index": (int,), "params": (list,)},
    "optimizer_post": {"step": (int,), "optimizer": (str,), "index": (int,), "params": (list,)},
    "params_changed": {"index": (int,), "params": (list,)},
    "stdout": {"text": (str,)},
    "stderr": {"text": (str,)},
    "error": {"type": (str,), "message": (str,), "file": OPT_STR, "line": OPT_INT},
    "break": {"reason": (str,), "iteration": (int,), "node": OPT_STR, "op": OPT_STR, "name": OPT_STR,
              "source": OPT_STR},
    "finished": {"status": (str,), "error": (dict, NONE), "break": (dict, NONE), "exit_code": OPT_INT},
    "protocol_error": {"message": (str,)},
}


def _check_fields(what: str, data: dict, spec: dict[str, tuple], exact: bool) -> None:
    for name, types in spec.items():
        if name not in data and NONE not in types:
            raise ProtocolError(f"{what}: missing field {name!r}")
        value = data.get(name)
        # bool is an int in Python; a protocol int is never a bool
        if type(value) not in types or (type(value) is bool and bool not in types):
            raise ProtocolError(f"{what}: field {name!r} has type {type(value).__name__}")
    if exact:
        extra = set(data) - set(spec)
        if extra:
            raise ProtocolError(f"{what}: unknown field(s) {sorted(extra)}")


def _check_iteration(what: str, it: dict) -> None:
    """The parts of an Iteration-json the GUI relies on."""
    g = it.get("graph")
    if type(it.get("index")) is not int or not isinstance(g, dict):
        raise ProtocolError(f"{what}: iteration needs an int index and a graph")
    nodes, edges = g.get("nodes"), g.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise ProtocolError(f"{what}: graph needs node and edge lists")
    if not all(isinstance(n, dict) and isinstance(n.get("id"), str) for n in nodes):
        raise ProtocolError(f"{what}: every node needs a string id")
    if not all(isinstance(e, dict) and isinstance(e.get("source"), str) and isinstance(e.get("target"), str)
               for e in edges):
        raise ProtocolError(f"{what}: every edge needs string source and target")


def check_command(cmd: Command) -> None:
    """Raise ProtocolError unless `cmd` is a known command with well-typed arguments."""
    spec = COMMANDS.get(cmd.kind)
    if spec is None:
        raise ProtocolError(f"unknown command {cmd.kind!r}")
    _check_fields(f"command {cmd.kind}", cmd.args, spec, exact=True)
    rate = cmd.args.get("rate")
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise ProtocolError("run: rate must be a positive number of iterations per second")
    if cmd.kind == "run_to" and cmd.args["iteration"] < 0:
        raise ProtocolError("run_to: iteration must be >= 0")
    if cmd.kind == "set_detail" and cmd.args["detail"] not in DETAILS:
        raise ProtocolError(f"set_detail: detail must be one of {DETAILS}")
    if cmd.kind == "set_breakpoints" and not all(isinstance(c, str) for c in cmd.args["conditions"]):
        raise ProtocolError("set_breakpoints: conditions must be strings")


def check_event(ev: Event) -> None:
    """Raise ProtocolError unless `ev` is a known event with the fields the GUI relies on."""
    spec = EVENTS.get(ev.kind)
    if spec is None:
        raise ProtocolError(f"unknown event {ev.kind!r}")
    _check_fields(f"event {ev.kind}", ev.data, spec, exact=False)
    if ev.kind == "paused" and ev.data["point"] not in POINTS:
        raise ProtocolError(f"event paused: unknown point {ev.data['point']!r}")
    if ev.kind == "finished" and ev.data["status"] not in STATUSES:
        raise ProtocolError(f"event finished: unknown status {ev.data['status']!r}")
    if ev.kind in ("graph_ready", "backward_done"):
        _check_iteration(f"event {ev.kind}", ev.data["iteration"])
    if ev.kind in ("optimizer_pre", "optimizer_post", "params_changed") and not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) for p in ev.data["params"]):
        raise ProtocolError(f"event {ev.kind}: every parameter needs a string name")


def _plain(obj):
    """msgpack fallback for values our code did not convert: their text, never an object."""
    return repr(obj)


def encode(msg: Event | Command) -> bytes:
    """One frame (length prefix + msgpack) for `msg`."""
    if isinstance(msg, Command):
        body = {"v": VERSION, "type": "command", "kind": msg.kind, "seq": msg.seq, "data": msg.args}
    else:
        body = {"v": VERSION, "type": "event", "kind": msg.kind, "seq": 0, "data": msg.data}
    payload = msgpack.packb(body, use_bin_type=True, default=_plain)
    if len(payload) > MAX_FRAME:
        raise ProtocolError(f"{msg.kind}: frame of {len(payload)} bytes exceeds {MAX_FRAME}")
    return HEADER.pack(len(payload)) + payload


def _reject_ext(code: int, data: bytes):
    raise ProtocolError(f"msgpack extension type {code} not allowed")


def decode(payload: bytes, expect: type[Event] | type[Command]) -> Event | Command:
    """The message in one frame's payload (without the length prefix); ProtocolError if malformed."""
    try:
        body = msgpack.unpackb(payload, raw=False, strict_map_key=True, ext_hook=_reject_ext, timestamp=2)
    except ProtocolError:
        raise
    except Exception as e:  # noqa: BLE001 - msgpack raises many types for bad input
        raise ProtocolError(f"undecodable frame ({type(e).__name__}: {e})"[:300]) from None
    if not isinstance(body, dict):
        raise ProtocolError("frame is not a map")
    if body.get("v") != VERSION:
        raise ProtocolError(f"protocol version {body.get('v')!r}, expected {VERSION}")
    want = "command" if expect is Command else "event"
    if body.get("type") != want:
        raise ProtocolError(f"expected a {want}, got type {body.get('type')!r}")
    kind, seq, data = body.get("kind"), body.get("seq"), body.get("data")
    if not isinstance(kind, str) or type(seq) is not int or not isinstance(data, dict):
        raise ProtocolError("frame needs a string kind, an int seq and a data map")
    if not all(isinstance(k, str) for k in data):
        raise ProtocolError("data keys must be strings")
    if expect is Command:
        msg = Command(kind, data, seq)
        check_command(msg)
    else:
        msg = Event(kind, data)
        check_event(msg)
    return msg


class FrameReader:
    """Splits a byte stream into messages; bad frames come out as ProtocolError items."""

    def __init__(self, expect: type[Event] | type[Command], max_frame: int = MAX_FRAME):
        self.expect = expect
        self.max_frame = max_frame
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversize frame still to discard (keeps the stream aligned)

    def feed(self, data: bytes) -> list:
        """Messages (or ProtocolErrors) completed by `data`, in order."""
        out: list = []
        if self._skip:
            n = min(self._skip, len(data))
            self._skip -= n
            data = data[n:]
        self._buf += data
        while len(self._buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buf)
            if size > self.max_frame:
                out.append(ProtocolError(f"frame of {size} bytes exceeds the {self.max_frame}-byte limit"))
                dropped = min(size, len(self._buf) - HEADER.size)
                del self._buf[:HEADER.size + dropped]
                self._skip = size - dropped
                continue
            if len(self._buf) < HEADER.size + size:
                break
            payload = bytes(self._buf[HEADER.size:HEADER.size + size])
            del self._buf[:HEADER.size + size]
            try:
                out.append(decode(payload, self.expect))
            except ProtocolError as e:
                out.append(e)
        return out

    def eof(self) -> list:
        """At end of stream: a ProtocolError for a frame cut short, else nothing."""
        if self._buf or self._skip:
            n = len(self._buf)
            self._buf.clear()
            self._skip = 0
            return [ProtocolError(f"truncated frame at end of stream ({n} bytes left)")]
        return []


class Outbox:
    """The child's events to the parent, sent by one thread, so an interrupted script never cuts a
    frame in half.

    Console text is coalesced; a full queue makes the script wait (the GUI is behind).
    """

    LIMIT = 1024

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.broken = False
        self._items: deque = deque()  # [kind, data, born]; born > 0 for console chunks
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="backprop-studio-events", daemon=True)
        self._thread.start()

    def emit(self, kind: str, data: dict) -> None:
        self._put([kind, data, 0.0])

    def console(self, stream: str, text: str) -> None:
        with self._cond:
            last = self._items[-1] if self._items else None
            if last is not None and last[0] == stream and len(last[1]["text"]) < 65536:
                last[1]["text"] += text
                return
        self._put([stream, {"text": text}, time.monotonic()])

    def _put(self, item: list) -> None:
        with self._cond:
            while len(self._items) >= self.LIMIT and not self.broken:
                self._cond.wait(0.1)
            if not self.broken:
                self._items.append(item)
                self._cond.notify_all()

    def _next(self) -> tuple[str, dict] | None:
        with self._cond:
            while True:
                if self._items:
                    kind, data, born = self._items[0]
                    # a lone console chunk waits a moment to gather the rest of the line
                    wait = born + 0.02 - time.monotonic() if born and len(self._items) == 1 else 0
                    if wait <= 0 or self._closing:
                        self._items.popleft()
                        self._cond.notify_all()
                        return kind, data
                    self._cond.wait(wait)
                elif self._closing:
                    return None
                else:
                    self._cond.wait()

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                try:
                    frame = encode(Event(*item))
                except Exception as e:  # noqa: BLE001 - too big, or a value msgpack cannot hold: say so instead
                    frame = encode(Event("protocol_error", {"message": f"{item[0]} not sent: {e}"[:500]}))
                self.sock.sendall(frame)
            except OSError:  # the parent is gone
                with self._cond:
                    self.broken = True
                    self._items.clear()
                    self._cond.notify_all()
                return

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (up to `timeout`), then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
