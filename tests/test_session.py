"""Interactive sessions through the Session API, checked against plain PyTorch as the oracle."""

import os
import runpy
import subprocess
import sys
import time

import pytest
import torch

from backprop_studio.core.recording.store import Recording
from backprop_studio.core.session.session import Session
from backprop_studio.core.trace import graph as graph_mod
from tests.blocking import send_and_wait, wait_finished, wait_paused
from tests.util import LESSONS, run_plain, write_script

TWO_LAYER_ONCE = """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
x = torch.randn(5, 4)
y = torch.randn(5, 2)
loss = ((model(x) - y) ** 2).sum() + (model[0].weight ** 2).sum()
loss.backward()
"""

OPTIMIZER = """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
x = torch.randn(5, 4)
y = torch.randn(5, 2)
opt = {make}
history = []

def snap():
    return [{{"value": p.detach().clone(), "grad": None if p.grad is None else p.grad.clone(),
             "state": {{k: v.clone() if torch.is_tensor(v) else v for k, v in opt.state[p].items()}}}}
            for p in model.parameters()]

for i in range(3):
    loss = ((model(x) - y) ** 2).sum()
    opt.zero_grad()
    loss.backward()
    pre = snap()
    opt.step()
    history.append((pre, snap()))
"""

TRAIN_PRINTING = """
import torch
torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Dropout(0.3), torch.nn.Tanh(), torch.nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for i in range(25):
    x = torch.randn(16, 6)
    loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(i, repr(loss.item()))
"""


def session(script, tmp_path, **kw) -> Session:
    s = Session(script, record=str(tmp_path / "run.bps"), **kw)
    s.start()
    return s


def kinds(events):
    return [e.kind for e in events]


def until(s: Session, seen, timeout: float = 60) -> list:
    """Events up to the first one for which `seen(event)` holds."""
    deadline = time.monotonic() + timeout
    out = []
    while not any(seen(e) for e in out):
        assert time.monotonic() < deadline, f"no such event within {timeout} s: {kinds(out)}"
        out += s.events(timeout=1)
    return out


def plain_backward(script, monkeypatch):
    """Run `script` in this process without our tracer; per backward: [(node id, grad)] in the order
    autograd's node pre-hooks fire (node ids from the same deterministic walk the tracer uses)."""
    runs = []
    orig = torch.Tensor.backward

    def backward(t, *args, **kwargs):
        w = graph_mod.walk([t.grad_fn])
        order = []

        def hook_for(nid):
            def hook(grad_outputs):
                order.append((nid, next(g for g in grad_outputs if g is not None).detach().clone()))
            return hook

        hooks = [fn.register_prehook(hook_for(f"n{k}")) for k, fn in enumerate(w.fns)]
        try:
            return orig(t, *args, **kwargs)
        finally:
            for h in hooks:
                h.remove()
            runs.append(order)

    monkeypatch.setattr(torch.Tensor, "backward", backward)
    runpy.run_path(script, run_name="__main__")
    monkeypatch.undo()
    return runs


@pytest.mark.parametrize("which", ["autograd_basics", "two_layer"])
def test_step_node_by_node_matches_plain_autograd(which, tmp_path, monkeypatch):
    script = os.path.join(LESSONS, "autograd_basics.py") if which == "autograd_basics" \
        else write_script(tmp_path, TWO_LAYER_ONCE)
    (oracle,) = plain_backward(script, monkeypatch)
    s = session(script, tmp_path)
    try:
        first = wait_paused(s, 60)
        assert kinds(first)[0] == "started" and first[-1].data["point"] == "forward_op"
        for nid, grad in oracle:  # each step: exactly the next node autograd runs, with its gradient
            events = send_and_wait(s, "step_node")
            (node_grad,) = [e for e in events if e.kind == "node_grad"]
            assert node_grad.data["node"] == nid
            assert node_grad.data["grad"]["values"] == grad.tolist()
            assert node_grad.data["grad"]["shape"] == list(grad.shape)
            assert events[-1].kind == "paused" and events[-1].data["point"] == "backward_node"
            assert events[-1].data["node"] == nid
        events = send_and_wait(s, "step_node")
        assert events[-1].data["point"] == "backward_end"
        (done,) = [e for e in events if e.kind == "backward_done"]
        grads = {n["id"]: n["grad"] for n in done.data["iteration"]["graph"]["nodes"]}
        assert all(grads[nid]["values"] == g.tolist() for nid, g in oracle)
        s.send("run")
        assert wait_finished(s, 30).data["status"] == "finished"
    finally:
        s.close()


