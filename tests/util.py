"""Test helpers: run the CLI in a subprocess, trace in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(ROOT, "main.py")
LESSONS = os.path.join(ROOT, "resources", "lessons")


def cli(*args: str, cwd: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, MAIN, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


ENDLESS = """
    import time, torch
    w = torch.ones(3, requires_grad=True)
    i = 0
    while True:
        (w * i).sum().backward()
        i += 1
        print("iteration", i, flush=True)
        time.sleep(0.05)
"""  # a training loop that runs until it is killed


def write_script(tmp_path, body: str, name: str = "script.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return str(path)


def record(tmp_path, script: str, *args: str, options: tuple = ("--detail", "full"), expect: int | None = 0):
    """Record `script` through the CLI and return (completed process, exported JSON)."""
    bps = str(tmp_path / "run.bps")
    proc = cli("record", *options, "-o", bps, script, *args, cwd=str(tmp_path))
    if expect is not None:
        assert proc.returncode == expect, proc.stderr
    out = str(tmp_path / "run.json")
    exp = cli("export", bps, "--format", "json", "-o", out)
    assert exp.returncode == 0, exp.stderr
    with open(out, encoding="utf-8") as f:
        return proc, json.load(f)


def nodes(iteration: dict, **match) -> list[dict]:
    return [n for n in iteration["graph"]["nodes"] if all(n.get(k) == v for k, v in match.items())]


def trace(fn, detail: str = "full"):
    """Run `fn()` under an in-process Tracer; return the Iterations."""
    from backprop_studio.core.trace.tracer import Tracer

    its = []
    tracer = Tracer(its.append, detail=detail)
    tracer.install()
    try:
        fn()
    finally:
        tracer.uninstall()
    return its


def spend_budget(monkeypatch) -> None:
    """Auto detail whose budget is spent after its first iteration: every later one is light
    (structures already seen, finite losses)."""
    from backprop_studio.core.trace import tracer as tracer_mod

    monkeypatch.setattr(tracer_mod.Budget, "next_detail", lambda self: "full" if self.full_cost is None else "light")


def loss_only_recording(path: str, losses_graphs: int = 2, loss_only: int = 2) -> list[float]:
    """A recording as versions before every-iteration graphs wrote it: `losses_graphs` traced
    iterations of a small net, then `loss_only` iterations that kept only their loss. Returns the losses."""
    import networkx as nx
    import torch
    from torch import nn

    from backprop_studio.core.iteration import Iteration
    from backprop_studio.core.recording.store import RecordingWriter
    from backprop_studio.core.trace.tracer import Tracer

    writer = RecordingWriter(path, {"script": "auto.py", "argv": [], "detail": "auto"})
    torch.manual_seed(0)
    net, x = nn.Linear(3, 1), torch.randn(5, 3)
    losses = []
    tracer = Tracer(writer.add_iteration, detail="light")
    tracer.install()
    try:
        for _ in range(losses_graphs):
            loss = net(x).pow(2).mean()
            loss.backward()
            losses.append(loss.item())
    finally:
        tracer.uninstall()
    for i in range(losses_graphs, losses_graphs + loss_only):
        with torch.no_grad():
            losses.append(net(x).pow(2).mean().item())
        writer.add_iteration(Iteration(i, losses[-1], 0, "", nx.DiGraph(), detail="loss"))
    writer.close("finished")
    return losses
