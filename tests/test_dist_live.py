"""Live distributed sessions (core/distributed/live.py): torchrun, gloo on CPU, 2 ranks, each driven over its
own connection. Every wait is bounded, so a deadlock fails the test instead of hanging the suite."""

import os

import pytest

from backprop_studio.core.distributed.live import COLLECTIVE_TIMEOUT, DistributedSession
from backprop_studio.core.doctor.ranks import Agreement
from backprop_studio.core.recording.store import Recording
from tests.blocking import wait_finished, wait_paused
from tests.util import write_script

pytestmark = pytest.mark.e2e

START = 180  # seconds for torchrun and two torch workers to start on 2 cores (~5 s when idle)
STEP = 60
STOP = 60  # a stop's speed (< 1.5 s) is a benchmark: benchmarks/processes.py

# DDP: every backward all-reduces the gradients, so no rank can finish a backward without the other
DDP = """
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

dist.init_process_group("gloo")
rank = dist.get_rank()
print("timeout", dist.distributed_c10d._get_default_timeout(dist.Backend.GLOO).total_seconds(), flush=True)
torch.manual_seed(0)
model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1)))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = torch.Generator().manual_seed(100 + rank)
for step in range(1000):
    x, y = torch.randn(8, 4, generator=data), torch.randn(8, 1, generator=data)
    loss = (model(x) - y).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


@pytest.fixture
def live(tmp_path):
    """A started 2-rank session of the DDP script, paused at its first pause point on both ranks."""
    script = write_script(tmp_path, DDP, "ddp.py")
    s = DistributedSession(script, [], 2, record=str(tmp_path / "live.bps"))
    s.start()
    try:
        first = wait_paused(s, START)
        yield s, first
    finally:
        s.close()


def pauses(events) -> dict[int, tuple[str, int]]:
    """rank -> (point, iteration) of its last `paused` event."""
    return {e.data["rank"]: (e.data["point"], e.data["index"]) for e in events if e.kind == "paused"}


def iterations(events) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for e in events:
        if e.kind == "iteration":
            out.setdefault(e.data["rank"], []).append(e.data["index"])
    return out


def gone(pid: int) -> bool:
    """The process has ended (reaped, or a zombie waiting for its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_step_iteration_across_ranks_twice_then_stop(live):
    s, first = live
    assert pauses(first) == {0: ("forward_op", 0), 1: ("forward_op", 0)}
    console = {e.data["rank"]: e.data["text"] for e in first if e.kind == "stdout"}
    assert console == {r: f"timeout {COLLECTIVE_TIMEOUT}\n" for r in (0, 1)}  # raised in every worker
    seen = []
    for step in (0, 1):
        s.send("step_iteration")
        events = wait_paused(s, STEP)
        seen += events
        assert pauses(events) == {0: ("backward_end", step), 1: ("backward_end", step)}
    assert iterations(seen) == {0: [0, 1], 1: [0, 1]}  # neither rank ran ahead
    losses = {e.data["rank"]: e.data["loss"] for e in seen if e.kind == "iteration" and e.data["index"] == 1}
    assert losses[0] != losses[1]  # two ranks with their own data, really
    agreement = Agreement(2)
    for e in seen:
        if e.kind == "params_changed":
            agreement.add(e.data["rank"], e.data["index"], e.data["by"], e.data["params"])
    assert agreement.compared == 4 and agreement.diverged is None  # iteration 0's step, 4 parameters

    pids = [s.proc.pid, *(ch.pid for ch in s.ranks.values())]
    finished = s.stop(timeout=STOP)
    assert all(gone(pid) for pid in pids)
    assert finished.data["rank"] is None and finished.data["status"] == "stopped"
    assert finished.data["ranks"] == {"0": "stopped", "1": "stopped"}
    assert finished.data["merged"] is None  # the ranks' files were merged into one recording
    for r in (0, 1):
        rec = Recording(s.record_path, rank=r)
        try:
            assert rec.ranks == [0, 1] and rec.indices() == [0, 1] and rec.meta["status"] == "stopped"
            assert [row["loss"] for row in rec.scalars()][1] == losses[r]
        finally:
            rec.close()


def test_finer_steps_move_the_focus_rank_while_the_other_waits(live):
    s, _ = live
    seen = []
    for _ in (0, 1):  # DDP syncs its buckets in the forward after the first backward: past that
        s.send("step_iteration")
        seen += wait_paused(s, STEP)
    nodes = backward_nodes(seen, 1)
    s.focus = 1
    for point in ("optimizer_pre", "optimizer_post", "backward_begin"):
        s.send("step_phase")
        events = wait_paused(s, STEP)
        assert pauses(events) == {1: (point, 1 if point.startswith("optimizer") else 2)}  # rank 0 stays
    # backward node by node on rank 1: its gradient all-reduce waits for rank 0, so the last step
    # cannot end before rank 0 runs its backward too
    step_nodes_into_the_all_reduce(s, nodes)
    late = s.events()
    assert not [e for e in late if e.kind in ("paused", "iteration")]  # rank 1 waits in the collective
    assert s.ranks[0].last_pause == ("backward_end", 1)
    s.send("step_iteration")  # everyone: rank 0 joins the all-reduce and both end iteration 2
    events = late + wait_paused(s, STEP)
    assert pauses(events) == {0: ("backward_end", 2), 1: ("backward_end", 2)}
    assert iterations(events) == {0: [2], 1: [2]}
    for point in ("optimizer_pre", "optimizer_post", "backward_begin"):
        s.send("step_phase")
        assert pauses(wait_paused(s, STEP)) == {1: (point, 2 if point.startswith("optimizer") else 3)}
    step_nodes_into_the_all_reduce(s, nodes)  # rank 1 waits in its all-reduce again (in C code): Stop ends it
    pids = [s.proc.pid, *(ch.pid for ch in s.ranks.values())]
    finished = s.stop(timeout=STOP)
    assert all(gone(pid) for pid in pids)
    assert finished.data["ranks"] == {"0": "stopped", "1": "stopped"}
    rec = Recording(s.record_path, rank=1)
    try:
        assert rec.indices() == [0, 1, 2]  # rank 1's file was finished by its command thread
    finally:
        rec.close()


def backward_nodes(events, rank: int) -> int:
    """Nodes in `rank`'s last backward graph among `events`."""
    done = [e for e in events if e.kind == "backward_done" and e.data["rank"] == rank]
    return len(done[-1].data["iteration"]["graph"]["nodes"])


def step_nodes_into_the_all_reduce(s: DistributedSession, nodes: int) -> None:
    """From backward_begin, step the focus rank's backward node by node: each of its `nodes` nodes pauses
    there, and the step after the last does not end (DDP waits for the gradients' all-reduce at the end
    of the backward, and the other rank has not run its backward)."""
    for _ in range(nodes):
        s.send("step_node")
        events = wait_paused(s, STEP)
        assert {rank: point for rank, (point, _) in pauses(events).items()} == {s.focus: "backward_node"}
    s.send("step_node")
    with pytest.raises(TimeoutError):
        wait_paused(s, 3)  # a step that ends pauses within milliseconds


def test_a_rank_that_fails_ends_the_job_with_its_error(tmp_path):
    script = write_script(tmp_path, """
        import os, torch
        w = torch.ones(2, requires_grad=True)
        for i in range(3):
            (w * i).sum().backward()
        if os.environ["RANK"] == "1":
            raise ValueError("rank 1 fails")  # FAIL LINE
    """)
    line = 1 + [n for n, text in enumerate(open(script).read().splitlines()) if "FAIL LINE" in text][0]
    s = DistributedSession(script, [], 2, paused=False, record=str(tmp_path / "fail.bps"))
    s.start()
    try:
        finished = wait_finished(s, START)
    finally:
        s.close()
    assert finished.data["status"] == "failed" and finished.data["ranks"]["1"] == "failed"
    error = finished.data["error"]
    assert error["rank"] == 1 and error["type"] == "ValueError" and error["line"] == line
    assert os.path.isfile(s.record_path)
    rec = Recording(s.record_path, rank=1)
    try:
        assert rec.indices() == [0, 1, 2] and rec.meta["error"]["line"] == line
    finally:
        rec.close()


def test_agreement_compares_each_step_once_every_rank_sent_it():
    def rows(*norms):
        return [{"name": n, "update_norm": u, "param_norm": p} for n, u, p in norms]

    a = Agreement(2)
    a.add(0, 0, "optimizer", rows(("w", 1.0, 2.0), ("b", 0.5, 1.0)))
    assert a.compared == 0  # rank 1 has not sent iteration 0 yet
    a.add(1, 0, "optimizer", rows(("b", 0.5, 1.0), ("w", 1.0, 2.0)))
    assert a.compared == 2 and a.diverged is None
    a.add(0, 1, "optimizer", rows(("w", 1.0, 2.0)))  # rank 1 did not sample iteration 1's step
    a.add(1, 2, "optimizer", rows(("w", 1.1, 2.1)))
    a.add(0, 2, "optimizer", rows(("w", 1.0, 2.1)))
    assert a.compared == 3 and not a._waiting  # iteration 1, skipped, is no longer waited for
    assert a.diverged == {"iteration": 2, "parameter": "w", "update_norms": {1: 1.1, 0: 1.0},
                          "param_norms": {1: 2.1, 0: 2.1}}
    a.add(0, 3, "optimizer", rows(("w", 9.0, 9.0)))
    a.add(1, 3, "optimizer", rows(("w", 8.0, 9.0)))
    assert a.diverged["iteration"] == 2  # the first divergence stays