@pytest.mark.parametrize("optimizer, options, state_keys", [
    ("SGD", "momentum=0.9", {"momentum_buffer"}),
    ("Adam", "betas=(0.8, 0.9)", {"step", "exp_avg", "exp_avg_sq"}),
    ("RMSprop", "alpha=0.9", {"step", "square_avg"}),
])
def test_step_phases_optimizer_inspector_matches_plain_torch(optimizer, options, state_keys, tmp_path):
    make = f"torch.optim.{optimizer}(model.parameters(), lr=0.05, {options})"
    script = write_script(tmp_path, OPTIMIZER.format(make=make))
    history = runpy.run_path(script, run_name="__main__")["history"]
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    s = session(script, tmp_path)
    try:
        wait_paused(s, 60)
        points, pre_events, post_events = [], [], []
        while True:
            events = send_and_wait(s, "step_phase")
            pre_events += [e.data for e in events if e.kind == "optimizer_pre"]
            post_events += [e.data for e in events if e.kind == "optimizer_post"]
            if events[-1].kind == "finished":
                break
            points.append(events[-1].data["point"])
        assert points == ["backward_begin", "backward_end", "optimizer_pre", "optimizer_post"] * 3
        assert len(pre_events) == len(post_events) == 3
        for step, ((pre, post), ev_pre, ev_post) in enumerate(zip(history, pre_events, post_events, strict=True)):
            assert ev_pre["step"] == ev_post["step"] == step + 1 and ev_post["index"] == step
            assert ev_pre["optimizer"] == ev_post["optimizer"] == optimizer
            for k, name in enumerate(names):
                a, b = ev_pre["params"][k], ev_post["params"][k]
                assert a["name"] == b["name"] == name
                assert a["before"]["values"] == b["before"]["values"] == pre[k]["value"].tolist()
                assert a["grad"]["values"] == pre[k]["grad"].tolist()
                assert b["after"]["values"] == post[k]["value"].tolist()
                assert a["lr"] == b["lr"] == 0.05 and a["group"]["lr"] == 0.05 and "params" not in a["group"]
                option, value = options.split("=")
                assert a["group"][option] == (list(eval(value)) if "(" in value else float(value))
                for ev, snap in ((a, pre[k]), (b, post[k])):
                    assert set(ev["state"]) == set(snap["state"])
                    for key, want in snap["state"].items():
                        got = ev["state"][key]
                        assert (got["values"] if isinstance(got, dict) else got) == want.tolist()
                assert set(b["state"]) == state_keys
                delta = (post[k]["value"] - pre[k]["value"]).norm() / pre[k]["value"].norm()
                assert b["update_ratio"] == pytest.approx(delta.item(), rel=1e-6)
        ratios = Recording(s.record_path).param_updates()
        assert sorted(ratios) == sorted(names) and [i for i, _ in ratios["2.bias"]] == [0, 1, 2]
    finally:
        s.close()


