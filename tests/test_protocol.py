"""core/session/protocol.py: framing, strict decoding, and fuzzed frames at the parent's end of a session."""

import math
import os
import pickle
import random
import socket
import struct
import time

import msgpack
import pytest

from backprop_studio.core.session import protocol
from backprop_studio.core.session.protocol import (
    MAX_FRAME,
    Command,
    Event,
    FrameReader,
    ProtocolError,
    decode,
    encode,
)
from backprop_studio.core.session.session import Session
from tests.blocking import wait_finished, wait_paused
from tests.util import write_script


def payload(body) -> bytes:
    return msgpack.packb(body, use_bin_type=True)


def frame(body_bytes: bytes) -> bytes:
    return struct.pack(">I", len(body_bytes)) + body_bytes


def ev_body(kind="stdout", data=None, **over):
    return {"v": 1, "type": "event", "kind": kind, "seq": 0, "data": {"text": "hi"} if data is None else data,
            **over}


class Evil:
    """Unpickling this would run a shell command: the protocol must never unpickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def cmd_body(kind="run_to", data=None, **over):
    return {"v": 1, "type": "command", "kind": kind, "seq": 1, "data": {"iteration": 3} if data is None else data,
            **over}


SEMANTIC = {  # well-formed msgpack that is still not an acceptable message
    "event": [
        ev_body(v=2), ev_body(v="1"), ev_body(type="command"), ev_body(kind="exec"), ev_body(kind=7),
        ev_body(seq="0"), ev_body(data=[1, 2]), ev_body(data={"text": 5}), ev_body(data={}),
        ev_body("paused", {"point": "nowhere", "index": 0}), ev_body("paused", {"point": "forward_op", "index": True}),
        ev_body("paused", {"point": "forward_op", "index": 0, "seq": "7"}),
        ev_body("finished", {"status": "exploded", "error": None, "break": None, "exit_code": 0}),
        ev_body("graph_ready", {"iteration": {"index": 0, "graph": {"nodes": [{"id": 1}], "edges": []}}}),
        ev_body("backward_done", {"iteration": {"index": 0, "graph": {"nodes": [], "edges": [{"source": "a"}]}}}),
        ev_body("iteration", {"index": 0}), [1, 2, 3], "just a string", None,
        ev_body("params_changed", {"index": 0, "params": [1]}),
        ev_body("optimizer_post", {"step": 1, "optimizer": "SGD", "index": 0, "params": [{"name": None}]}),
    ],
    "command": [
        cmd_body(v=0), cmd_body(type="event"), cmd_body(kind="exec"), cmd_body(kind="restart"), cmd_body(seq=None),
        cmd_body(data={"iteration": "3"}), cmd_body(data={"iteration": 1.5}), cmd_body(data={}),
        cmd_body("run", {"rate": 0}), cmd_body("run", {"rate": "1"}), cmd_body("set_detail", {"detail": 1}),
        cmd_body("set_breakpoints", {"conditions": "nonfinite"}), cmd_body("stop", {"now": True}),
        {"v": 1}, [0], 3.5,
    ],
}


def bad_frames(rng: random.Random, marker: str, kind: str, n_random: int = 150) -> list[bytes]:
    """Frames an `event` (or `command`) receiver must reject, one error each; the stream stays aligned."""
    good = payload(ev_body("backward_done", {"iteration": {"index": 0, "graph": {"nodes": [{"id": "n0"}],
                                                                               "edges": []}}})) \
        if kind == "event" else payload(cmd_body())
    body = ev_body() if kind == "event" else cmd_body()
    frames = [frame(rng.randbytes(rng.randint(0, 300))) for _ in range(n_random)]  # random bytes
    frames += [frame(good[:k]) for k in range(1, len(good))]  # every truncation of a valid frame
    frames += [frame(payload(b)) for b in SEMANTIC[kind]]
    frames.append(frame(msgpack.packb({**body, "data": {"x": msgpack.ExtType(1, b"x")}}, use_bin_type=True)))
    frames.append(frame(b"\x91" * 5000 + b"\xc0"))  # nesting deeper than msgpack allows
    frames.append(frame(b"\x81\xa1v\xa1\xff"))  # invalid UTF-8 in a string
    frames.append(frame(b"\x81\x01\x01"))  # int map key
    frames.append(frame(good + b"\x00"))  # trailing data
    frames.append(frame(pickle.dumps(Evil(marker))))
    return frames


def test_roundtrip_event_and_command():
    ev = Event("paused", {"point": "backward_node", "index": 3, "node": "n2", "value": [1.5, math.inf]})
    (out,) = FrameReader(Event).feed(encode(ev))
    assert out == ev
    cmd = Command("run", {"rate": 2.5}, seq=7)
    (back,) = FrameReader(Command).feed(encode(cmd))
    assert back == cmd
    nan = decode(encode(Event("iteration", {"index": 0, "loss": math.nan, "optimizer_steps": 0,
                                            "signature": "", "detail": "full", "params": {}, "nonfinite": True}))[4:], Event)
    assert math.isnan(nan.data["loss"])


def test_reader_reassembles_frames_split_anywhere():
    events = [Event("stdout", {"text": "x" * k}) for k in range(1, 40)]
    stream = b"".join(encode(e) for e in events)
    rng = random.Random(1)
    reader, out, pos = FrameReader(Event), [], 0
    while pos < len(stream):
        step = rng.randint(1, 50)
        out += reader.feed(stream[pos:pos + step])
        pos += step
    assert out == events and reader.eof() == []


@pytest.mark.parametrize("cmd", [
    Command("exec", {}), Command("run", {"rate": "fast"}), Command("run", {"rate": -1.0}),
    Command("run", {"rate": math.nan}), Command("run", {"speed": 1}), Command("run_to", {}),
    Command("run_to", {"iteration": True}), Command("run_to", {"iteration": -3}),
    Command("set_detail", {"detail": "everything"}), Command("set_breakpoints", {"conditions": [1]}),
    Command("pause", {"x": None}),
])
def test_bad_commands_are_rejected(cmd):
    with pytest.raises(ProtocolError):
        protocol.check_command(cmd)
    (out,) = FrameReader(Command).feed(frame(payload({"v": 1, "type": "command", "kind": cmd.kind,
                                                          "seq": 1, "data": cmd.args})))
    assert isinstance(out, ProtocolError)


def test_oversize_and_truncated_frames():
    reader = FrameReader(Event, max_frame=100)
    big = struct.pack(">I", 150) + b"z" * 150  # oversize: rejected, skipped, the stream stays aligned
    ok = encode(Event("stdout", {"text": "after"}))
    out = reader.feed(big[:60]) + reader.feed(big[60:] + ok)
    assert isinstance(out[0], ProtocolError) and "exceeds" in str(out[0])
    assert out[1:] == [Event("stdout", {"text": "after"})]
    assert reader.feed(ok[:-3]) == []
    (cut,) = reader.eof()
    assert isinstance(cut, ProtocolError) and "truncated" in str(cut)
    with pytest.raises(ProtocolError):
        encode(Event("stdout", {"text": "x" * (MAX_FRAME + 1)}))


def test_fuzz_decoder_never_raises_anything_else(tmp_path):
    rng = random.Random(7)
    marker = str(tmp_path / "executed")
    frames = bad_frames(rng, marker, "event")
    for f in frames:
        (out,) = FrameReader(Event).feed(f)
        assert isinstance(out, ProtocolError)
    for _ in range(300):  # raw garbage streams, fed in random pieces; bounded buffering
        reader = FrameReader(Event, max_frame=1 << 16)
        blob = rng.randbytes(rng.randint(0, 2000))
        for k in range(0, len(blob), 97):
            for item in reader.feed(blob[k:k + 97]):
                assert isinstance(item, ProtocolError | Event)
        assert all(isinstance(e, ProtocolError) for e in reader.eof())
    assert not os.path.exists(marker)


def test_fuzz_parent_end_of_session(tmp_path):
    """Garbage from a (fake) child: one protocol_error event per bad frame, valid events still arrive."""
    script = write_script(tmp_path, "print('never run')\n")
    rng = random.Random(3)
    marker = str(tmp_path / "executed")
    frames = bad_frames(rng, marker, "event", n_random=200)
    ours, theirs = socket.socketpair()
    s = Session(script, record=str(tmp_path / "run.bps"))
    s._attach(ours)
    try:
        theirs.setblocking(True)
        got = []
        for k, f in enumerate(frames):
            theirs.sendall(f)
            if k % 50 == 0:
                got += s.events()
        theirs.sendall(encode(Event("stdout", {"text": "still alive"})))
        theirs.sendall(struct.pack(">I", 1000) + b"cut short")
        theirs.close()
        deadline_events = s.events(timeout=5)
        while s.finished is None:
            more = s.events(timeout=5)
            assert more, "the session hung"
            deadline_events += more
        got += deadline_events
    finally:
        s.close()
    errors = [e for e in got if e.kind == "protocol_error"]
    assert len(errors) == len(frames) + 1  # + the truncated last frame
    assert Event("stdout", {"text": "still alive"}) in got
    assert got[-1].kind == "finished" and got[-1].data["status"] == "failed"
    assert not os.path.exists(marker)


def test_fuzz_child_end_of_session(tmp_path):
    """Garbage to a real child: one protocol_error event per bad frame; it still obeys the next command."""
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(2, requires_grad=True)
        (w * 2).sum().backward()
        print("finished normally")
    """)
    rng = random.Random(5)
    marker = str(tmp_path / "executed")
    frames = bad_frames(rng, marker, "command", n_random=300)
    for f in frames:
        (out,) = FrameReader(Command).feed(f)
        assert isinstance(out, ProtocolError)
    s = Session(script, record=str(tmp_path / "run.bps"))
    s.start()
    try:
        wait_paused(s, 60)
        t0 = time.monotonic()
        for f in frames:
            s._write(f)
        errors = 0
        while errors < len(frames) and time.monotonic() - t0 < 30:
            errors += sum(e.kind == "protocol_error" for e in s.events(timeout=1))
        assert errors == len(frames)
        s.send("run")
        assert wait_finished(s, 30).data["status"] == "finished"
        assert any("finished normally" in e.data.get("text", "") for e in s.events())
    finally:
        s.close()
    assert not os.path.exists(marker)
