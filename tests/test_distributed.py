"""Distributed jobs (torchrun, gloo on CPU, 2 ranks): `record --nproc-per-node`, `export --rank`, `merge`,
ranks-diverge. Every command runs under a timeout, so a hung job fails the test instead of the suite."""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys

import pytest

from backprop_studio.core.doctor.ranks import divergence
from backprop_studio.core.recording.store import Recording
from tests.util import MAIN, cli, cli_here, record_here, write_script

pytestmark = pytest.mark.e2e

TIMEOUT = 180  # seconds for one job (two torch workers on 2 cores take ~5-10 s)

# 5 optimizer steps of a tiny DDP model; each rank draws its own batches and writes its losses (exact
# floats, JSON keeps them bit for bit) and its default collective timeout into the folder argv[1]
DDP = """
import json, os, sys
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1)))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = torch.Generator().manual_seed(100 + rank)
losses = []
for step in range(5):
    x, y = torch.randn(8, 4, generator=data), torch.randn(8, 1, generator=data)
    out = model.module(x) if "--bypass" in sys.argv else model(x)
    loss = (out - y).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    if "--lr-drift" in sys.argv and rank == 1 and step == 3:
        opt.param_groups[0]["lr"] = 0.2  # a rank-dependent learning rate, from step 3 on
    opt.step()
    losses.append(loss.item())
    if "--fail" in sys.argv and rank == 1 and step == 3:
        raise ValueError("bad batch on rank 1")  # FAIL LINE
timeout = dist.distributed_c10d._get_default_timeout(dist.Backend.GLOO).total_seconds()
with open(os.path.join(sys.argv[1], f"rank{rank}.json"), "w") as f:
    json.dump({"losses": losses, "timeout": timeout}, f)
dist.barrier()  # both ranks done with their collectives before teardown (gloo aborted once in destroy without it)
dist.destroy_process_group()
"""


def torchrun(*args: str, cwd: str) -> subprocess.CompletedProcess:
    """The script under plain torchrun, without us."""
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)