def test_resume_after_pauses_is_bit_identical_to_untraced_run(tmp_path):
    script = write_script(tmp_path, TRAIN_PRINTING)
    _, plain = run_plain(script, cwd=str(tmp_path))
    assert plain.count("\n") == 25
    s = session(script, tmp_path)
    try:
        events = wait_paused(s, 60)
        for step in ("step_forward_op", "step_forward_op", "step_node", "step_node", "step_phase",
                     "step_phase", "step_iteration", "step_phase", "step_forward_op"):
            events += send_and_wait(s, step)
        events += send_and_wait(s, "run_to", 60, iteration=5)
        s.send("run", rate=10)
        events += until(s, lambda e: e.kind == "iteration")  # running at its rate: pause it midway
        s.send("pause")
        events += wait_paused(s)
        assert events[-1].kind == "paused" and events[-1].data["reason"] == "pause"
        s.send("run")
        wait_finished(s, 120)
        events += s.events()
    finally:
        s.close()
    assert "".join(e.data["text"] for e in events if e.kind == "stdout") == plain
    assert events[-1].data["status"] == "finished"
    assert "".join(text for _, stream, text in Recording(s.record_path).console() if stream == "stdout") == plain


def test_script_error_and_forked_workers(tmp_path):
    script = write_script(tmp_path, """
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        w = torch.ones(2, requires_grad=True)
        data = DataLoader(TensorDataset(torch.arange(8.0).reshape(4, 2)), batch_size=2, num_workers=2)
        for (batch,) in data:
            (w * batch).sum().backward()
        print("workers done")
        raise ValueError("planted failure")
    """)
    s = session(script, tmp_path, paused=False)
    try:
        finished = wait_finished(s, 120)
        events = s.events()
    finally:
        s.close()
    (error,) = [e.data for e in events if e.kind == "error"]
    assert error == {"type": "ValueError", "message": "planted failure", "file": script, "line": 9}
    assert finished.data["status"] == "failed" and finished.data["error"] == error
    assert "ValueError: planted failure" in "".join(e.data["text"] for e in events if e.kind == "stderr")
    assert [e.data["index"] for e in events if e.kind == "iteration"] == [0, 1]
    assert any("workers done" in e.data["text"] for e in events if e.kind == "stdout")
    rec = Recording(s.record_path)
    assert rec.status == "failed" and rec.meta["error"] == error and rec.indices() == [0, 1]


def test_run_freely_throttles_graphs_but_sends_every_iteration(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(3, requires_grad=True)
        for i in range(1500):
            (w * i).sum().backward()
    """)
    t0 = time.monotonic()  # before the child starts: elapsed covers all its iterations
    s = session(script, tmp_path, paused=False, detail="light")
    try:
        wait_finished(s, 120)
        elapsed = time.monotonic() - t0
        events = s.events()
    finally:
        s.close()
    assert [e.data["index"] for e in events if e.kind == "iteration"] == list(range(1500))
    done = [e for e in events if e.kind == "backward_done"]
    assert 1 <= len(done) <= 30 * elapsed + 2
    assert done[-1].data["iteration"]["index"] == 1499  # the last graph is never dropped
    assert len(Recording(s.record_path).indices()) == 1500


def test_run_at_a_rate_and_set_detail(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(3, requires_grad=True)
        for i in range(12):
            (w * i).sum().backward()
    """)
    s = session(script, tmp_path)
    try:
        wait_paused(s, 60)
        s.send("set_detail", detail="light")
        t0 = time.monotonic()
        s.send("run", rate=20)
        wait_finished(s, 30)
        elapsed = time.monotonic() - t0
        events = s.events()
    finally:
        s.close()
    assert elapsed >= 11 / 20 * 0.9
    its = [e.data for e in events if e.kind == "iteration"]
    assert [it["detail"] for it in its] == ["full"] + ["light"] * 11  # detail applies from the next iteration
    assert {e.data["index"] for e in events if e.kind == "node_grad"}  # watching at a rate: node events


