"""One traced script's end of core/session/protocol.py, seen from the parent: events in, commands out.

`Channel` knows nothing of processes: core/session/session.py's Session (a child of ours) and each rank of
core/distributed/live.py's DistributedSession (a torchrun worker) are channels.
"""

from __future__ import annotations

import select
import socket
import time
from collections import deque

from ..conditions import parse_condition
from .protocol import Command, Event, FrameReader, ProtocolError, check_command, encode


class Channel:
    """Events from a traced script over a socket, and the commands sent to it (no Qt here)."""

    def __init__(self):
        self.finished: Event | None = None
        self._sock: socket.socket | None = None
        self._reader = FrameReader(Event)
        self._queue: deque[Event] = deque()
        self._seq = 0
        self._stopping = False
        self._eof = False

    def _attach(self, sock: socket.socket) -> None:
        """Use `sock` as the event/command channel (tests attach a fake child)."""
        sock.setblocking(False)
        self._sock = sock
        self._eof = False
        self._reader = FrameReader(Event)
        self.finished = None
        self._stopping = False
        self._seq = 0  # commands are numbered per child

    def fileno(self) -> int:
        """Readable when events are waiting (for a QSocketNotifier). It stays readable after the child
        has gone (end of stream) until close(): stop watching it once `finished` arrives."""
        return self._sock.fileno() if self._sock is not None else -1

    def _close_socket(self) -> None:
        if self._sock is not None and not self._eof:
            self._pump()
            if not self._eof:
                self._child_gone()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # ---- events ----------------------------------------------------------------
    def events(self, timeout: float = 0.0) -> list[Event]:
        """Events received so far; waits up to `timeout` seconds for at least one."""
        deadline = time.monotonic() + timeout
        self._pump()
        while not self._queue and self._wait_readable(deadline):
            self._pump()
        out = list(self._queue)
        self._queue.clear()
        return out

    def _wait_readable(self, deadline: float) -> bool:
        """Wait for bytes from the child until `deadline`; False if there is nothing more to wait for."""
        left = deadline - time.monotonic()
        if self._sock is None or self._eof or left <= 0:
            return False
        select.select([self._sock], [], [], left)
        return True

    def _pump(self) -> None:
        """Read everything waiting on the socket into the queue (never blocks)."""
        while self._sock is not None and not self._eof:
            try:
                data = self._sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            for m in self._reader.feed(data) if data else self._reader.eof():
                if isinstance(m, ProtocolError):
                    self._queue.append(Event("protocol_error", {"message": str(m)}))
                else:
                    self._queue.append(m)
                    if m.kind == "finished":
                        self.finished = m
            if not data:
                self._child_gone()

    def _child_gone(self) -> None:
        """End of stream: if the child could not say how it ended, say it for it."""
        self._eof = True
        if self.finished is None:
            status, error, code = self._ending()
            self.finished = Event("finished", {"status": status, "error": error, "break": None, "exit_code": code})
            self._queue.append(self.finished)

    def _ending(self) -> tuple[str, dict | None, int | None]:
        """(status, error, exit code) of a child that closed its end without a `finished` event."""
        if self._stopping:
            return "stopped", None, None
        return "failed", {"type": "ConnectionLost", "message": "the script's connection closed without a result",
                          "file": None, "line": None}, None

    # ---- commands --------------------------------------------------------------
    def send(self, command: str, **args) -> None:
        """Send a command (see core.protocol.COMMANDS); ValueError for a bad one."""
        if command == "set_breakpoints":
            for cond in args.get("conditions") or []:
                parse_condition(cond)
        cmd = Command(command, args, self._seq + 1)
        try:
            check_command(cmd)
        except ProtocolError as e:
            raise ValueError(str(e)) from None
        if self._sock is None:
            raise RuntimeError("session not started")
        self._seq += 1
        if command == "stop":
            self._stopping = True
        self._write(encode(cmd))

    def _write(self, frame: bytes) -> None:
        view = memoryview(frame)
        deadline = time.monotonic() + 5.0
        while view and self._sock is not None and not self._eof:
            try:
                view = view[self._sock.send(view):]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the child does not read its commands") from None
                select.select([], [self._sock], [], 0.1)
            except OSError:
                return  # the child is gone; its end of stream says how
