"""In a torchrun worker (the traced child of a distributed job): this rank's file, whereabouts and signals."""

from __future__ import annotations

import os
import signal
import socket


def worker(parts: str) -> tuple[str, dict]:
    """In a torchrun worker: this rank's recording path in the folder `parts`, and its whereabouts.
    KeyError when the environment is not torchrun's."""
    env = os.environ
    info = {"rank": int(env["RANK"]), "world_size": int(env["WORLD_SIZE"]),
            "local_rank": int(env.get("LOCAL_RANK", 0)), "node_rank": int(env.get("GROUP_RANK", 0)),
            "job": env.get("TORCHELASTIC_RUN_ID") or "none", "host": socket.gethostname()}
    os.makedirs(parts, exist_ok=True)
    return part_path(parts, info["rank"]), info


def part_path(parts: str, rank: int) -> str:
    return os.path.join(parts, f"rank{rank}.bps")


def rank_files(parts: str) -> list[str]:
    """The ranks' recordings in the folder `parts` (not SQLite's files beside a killed writer's)."""
    return sorted(os.path.join(parts, f) for f in os.listdir(parts) if f.endswith(".bps")) \
        if os.path.isdir(parts) else []


def stop_on_sigterm() -> None:
    """torchrun tears a job down with SIGTERM: stop the script like Ctrl-C, so the recording is finished."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