def test_manual_updates_between_iterations(tmp_path):
    script = write_script(tmp_path, """
        import torch
        torch.manual_seed(0)
        x, y = torch.randn(8, 3), torch.randn(8, 1)
        w1 = torch.randn(3, 4, requires_grad=True)
        w2 = torch.randn(4, 1, requires_grad=True)
        history = []
        for i in range(3):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            loss.backward()
            before = [w1.detach().clone(), w2.detach().clone()]
            with torch.no_grad():
                w1 -= 1e-3 * w1.grad
                w2 -= 1e-3 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
            history.append([(w1 - before[0]).norm() / before[0].norm(), (w2 - before[1]).norm() / before[1].norm()])
    """)
    history = run_plain(script)[0]["history"]
    s = session(script, tmp_path)
    try:
        wait_paused(s, 60)
        s.send("run", rate=1000)  # watched: every update is taken (unwatched they are sampled: test_record_cli.py)
        wait_finished(s, 60)
        changes = [e.data for e in s.events() if e.kind == "params_changed"]
    finally:
        s.close()
    assert [c["index"] for c in changes] == [0, 1, 2] and all(c["by"] == "manual" for c in changes)
    for c, want in zip(changes, history, strict=True):
        got = {p["name"]: p["update_ratio"] for p in c["params"]}
        assert got == {"w1": pytest.approx(want[0].item(), rel=1e-6), "w2": pytest.approx(want[1].item(), rel=1e-6)}


STOP = 60  # seconds a stop may take here (its speed is a benchmark: benchmarks/processes.py, < 1 s)


def test_stop_ends_a_while_true_pass(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(2, requires_grad=True)
        for i in range(3):
            (w * w).sum().backward()
        print("spinning", flush=True)
        while True:
            pass
    """)
    s = session(script, tmp_path, paused=False)
    try:
        until(s, lambda e: e.kind == "stdout" and "spinning" in e.data["text"])
        finished = s.stop(timeout=STOP)
        assert not s.alive and s.proc.poll() is not None
    finally:
        s.close()
    assert finished.data == {"status": "stopped", "error": None, "break": None, "exit_code": 1}  # not killed
    rec = Recording(s.record_path)
    assert rec.status == "stopped" and rec.indices() == [0, 1, 2]


def test_stop_during_a_long_op_and_while_paused(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(2, requires_grad=True)
        for i in range(5):
            (w * w).sum().backward()
        a = torch.randn(2500, 2500)
        print("multiplying", flush=True)
        while True:
            a = torch.linalg.matrix_exp(a * 1e-9)  # seconds in C code, each
    """)
    s = session(script, tmp_path, paused=False)
    try:
        until(s, lambda e: e.kind == "stdout" and "multiplying" in e.data["text"])
        finished = s.stop(timeout=STOP)
        assert not s.alive and finished.data["status"] == "stopped" and finished.data["exit_code"] == 1
        rec = Recording(s.record_path)
        assert rec.status == "stopped" and rec.indices() == [0, 1, 2, 3, 4]
    finally:
        s.close()
    s = session(script, tmp_path)  # paused at the first op: a clean stop from inside the hook
    try:
        wait_paused(s, 60)
        finished = s.stop(timeout=STOP)
        assert not s.alive
        assert finished.data == {"status": "stopped", "error": None, "break": None, "exit_code": 1}
    finally:
        s.close()


