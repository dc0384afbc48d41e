"""Bad input never crashes us or loses data: odd tensors, odd scripts, corrupt recordings."""

import math
import os
import random
import sqlite3
import zlib

import pytest
import torch

from backprop_studio.core.recording.store import Recording, RecordingError, RecordingWriter
from backprop_studio.core.trace import stats
from tests.util import cli_here, nodes, record_fast, record_here, trace, write_script


# ---- summaries of unusual tensors -------------------------------------------------
def test_summaries_of_odd_tensors():
    base = torch.arange(12.0).reshape(3, 4)
    cases = [
        torch.tensor([1, 2, 3]),  # integer
        torch.tensor([True, False]),  # bool
        torch.tensor([3 + 4j, 0j]),  # complex: statistics of |z|
        torch.zeros(0),  # empty
        base.t(),  # non-contiguous view
        base[:, 1],  # strided view
        torch.tensor([1.0, 2.0]).half(),
        torch.tensor([1.0, 2.0], dtype=torch.bfloat16),
        torch.sparse_coo_tensor([[0, 2]], [5.0, -1.0], (4,)),
        torch.empty(3, device="meta"),
    ]
    s = stats.summarize(cases)
    assert s[0]["max"] == 3 and s[0]["dtype"] == "int64" and s[0]["values"] == [1.0, 2.0, 3.0]
    assert s[1]["mean"] == 0.5
    assert s[2]["max"] == 5.0 and s[2]["min"] == 0.0
    assert s[3]["norm"] == 0.0 and s[3]["values"] == []
    assert s[4]["values"] == base.t().tolist() and s[5]["values"] == [1.0, 5.0, 9.0]
    assert s[6]["dtype"] == "float16" and s[6]["mean"] == 1.5
    assert s[7]["mean"] == 1.5
    assert s[8]["values"] == [5.0, 0.0, -1.0, 0.0]
    assert "meta" in s[9]["note"] and "norm" not in s[9]


def test_summary_statistics_match_torch():
    torch.manual_seed(0)
    t = torch.randn(1000, 37) * 3 + 1
    (s,) = stats.summarize([t])
    assert math.isclose(s["norm"], t.norm().item(), rel_tol=1e-5)
    assert math.isclose(s["mean"], t.mean().item(), rel_tol=1e-4, abs_tol=1e-6)
    assert math.isclose(s["std"], t.std(correction=0).item(), rel_tol=1e-4)
    assert (s["min"], s["max"]) == (t.min().item(), t.max().item())
    assert "values" not in s  # more than 64 elements
    big = torch.full((3,), 1e30)  # the norm must not overflow float32
    assert math.isclose(stats.summarize([big])[0]["norm"], math.sqrt(3) * 1e30, rel_tol=1e-5)


def test_huge_gradient_is_summarised_without_copying_values():
    w = torch.zeros(100_000_000, requires_grad=True)  # 400 MB of float32

    def run():
        (w * 2).sum().backward()

    (it,) = trace(run)
    leaf = next(a for _, a in it.graph.nodes(data=True) if a["op"] == "AccumulateGrad")
    assert leaf["grad"]["norm"] == pytest.approx(2 * math.sqrt(1e8), rel=1e-4)
    assert "values" not in leaf["grad"]


# ---- scripts that use autograd in unusual ways --------------------------------------
ODD_SCRIPTS = {
    "no_grad_and_inference_mode": ("""
        import torch
        w = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            ignored = w * 2
        with torch.inference_mode():
            also = torch.ones(3) * 3
        (w * also.clone()).sum().backward()
    """, 1),
    "retain_graph_twice": ("""
        import torch
        w = torch.ones(3, requires_grad=True)
        loss = (w * w).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        assert w.grad.tolist() == [4.0, 4.0, 4.0]
    """, 2),
    "double_backward": ("""
        import torch
        x = torch.tensor(3.0, requires_grad=True)
        y = x ** 3
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        g.backward()
        assert x.grad.item() == 18.0
    """, 2),
    "user_hooks": ("""
        import torch
        w = torch.ones(2, requires_grad=True)
        w.register_hook(lambda g: g * 10)
        seen = []
        y = w * 3
        y.register_hook(lambda g: seen.append(g.sum().item()))
        y.sum().backward()
        assert w.grad.tolist() == [30.0, 30.0] and seen == [2.0]
    """, 1),
    "two_losses_one_backward": ("""
        import torch
        w = torch.ones(2, requires_grad=True)
        l1, l2 = (w * 2).sum(), (w ** 2).sum()
        torch.autograd.backward([l1, l2])
        assert w.grad.tolist() == [4.0, 4.0]
    """, 1),
    "compiled_region": ("""
        import torch
        f = torch.compile(lambda x: (x.sin() * 2).sum(), backend="aot_eager")
        w = torch.ones(4, requires_grad=True)
        for _ in range(2):
            f(w).backward()
    """, 2),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(ODD_SCRIPTS))
def test_odd_autograd_usage_runs_unchanged(tmp_path, name):
    body, count = ODD_SCRIPTS[name]
    script = write_script(tmp_path, body)
    proc, data = record_fast(tmp_path, script)
    assert data["status"] == "finished", proc.stderr
    assert len(data["iterations"]) == count
    if name == "compiled_region":
        assert nodes(data["iterations"][0], op="CompiledFunctionBackward")


