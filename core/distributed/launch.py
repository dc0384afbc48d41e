"""Distributed jobs: torchrun runs our runner as every worker's entry point; each rank records its own
file, and the files of one node are merged into one recording when the job ends.

    python -m torch.distributed.run --standalone --nproc-per-node N \\
        --no-python python -c BOOT --record PARTS/ --distributed ... -- SCRIPT.py ARGS

We launch nothing ourselves: torch's launcher, its rendezvous and its teardown (one rank fails, the
agent sends the others SIGTERM) do all of it. A worker turns SIGTERM into a stop, so its file is
finished with every iteration; a worker killed outright keeps its committed ones (the file's lock says
it died, see core/recording/store.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile

from ..boot import python_command
from ..iteration import DEFAULT_DETAIL
from ..recording.store import Recording, RecordingError
from ..session.launch import RUNNER, ExitCode, child_env, runner_options
from ..session.rank import rank_files
from .merge import MergeError, merge, status_of_job


def torchrun_command(python: str, runner_options: list[str], script: str, args: list[str], nproc: int,
                     nnodes: int = 1, node_rank: int = 0, endpoint: str | None = None,
                     rdzv_id: str | None = None, launcher: list[str] = ()) -> list[str]:
    """torch.distributed.run with our runner as each worker's module. One node: `--standalone` (a fresh
    job id). Several: torch's static rendezvous at `endpoint` (node 0's HOST:PORT), so `--node-rank`
    fixes which global ranks each node runs. `launcher`: more of torchrun's own options."""
    launch = [python, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}", *launcher]
    if nnodes == 1 and endpoint is None:
        launch.append("--standalone")
    else:
        launch += [f"--nnodes={nnodes}", f"--node-rank={node_rank}", "--rdzv-backend=static",
                   f"--rdzv-endpoint={endpoint}", f"--rdzv-id={rdzv_id}"]
    # --no-python: each worker runs `python -c BOOT` (core/boot.py), our runner from this very folder
    return [*launch, "--no-python", *python_command(python, RUNNER, [*runner_options, "--distributed", "--", script, *args])]


def record_distributed(script: str, args: list[str], out: str, nproc: int, nnodes: int = 1, node_rank: int = 0,
                       endpoint: str | None = None, rdzv_id: str | None = None, detail: str = DEFAULT_DETAIL,
                       overhead: float = 0.10, break_on: list[str] | None = None,
                       collective_timeout: float | None = None, python: str | None = None) -> int:
    """Record this node's ranks of a torchrun job into `out`: 0 all finished, 1 any failed, 3 a breakpoint."""
    out = os.path.abspath(out)
    parts = out + ".ranks"
    shutil.rmtree(parts, ignore_errors=True)
    options = runner_options(parts, detail, overhead, break_on or [])
    if collective_timeout:
        options += ["--collective-timeout", str(collective_timeout)]
    with tempfile.TemporaryDirectory(prefix="backprop-studio-") as logs:  # torchrun's, else a torchelastic_* stays
        cmd = torchrun_command(python or sys.executable, options, os.path.abspath(script), args, nproc, nnodes,
                               node_rank, endpoint, rdzv_id, launcher=[f"--log-dir={logs}"])
        proc = subprocess.Popen(cmd, env=child_env())
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)  # the agent passes it on to its workers
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
    files = rank_files(parts)
    if not files:
        print(f"backprop-studio: torchrun exited with code {code} before any rank started recording",
              file=sys.stderr)
        return ExitCode.FAILED
    try:
        merge(files, out)
    except (MergeError, RecordingError) as e:
        print(f"backprop-studio: {e}; the ranks' own files are kept in {parts}", file=sys.stderr)
        return ExitCode.FAILED
    shutil.rmtree(parts, ignore_errors=True)
    return summary(out, code)


def summary(path: str, launcher_code: int) -> int:
    """One line per rank on stderr (the failing rank's error with its file and line); the exit code."""
    rec = Recording(path)
    try:
        status, error = status_of_job(rec.rank_meta)
        for rank in rec.ranks:
            m = rec.rank_meta[rank]
            line = f"backprop-studio: rank {rank}: {m.get('status')}"
            if m.get("error"):
                e = m["error"]
                where = f"{e['file']}:{e['line']}" if e.get("line") else e.get("file") or "?"
                line += f": {e['type']}: {e['message']} ({where})"
            print(line, file=sys.stderr)
        if error is not None:
            print(f"backprop-studio: the job failed first on rank {error['rank']}", file=sys.stderr)
    finally:
        rec.close()
    if status == "failed" or (status == "finished" and launcher_code != ExitCode.OK):
        return ExitCode.FAILED
    if any(m.get("break") for m in rec.rank_meta.values()):
        return ExitCode.BREAK
    return ExitCode.OK if status == "finished" else ExitCode.FAILED