def exported(bps: str, rank: int | None = None) -> dict:
    """`export --rank`, through main() in this process."""
    out = bps + f".{rank}.json"
    proc = cli_here("export", bps, *(["--rank", str(rank)] if rank is not None else []), "-o", out)
    assert proc.returncode == 0, proc.stderr
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def losses(data: dict) -> list[float]:
    return [it["loss"] for it in data["iterations"]]


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The DDP script run plainly (the oracle) and recorded: (folder, script, oracle by rank, recording)."""
    tmp = tmp_path_factory.mktemp("ddp")
    script = write_script(tmp, DDP, "ddp.py")
    (tmp / "plain").mkdir()
    (tmp / "traced").mkdir()
    plain = torchrun("--nproc-per-node=2", script, str(tmp / "plain"), cwd=str(tmp))
    assert plain.returncode == 0, plain.stderr
    oracle = {r: json.loads((tmp / "plain" / f"rank{r}.json").read_text()) for r in (0, 1)}
    bps = str(tmp / "run.bps")
    rec = cli("record", "--nproc-per-node", "2", "-o", bps, script, str(tmp / "traced"), cwd=str(tmp),
              timeout=TIMEOUT)
    assert rec.returncode == 0, rec.stderr
    return tmp, script, oracle, bps


def test_every_rank_recorded_with_plain_torchrun_losses(job):
    tmp, _, oracle, bps = job
    assert not os.path.exists(bps + ".ranks")  # the ranks' own files were merged, then removed
    default = exported(bps)
    one = exported(bps, 1)
    assert default["rank"] == 0 and one["rank"] == 1
    for data in (default, one):
        assert data["world_size"] == 2 and data["ranks"] == [0, 1] and data["status"] == "finished"
        assert not [f for f in data["findings"] if f["code"] == "ranks-diverge"]  # correct DDP: in sync
    for r, data in ((0, default), (1, one)):
        assert losses(data) == oracle[r]["losses"]  # bit for bit, rank by rank
        assert [it["optimizer_steps"] for it in data["iterations"]] == [0, 1, 2, 3, 4]
        params = {n["name"] for n in data["iterations"][0]["graph"]["nodes"] if n["kind"] == "param"}
        assert params == {"module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"}
    assert oracle[0]["losses"] != oracle[1]["losses"]  # the ranks really are told apart
    traced = json.loads((tmp / "traced" / "rank1.json").read_text())
    assert traced == oracle[1]  # the script's own view of its run is unchanged too (default timeout)
    assert cli_here("export", bps, "--rank", "2", "-o", str(tmp / "x.json")).returncode == 1


def test_model_module_call_diverges_at_iteration_0(job):
    tmp, script, oracle, _ = job
    (tmp / "bypass").mkdir()
    bps = str(tmp / "bypass.bps")
    proc = cli("record", "--nproc-per-node", "2", "--collective-timeout", "7200", "-o", bps, script,
               str(tmp / "bypass"), "--bypass", cwd=str(tmp), timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    (finding,) = [f for f in exported(bps)["findings"] if f["code"] == "ranks-diverge"]
    assert finding["iteration"] == 0 and finding["subject"] == "module.0.weight"
    assert finding["update_norms"]["0"] != finding["update_norms"]["1"]
    rec = Recording(bps)
    try:
        assert divergence(rec)["iteration"] == 0
    finally:
        rec.close()
    assert json.loads((tmp / "bypass" / "rank0.json").read_text())["timeout"] == 7200  # raised in the worker
    assert oracle[0]["timeout"] == 1800  # torch's own default for gloo


def test_every_step_compared_and_a_rank_dependent_learning_rate_diverges_where_it_starts(job):
    """Ranks compare every optimizer step (a rank's steps are not sampled), so a divergence that starts at
    step 3 is found at 3, not at some later sampled step."""
    tmp, script, _, bps = job
    for r in (0, 1):
        rec = Recording(bps, r)
        try:
            assert [i for i, _ in rec.param_updates()["module.0.weight"]] == [0, 1, 2, 3, 4]
        finally:
            rec.close()
    (tmp / "drift").mkdir()
    drift = str(tmp / "drift.bps")
    proc = cli("record", "--nproc-per-node", "2", "-o", drift, script, str(tmp / "drift"), "--lr-drift",
               cwd=str(tmp), timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    (finding,) = [f for f in exported(drift)["findings"] if f["code"] == "ranks-diverge"]
    assert finding["iteration"] == 3


def test_failing_rank_reported_others_kept(job):
    tmp, script, oracle, _ = job
    (tmp / "fail").mkdir()
    bps = str(tmp / "fail.bps")
    line = 1 + DDP.splitlines().index('        raise ValueError("bad batch on rank 1")  # FAIL LINE')
    proc = cli("record", "--nproc-per-node", "2", "-o", bps, script, str(tmp / "fail"), "--fail",
               cwd=str(tmp), timeout=TIMEOUT)
    assert proc.returncode == 1
    assert "the job failed first on rank 1" in proc.stderr
    assert f"rank 1: failed: ValueError: bad batch on rank 1 ({script}:{line})" in proc.stderr
    one = exported(bps, 1)
    assert one["status"] == "failed" and one["error"]["line"] == line and one["error"]["file"] == script
    assert losses(one) == oracle[1]["losses"][:4]
    zero = exported(bps, 0)  # rank 0 lost its peer: failed or stopped, but its iterations are there
    assert zero["status"] in ("failed", "stopped")
    assert 4 <= len(zero["iterations"]) and losses(zero) == oracle[0]["losses"][:len(zero["iterations"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_on_loopback_then_merge(job):
    tmp, script, oracle, single = job
    endpoint = f"127.0.0.1:{free_port()}"
    (tmp / "nodes").mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    procs = [subprocess.Popen([sys.executable, MAIN, "record", "--nproc-per-node", "1", "--nnodes", "2",
                               "--node-rank", str(k), "--rdzv-endpoint", endpoint, "--rdzv-id", "job-a",
                               "-o", str(tmp / f"node{k}.bps"), script, str(tmp / "nodes")],
                              cwd=str(tmp), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in (0, 1)]
    try:
        results = [p.communicate(timeout=TIMEOUT) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], results
    node1 = exported(str(tmp / "node1.bps"))
    assert node1["ranks"] == [1] and node1["rank"] == 1 and node1["world_size"] == 2
    merged = str(tmp / "all.bps")
    proc = cli_here("merge", str(tmp / "node0.bps"), str(tmp / "node1.bps"), "-o", merged)
    assert proc.returncode == 0, proc.stderr
    for r in (0, 1):
        data = exported(merged, r)
        assert data["ranks"] == [0, 1] and data["status"] == "finished"
        assert losses(data) == oracle[r]["losses"]  # one rank per node: the same job as 2 ranks on one
    assert not [f for f in exported(merged)["findings"] if f["code"] == "ranks-diverge"]
    other = cli_here("merge", str(tmp / "node0.bps"), single, "-o", str(tmp / "bad.bps"))
    assert other.returncode == 1 and "different jobs" in other.stderr and "'job-a'" in other.stderr
    assert not os.path.exists(tmp / "bad.bps")
    twice = cli_here("merge", str(tmp / "node1.bps"), str(tmp / "node1.bps"), "-o", str(tmp / "bad.bps"))
    assert twice.returncode == 1 and "rank 1 is in both" in twice.stderr


# the per-rank tables as recordings before distributed jobs wrote them (no rank column)
OLD_TABLES = {
    "iterations": "idx INTEGER PRIMARY KEY, loss REAL, optimizer_steps INTEGER NOT NULL, signature TEXT NOT NULL, "
                  "graph_key TEXT NOT NULL, detail TEXT NOT NULL, phase_times TEXT NOT NULL, wall REAL NOT NULL, "
                  "loss_is_nan INTEGER NOT NULL DEFAULT 0, grad_scale REAL",
    "node_stats": "idx INTEGER PRIMARY KEY, data BLOB NOT NULL",
    "param_stats": "idx INTEGER NOT NULL, name TEXT NOT NULL, grad_norm REAL, nan INTEGER, inf INTEGER, "
                   "accumulated_norm REAL, PRIMARY KEY (idx, name)",
    "console": "seq INTEGER PRIMARY KEY, idx INTEGER NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL",
    "param_updates": "idx INTEGER NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, update_norm REAL, "
                     "param_norm REAL, update_ratio REAL, PRIMARY KEY (idx, name, source)",
}


def test_single_process_recording_of_the_old_format_still_reads(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1)
        for i in range(3):
            opt.zero_grad()
            loss = (w * (i + 1)).pow(2).sum()
            loss.backward()
            opt.step()
            print("step", i)
    """)
    bps = str(tmp_path / "new.bps")
    assert record_here(script, bps, detail="auto").returncode == 0
    new = exported(bps)
    db = sqlite3.connect(bps)
    for table, columns in OLD_TABLES.items():  # rewrite the file as the old format
        db.execute(f"ALTER TABLE {table} RENAME TO new_{table}")
        db.execute(f"CREATE TABLE {table} ({columns})")
        names = ", ".join(r[1] for r in db.execute(f"PRAGMA table_info({table})"))
        db.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM new_{table}")
        db.execute(f"DROP TABLE new_{table}")
    db.execute("DROP TABLE ranks")
    db.execute("DELETE FROM meta WHERE key='rank'")
    db.commit()
    db.close()
    old = exported(bps)
    assert old["ranks"] == [0] and old["world_size"] == 1 and old["rank"] == 0
    assert old["iterations"] == new["iterations"] and old["console"] == new["console"]
    assert len(old["iterations"]) == 3