@pytest.mark.e2e
def test_output_flood_is_bounded_in_the_recording(tmp_path):
    script = write_script(tmp_path, """
        import sys, torch
        w = torch.ones(1, requires_grad=True)
        for i in range(300_000):
            print("line", i, "x" * 60)
        (w * 2).sum().backward()
    """)
    bps = str(tmp_path / "run.bps")
    proc = record_here(script, bps, detail="auto")
    assert proc.returncode == 0
    assert proc.stdout.count("\n") == 300_000  # all passed through
    rec = Recording(bps)
    kept = "".join(t for _, _, t in rec.console())
    assert len(kept) <= 20_000_100 and rec.indices() == [0]


# ---- corrupt, foreign and hostile recordings ----------------------------------------
def _good_recording(path):
    its = trace(lambda: (torch.ones(2, requires_grad=True) * 3).sum().backward())
    w = RecordingWriter(str(path))
    for it in its:
        w.add_iteration(it)
    w.close("finished")
    return str(path)


@pytest.mark.parametrize("content", [b"", b"hello world", b"SQLite format 3\x00" + b"\x00" * 100,
                                     b"\x80\x04\x95 pickle"])
def test_foreign_files_give_a_clear_error(tmp_path, content):
    p = tmp_path / "bad.bps"
    p.write_bytes(content)
    with pytest.raises(RecordingError):
        Recording(str(p)).iteration(0)
    proc = cli_here("export", str(p), "--format", "json", "-o", str(tmp_path / "o.json"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "bad.bps" in proc.stderr


def test_truncated_recording(tmp_path):
    path = _good_recording(tmp_path / "r.bps")
    data = open(path, "rb").read()
    for cut in (100, len(data) // 2, len(data) - 500):
        p = tmp_path / f"cut{cut}.bps"
        p.write_bytes(data[:cut])
        try:
            rec = Recording(str(p))
            for i in rec.indices():
                rec.iteration(i)
        except RecordingError as e:
            assert str(p) in str(e)


def test_other_sqlite_database_is_rejected(tmp_path):
    p = tmp_path / "other.bps"
    db = sqlite3.connect(p)
    db.execute("CREATE TABLE t (a)")
    db.commit()
    db.close()
    with pytest.raises(RecordingError, match="not a Backprop Studio recording|damaged"):
        Recording(str(p))


def test_crafted_recording_cannot_execute_code(tmp_path):
    """A pickle payload stored where node data goes is data, never code."""
    path = _good_recording(tmp_path / "r.bps")
    marker = tmp_path / "pwned"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    db = sqlite3.connect(path)
    db.execute("UPDATE node_stats SET data=?", (zlib.compress(payload),))
    db.execute("UPDATE graphs SET structure=?", (payload,))
    db.commit()
    db.close()
    rec = Recording(path)
    with pytest.raises(RecordingError):
        rec.iteration(0)
    assert not marker.exists()


def test_random_bytes_in_recording_never_crash(tmp_path):
    path = _good_recording(tmp_path / "r.bps")
    data = bytearray(open(path, "rb").read())
    rng = random.Random(0)
    outcomes = {"error": 0, "read": 0}
    for k in range(300):
        mutated = bytearray(data)
        lo = rng.choice([0, len(mutated) // 2])  # header and schema, or data pages
        for _ in range(rng.randint(1, 40)):
            mutated[rng.randrange(lo, len(mutated))] = rng.randrange(256)
        p = tmp_path / f"m{k}.bps"
        p.write_bytes(bytes(mutated))
        try:  # each mutation: a RecordingError, or a file that reads back consistently
            rec = Recording(str(p))
            rows, indices = rec.scalars(), rec.indices()
            rec.console()
            assert [r["index"] for r in rows] == indices
            for i in indices:
                it = rec.iteration(i)
                assert it.index == i and all(u in it.graph and v in it.graph for u, v in it.graph.edges)
            rec.close()
            outcomes["read"] += 1
        except RecordingError:
            outcomes["error"] += 1
        os.remove(p)
    assert outcomes["error"] > 0 and outcomes["read"] > 0, outcomes  # both outcomes were exercised


@pytest.mark.e2e
@pytest.mark.parametrize("body, kind, line", [
    ("import torch\nimport no_such_module_here\n", "ModuleNotFoundError", 2),
    ("import torch\nw = torch.ones(2, requires_grad=True)\n(w * 2).sum().backward()\n"
     "big = torch.empty(10**13)\n", "RuntimeError", 4),
])
def test_import_error_and_memory_blow_up_are_reported_with_the_line(tmp_path, body, kind, line):
    script = write_script(tmp_path, body, name="bad.py")
    proc, data = record_fast(tmp_path, script, expect=1)
    assert data["status"] == "failed" and data["error"]["type"] == kind
    assert data["error"]["line"] == line and data["error"]["file"].endswith("bad.py")
    assert f"bad.py:{line}" in proc.stderr
    assert len(data["iterations"]) == body.count("backward()")
