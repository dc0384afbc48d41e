"""Test helpers: run the CLI in a subprocess; record, export and run scripts in this process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import runpy
import subprocess
import sys
import textwrap
import warnings

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
    """Record `script` through the CLI and return (completed process, exported JSON); the export runs in
    this process (test_record_cli.py runs `export` itself)."""
    bps = str(tmp_path / "run.bps")
    proc = cli("record", *options, "-o", bps, script, *args, cwd=str(tmp_path))
    if expect is not None:
        assert proc.returncode == expect, proc.stderr
    return proc, export_json(bps)


# A fresh interpreter's warning filters (python -W and PYTHONWARNINGS aside)
FRESH_FILTERS = [("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
                 ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None),
                 ("ignore", ResourceWarning, None)]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _top_level(name: str) -> str:
    return name.partition(".")[0]


def _local_names(folder: str) -> set[str]:
    """The top-level module names a script in `folder` imports from there."""
    return {os.path.splitext(entry)[0] for entry in os.listdir(folder)
            if entry.endswith(".py") or os.path.isdir(os.path.join(folder, entry))}


def _inside(module, folder: str) -> bool:
    return (getattr(module, "__file__", None) or "").startswith(folder + os.sep)


@contextlib.contextmanager
def script_state(script: str, cwd: str | None = None):
    """Run a script in this process as if in its own: its warnings go to stderr as a fresh interpreter's
    would (not to pytest); cwd, argv, sys.path, environment, random states, grad mode, signal handlers,
    torch.compile's caches and the script's own modules are put back afterwards."""
    import signal

    import numpy as np
    import torch

    saved = (os.getcwd(), sys.argv[:], sys.path[:], dict(os.environ), random.getstate(), np.random.get_state(),
             torch.get_rng_state(), torch.is_grad_enabled(), torch.get_default_dtype(), set(sys.modules),
             {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)})
    folder = os.path.dirname(os.path.abspath(script))
    shadowed = {name: sys.modules.pop(name) for name in list(sys.modules)
                if _top_level(name) in _local_names(folder) and not _inside(sys.modules[name], folder)}
    if cwd:
        os.chdir(cwd)
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in reversed(FRESH_FILTERS):
                warnings.filterwarnings(action, category=category, module=module or "")
            warnings.showwarning = _show_warning
            yield
    finally:
        os.chdir(saved[0])
        sys.argv[:], sys.path[:] = saved[1], saved[2]
        os.environ.clear()
        os.environ.update(saved[3])
        random.setstate(saved[4])
        np.random.set_state(saved[5])
        torch.set_rng_state(saved[6])
        torch.set_grad_enabled(saved[7])
        torch.set_default_dtype(saved[8])
        for name in set(sys.modules) - saved[9]:  # the script's helpers (a `helper`, a `core` of its own)
            if _inside(sys.modules[name], folder):
                del sys.modules[name]
        sys.modules.update(shadowed)  # a fresh interpreter finds the script's folder first (a `main` of its own)
        for sig, handler in saved[10].items():
            signal.signal(sig, handler)
        if "torch._dynamo" in sys.modules:
            torch._dynamo.reset()


def run_plain(script: str, *args: str, cwd: str | None = None, stderr: io.StringIO | None = None) -> tuple[dict, str]:
    """`python script args` without the tracer, in this process: (its globals, what it printed); what it
    wrote on stderr goes to `stderr` when given."""
    out = io.StringIO()
    with script_state(script, cwd), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(stderr if stderr is not None else sys.stderr):
        sys.argv = [os.path.abspath(script), *args]
        sys.path[0:1] = [os.path.dirname(os.path.abspath(script))]
        os.environ.setdefault("MPLBACKEND", "Agg")
        g = runpy.run_path(script, run_name="__main__")
    return g, out.getvalue()


def record_here(script: str, out: str, *args: str, detail: str = "full", break_on: tuple = (),
                cwd: str | None = None) -> subprocess.CompletedProcess:
    """What `record -o out script args` does in its child, run in this process (no interpreter to start):
    the exit code, and what the script printed on stdout and stderr."""
    from backprop_studio.core.session import runner

    stdout, stderr = io.StringIO(), io.StringIO()
    with script_state(script, cwd), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = runner.record(script, list(args), out, detail, break_on=list(break_on))
    return subprocess.CompletedProcess(["record", script, *args], int(code), stdout.getvalue(), stderr.getvalue())


def cli_here(*args: str) -> subprocess.CompletedProcess:
    """`main.py args` for the commands that run in the parent alone (export, doctor, merge, lessons), in this
    process: the same parsing, output and exit code, without an interpreter to start."""
    from backprop_studio.main import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse
            code = e.code
    return subprocess.CompletedProcess(["main.py", *args], int(code or 0), stdout.getvalue(), stderr.getvalue())


def export_json(bps: str) -> dict:
    """What `export bps --format json` writes, read back."""
    from backprop_studio.core.recording.store import Recording
    from backprop_studio.core.render.export import to_json

    rec = Recording(bps)
    try:
        return json.loads(json.dumps(to_json(rec), ensure_ascii=False))
    finally:
        rec.close()


def record_fast(tmp_path, script: str, *args: str, detail: str = "full", break_on: tuple = (),
                expect: int | None = 0):
    """`record` then `export --format json` in this process: (completed run, exported JSON)."""
    bps = str(tmp_path / "run.bps")
    proc = record_here(script, bps, *args, detail=detail, break_on=break_on, cwd=str(tmp_path))
    if expect is not None:
        assert proc.returncode == expect, proc.stderr
    return proc, export_json(bps)


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


class Recordings:
    """Scripts recorded once per test session (the `recorded` fixture): tests that read the same script at the
    same detail share one recording, and must not change it. With pytest-xdist the workers share `folder`:
    the first to need a script records it (in its process) while the others wait on its lock."""

    def __init__(self, folder: str):
        self.folder = folder
        self.runs: dict = {}
        self.exports: dict = {}

    def run(self, script: str, *args: str, detail: str = "auto") -> tuple[subprocess.CompletedProcess, str]:
        """(the completed run, the recording's path)."""
        key = (os.path.abspath(script), args, detail)
        if key not in self.runs:
            self.runs[key] = self._shared(key)
        return self.runs[key]

    def _shared(self, key) -> tuple[subprocess.CompletedProcess, str]:
        import fcntl
        import hashlib

        folder = os.path.join(self.folder, hashlib.sha1(repr(key).encode()).hexdigest()[:16])
        os.makedirs(folder, exist_ok=True)
        bps, done = os.path.join(folder, "run.bps"), os.path.join(folder, "run.json")
        with open(os.path.join(folder, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(done):
                proc = record_here(key[0], bps, *key[1], detail=key[2], cwd=folder)
                with open(done + ".part", "w", encoding="utf-8") as f:
                    json.dump([proc.args, proc.returncode, proc.stdout, proc.stderr], f)
                os.replace(done + ".part", done)
            with open(done, encoding="utf-8") as f:
                return subprocess.CompletedProcess(*json.load(f)), bps

    def data(self, script: str, *args: str, detail: str = "auto") -> dict:
        """The recording exported as JSON (`export --format json`)."""
        _, bps = self.run(script, *args, detail=detail)
        if bps not in self.exports:
            self.exports[bps] = export_json(bps)
        return self.exports[bps]


class PlainRuns:
    """Scripts run as plain Python once per test session, in this process (the `plain_run` fixture):
    (globals, stdout), shared; tests read them and must not change them."""

    def __init__(self):
        self.runs: dict = {}

    def __call__(self, script: str, *args: str) -> tuple[dict, str]:
        key = (os.path.abspath(script), args)
        if key not in self.runs:
            self.runs[key] = run_plain(script, *args)
        return self.runs[key]