def test_rank_torn_down_by_torchrun_finishes_its_recording(tmp_path):
    """Rank 1 fails while rank 0 trains in Python: torchrun sends rank 0 SIGTERM, and rank 0's recording
    is finished as stopped with every iteration it completed."""
    script = write_script(tmp_path, """
        import os, time, torch
        w = torch.ones(3, requires_grad=True)
        if os.environ["RANK"] == "1":
            while not os.path.exists("rank0-trains"):  # rank 0 is under way (however slowly it started)
                time.sleep(0.01)
            raise RuntimeError("rank 1 gives up")
        for i in range(100000):
            (w * i).sum().backward()
            print("iteration", i, flush=True)
            if i == 2:
                open("rank0-trains", "w").close()
            time.sleep(0.01)
    """)
    bps = str(tmp_path / "run.bps")
    proc = cli("record", "--nproc-per-node", "2", "-o", bps, script, cwd=str(tmp_path), timeout=TIMEOUT)
    assert proc.returncode == 1 and "the job failed first on rank 1" in proc.stderr
    zero = exported(bps, 0)
    assert zero["status"] == "stopped" and zero["error"] is None
    # the prints that finished (SIGTERM may cut the last one short: print writes "iteration", " ", "5", "\n")
    done = [int(m[1]) for line in zero["console"].splitlines() if (m := re.fullmatch(r"iteration (\d+)", line))]
    kept = [it["index"] for it in zero["iterations"]]
    # every iteration it completed, in order; the last one's print may not have run yet (SIGTERM between
    # its backward, which records it, and the print after it)
    assert done and kept == list(range(len(kept))) and len(kept) - 1 in (done[-1], done[-1] + 1)


def test_a_rank_killed_before_it_wrote_when_it_stopped_is_not_the_first_failure():
    """torchrun ends the other ranks when one fails: a rank killed before it could write when it stopped
    (its file read as failed, no end time) is the victim, not the first failure."""
    from backprop_studio.core.distributed.merge import status_of_job

    cause = {"status": "failed", "ended": 1000.0, "error": {"type": "ValueError"}}
    killed = {"status": "failed", "ended": None, "finished": None, "error": {"type": "RecordingEndedAbruptly"}}
    assert status_of_job({0: killed, 1: cause}) == ("failed", {"type": "ValueError", "rank": 1})
    later = {"status": "failed", "ended": 1001.0, "error": {"type": "RuntimeError"}}
    assert status_of_job({0: later, 1: cause})[1]["rank"] == 1
    assert status_of_job({0: killed})[1]["rank"] == 0  # the only failure is still reported
