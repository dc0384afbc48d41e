"""Notebooks: `backprop_studio.trace()` and `%%trace` in a real Jupyter kernel (nbclient), the widget's
state as the kernel sent it, interrupt and exception, hooks gone after, and the lesson notebook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from backprop_studio.core.recording.store import Recording, RecordingError
from tests.notebook_kernel import Kernel, errors, run_notebook, text, widget_ids
from tests.util import ROOT, cli

SETUP = '''
import json, time, torch, backprop_studio
from torch.nn.modules import module as modules
from torch.optim import optimizer as optimizers

ORIGINAL = {(o, n): getattr(o, n) for o, n in [
    (torch.Tensor, "backward"), (torch.autograd, "backward"), (torch.autograd, "grad"), (torch, "compile"),
    (torch.nn.Module, "__call__"), (torch.amp.GradScaler, "scale"), (torch.optim.Optimizer, "add_param_group")]}

def hooks_left():
    """What tracing could leave behind: replaced functions, global hooks, a TorchFunctionMode."""
    left = [f"{getattr(o, '__name__', o)}.{n}" for (o, n), f in ORIGINAL.items() if getattr(o, n) is not f]
    left += [n for n in dir(modules) if n.startswith("_global_") and n.endswith("hooks") and getattr(modules, n)]
    left += [n for n in ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks") if getattr(optimizers, n)]
    if torch._C._len_torch_function_stack():
        left.append("TorchFunctionMode")
    return left

def make(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    return net, torch.optim.SGD(net.parameters(), lr=0.1), torch.randn(32, 4), torch.randn(32, 1)

def train(steps, sleep=0.0, fail_at=None):
    net, opt, x, y = make()
    losses = []
    for i in range(steps):
        if i == fail_at:
            raise ValueError("bad batch")
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        time.sleep(sleep)
    return losses

def drawn():
    """What one iteration's graph holds, from plain PyTorch (the oracle): its ops (a walk of grad_fn) and
    its parameters (AccumulateGrad nodes, drawn by name)."""
    net, _, x, y = make()
    seen, todo = set(), [torch.nn.functional.mse_loss(net(x), y).grad_fn]
    while todo:
        fn = todo.pop()
        if fn is not None and fn not in seen:
            seen.add(fn)
            todo += [f for f, _ in fn.next_functions]
    ops = {type(fn).__name__ for fn in seen} - {"AccumulateGrad"}
    return sorted(ops) + [name for name, _ in net.named_parameters()]
'''


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    nb = k.run(SETUP, "print(hooks_left())")
    assert errors(nb.cells[0]) == [] and text(nb.cells[1]) == "[]\n", nb.cells
    yield k
    k.close()


def last_json(cell) -> dict:
    return json.loads(text(cell).strip().splitlines()[-1])


def test_a_traced_cell_records_the_losses_of_an_untraced_run_and_shows_them(kernel, tmp_path):
    path = str(tmp_path / "run.bps")
    nb = kernel.run("plain = train(25)",
                    f"with backprop_studio.trace({path!r}) as run:\n    traced = train(25)",
                    "print(json.dumps({'plain': plain, 'traced': traced, 'status': run.status, 'path': run.path,"
                    " 'left': hooks_left(), 'drawn': drawn()}))")
    out = last_json(nb.cells[2])
    assert out["traced"] == out["plain"] and out["status"] == "finished" and out["path"] == path
    assert out["left"] == []  # the next cell runs untraced
    rec = Recording(path)
    assert [r["loss"] for r in rec.scalars()] == out["plain"]  # bit for bit
    assert rec.status == "finished"
    [model] = widget_ids(nb.cells[1])
    state = kernel.widget(model)
    assert state["count"] == 25 and state["status"] == "finished" and state["losses"] == out["plain"]
    assert len(state["grad_norms"]) == 25 and all(g > 0 for g in state["grad_norms"])
    assert len(state["graphs"]) == 1 and state["structure"] == [0] * 25  # one structure, every iteration
    assert len(out["drawn"]) == 8  # AddmmBackward0, MseLossBackward0, TBackward0, TanhBackward0, 4 parameters
    for label in out["drawn"]:
        assert f">{label}<" in state["graphs"][0]["svg"], label
        assert f">{label}<" in state["shown"]["svg"], label
    assert state["shown"]["index"] == 24 and state["findings"] == []
    assert "<svg" in state["loss_plot"] and "<svg" in state["grad_plot"]
    [static] = [o.data["text/html"] for o in nb.cells[1].outputs if "text/html" in o.get("data", {})]
    assert "finished: 25 iterations" in static and ">AddmmBackward0<" in static  # without a widget manager
    # an ordinary recording: the command line reads it
    assert cli("doctor", path).returncode == 0
    exported = str(tmp_path / "run.json")
    assert cli("export", path, "--format", "json", "-o", exported).returncode == 0
    with open(exported, encoding="utf-8") as f:
        assert [it["loss"] for it in json.load(f)["iterations"]] == out["plain"]


def test_the_widget_follows_the_cell_while_it_runs(kernel):
    nb = kernel.run("with backprop_studio.trace() as run:\n    train(60, sleep=0.05)")
    [model] = widget_ids(nb.cells[0])
    counts = kernel.counts[model]
    assert counts == sorted(counts) and counts[-1] == 60
    assert any(0 < c < 60 for c in counts), counts  # sent while the cell was still running


def test_the_cell_magic_records_and_a_rerun_starts_afresh(kernel, tmp_path):
    path = str(tmp_path / "magic.bps")
    cell = f"%%trace -o {path} --name again\nlosses = train(5)"
    nb = kernel.run("%load_ext backprop_studio", cell, cell,
                    "print(json.dumps({'status': again.status, 'losses': again.losses(), 'plain': train(5),"
                    " 'left': hooks_left()}))")
    out = last_json(nb.cells[3])
    assert out["status"] == "finished" and out["losses"] == out["plain"] and out["left"] == []
    assert [kernel.widget(widget_ids(c)[0])["count"] for c in nb.cells[1:3]] == [5, 5]
    assert len(Recording(path).indices()) == 5  # the re-run replaced the first recording


def test_an_interrupted_cell_keeps_what_was_recorded(kernel, tmp_path):
    path = str(tmp_path / "interrupted.bps")

    def interrupt_after_five():
        for _ in range(300):
            time.sleep(0.2)
            try:
                if len(Recording(path).indices()) >= 5:
                    break
            except RecordingError:
                pass  # not written yet
        kernel.interrupt()

    threading.Thread(target=interrupt_after_five, daemon=True).start()
    nb = kernel.run(f"with backprop_studio.trace({path!r}) as run:\n    train(100_000, sleep=0.01)",
                    "print(json.dumps({'status': run.status, 'count': len(run.losses()), 'left': hooks_left()}))")
    assert errors(nb.cells[0]) == ["KeyboardInterrupt"]
    out = last_json(nb.cells[1])
    assert out["status"] == "stopped" and out["count"] >= 5 and out["left"] == []
    rec = Recording(path)
    assert rec.status == "stopped" and len(rec.indices()) == out["count"]
    assert kernel.widget(widget_ids(nb.cells[0])[0])["status"] == "stopped"


def test_an_exception_is_recorded_and_the_kernel_goes_on(kernel, tmp_path):
    path = str(tmp_path / "failed.bps")
    nb = kernel.run(f"with backprop_studio.trace({path!r}) as run:\n    train(10, fail_at=3)",
                    "print(json.dumps({'status': run.status, 'error': run.error, 'left': hooks_left(),"
                    " 'again': train(2)}))")
    assert errors(nb.cells[0]) == ["ValueError"]
    out = last_json(nb.cells[1])
    assert out["status"] == "failed" and out["left"] == [] and len(out["again"]) == 2
    assert out["error"]["type"] == "ValueError" and out["error"]["message"] == "bad batch"
    rec = Recording(path)
    assert rec.status == "failed" and rec.meta["error"]["type"] == "ValueError" and len(rec.indices()) == 3
    state = kernel.widget(widget_ids(nb.cells[0])[0])
    assert state["status"] == "failed" and state["error"]["message"] == "bad batch"


def test_the_lesson_notebook_runs_clean_and_the_doctor_finds_its_bug():
    nb = run_notebook(os.path.join(ROOT, "examples", "lesson.ipynb"))  # raises on any cell's error
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "grad-accumulates" in html  # the planted bug, in the widget's static fallback too


def test_importing_the_package_loads_neither_torch_nor_qt():
    folder = tempfile.mkdtemp(prefix="bps-import-")
    os.symlink(ROOT, os.path.join(folder, "backprop_studio"))
    code = ("import sys, backprop_studio\n"
            "assert callable(backprop_studio.trace) and callable(backprop_studio.load_ipython_extension)\n"
            "print(sorted(m for m in ('torch', 'PySide6', 'IPython', 'anywidget') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": folder})
    assert done.returncode == 0 and done.stdout == "[]\n", done.stderr


def test_outside_a_kernel_trace_records_stops_at_a_breakpoint_and_shows_as_html(tmp_path):
    import torch

    from backprop_studio.core.notebook.trace import trace

    w = torch.ones(3, requires_grad=True)
    with trace(str(tmp_path / "plain.bps")) as run:
        for i in range(3):
            (w * i).sum().backward()
    bundle = run._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in bundle  # no kernel: the static page alone
    assert "finished: 3 iterations" in bundle["text/html"] and ">MulBackward0<" in bundle["text/html"]
    assert run.losses() == [0.0, 3.0, 6.0]
    with trace(str(tmp_path / "break.bps"), break_on=["iteration=1"]) as stopped:
        for i in range(5):
            (w * i).sum().backward()
    assert stopped.status == "stopped" and stopped.brk["iteration"] == 1 and len(stopped.losses()) == 2


def test_open_starts_the_app_on_the_recording(tmp_path, monkeypatch):
    """run.open(): the command it starts opens the recording in the app (run here with --screenshot added)."""
    import torch

    from backprop_studio.core.notebook.trace import trace

    w = torch.ones(3, requires_grad=True)
    with trace(str(tmp_path / "nb.bps")) as run:
        for i in range(3):
            (w * i).sum().backward()
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda argv, **kw: started.append((argv, kw)))
    run.open()
    monkeypatch.undo()
    argv, kw = started[0]
    assert argv[-2:] == ["open", run.path] and kw["start_new_session"]
    shot = tmp_path / "app.png"
    done = subprocess.run([*argv[:-2], "--screenshot", str(shot), "--iterations", "3", *argv[-2:]],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