PARENT = """
import sys, threading, time
sys.path.insert(0, {root!r})
import tests
from backprop_studio.core.session.session import Session
s = Session({script!r}, record={record!r}, paused=False)
if {in_thread}:
    t = threading.Thread(target=s.start)
    t.start()
    t.join()
else:
    s.start()
while not any(e.kind == "started" for e in s.events(timeout=60)):
    pass
print(s.proc.pid, flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("in_thread", [False, True])
def test_child_dies_when_the_parent_is_killed(in_thread, tmp_path):
    script = write_script(tmp_path, "while True:\n    pass\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(root=root, script=script, in_thread=in_thread,
                                                                    record=str(tmp_path / "r.bps"))],
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert not _gone(child)
        parent.kill()
        parent.wait()
        t0 = time.monotonic()
        while not _gone(child) and time.monotonic() - t0 < 60:
            time.sleep(0.02)
        assert _gone(child), "the child outlived its parent"
    finally:
        parent.kill()
        parent.wait()


def test_restart_and_bad_input(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(2, requires_grad=True)
        (w * 3).sum().backward()
        print("done")
    """)
    with pytest.raises(ValueError, match="no such script"):
        Session(str(tmp_path / "missing.py"))
    with pytest.raises(ValueError, match="bad breakpoint"):
        Session(script, break_on=["loss >> 3"])
    s = session(script, tmp_path)
    try:
        with pytest.raises(ValueError):
            s.send("run", rate=-1)
        with pytest.raises(ValueError):
            s.send("launch_missiles")
        first_pid = wait_paused(s, 60)[0].data["pid"]
        s.send("restart")
        events = wait_paused(s, 60)
        assert kinds(events)[0] == "finished" and events[0].data["status"] == "stopped"
        started = next(e for e in events if e.kind == "started")
        assert started.data["pid"] != first_pid and events[-1].data["point"] == "forward_op"
        s.send("run")
        assert wait_finished(s, 30).data["status"] == "finished"
    finally:
        s.close()
    assert Recording(s.record_path).status == "finished"


def test_step_forward_op_after_pausing_a_free_run_at_the_optimizer():
    """In-process: a free run (light detail: forward not captured) paused at the optimizer, then
    stepped op by op, stops at the next forward op, not at the end of the forward."""
    import threading

    from torch.optim.optimizer import register_optimizer_step_pre_hook

    from backprop_studio.core.trace.control import Stepper
    from backprop_studio.core.trace.tracer import Tracer

    events, seen = [], threading.Condition()

    def emit(kind, data):
        with seen:
            events.append((kind, data))
            seen.notify_all()

    def next_pause(after: int) -> dict:
        with seen:
            seen.wait_for(lambda: any(k == "paused" for k, _ in events[after:]), timeout=10)
            return next(d for k, d in events[after:] if k == "paused")

    control = Stepper(emit, paused=False)
    tracer = Tracer(lambda it: None, detail="light", control=control)
    control.attach(tracer)
    w = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(w.parameters(), lr=0.1)
    handle = register_optimizer_step_pre_hook(
        lambda o, a, k: control.command("pause", {}, 1) if tracer.index == 2 else None)
    points = []

    def user():
        points.append(next_pause(0))
        mark = len(events)
        control.command("step_forward_op", {}, 2)
        points.append(next_pause(mark))
        control.command("run", {"rate": None}, 3)

    clicker = threading.Thread(target=user)
    clicker.start()
    tracer.install()
    try:
        for _ in range(4):
            loss = (w(torch.ones(2, 3)) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        tracer.uninstall()
        handle.remove()
        clicker.join(10)
    assert points[0]["point"] == "optimizer_pre" and points[0]["index"] == 1
    assert points[1]["point"] == "forward_op" and points[1]["op"] == "AddmmBackward0"


def test_graph_ready_carries_forward_values_before_backward(tmp_path):
    """Paused at backward_begin, the graph on screen already shows every forward value."""
    s = session(os.path.join(LESSONS, "autograd_basics.py"), tmp_path)
    try:
        wait_paused(s, 60)
        events = send_and_wait(s, "step_phase")
        assert events[-1].data["point"] == "backward_begin"
        (ready,) = [e for e in events if e.kind == "graph_ready"]
        values = {n["op"]: n["value"]["values"] for n in ready.data["iteration"]["graph"]["nodes"]}
        assert values["AccumulateGrad"] == [[1.0, 1.0], [1.0, 1.0]]
        assert values["AddBackward0"] == [[3.0, 3.0], [3.0, 3.0]]
        assert values["MeanBackward0"] == 27.0
        assert all(n["grad"] is None for n in ready.data["iteration"]["graph"]["nodes"])
    finally:
        s.close()
