"""End-to-end: `main.py record` / `export` on scripts nobody here wrote.

The command line's contract (exit codes, JSON, a syntax error, a failure midway, sys.exit, argv, a killed
child) runs `main.py` itself; the other recordings run in this process as `record`'s child runs them
(tests/util.py record_fast) and exports through main() in this process.
"""

import csv
import html
import io
import json
import os
import re
import signal
import subprocess
import sys

import graphviz
import networkx as nx
import pytest

from backprop_studio.core.recording.store import Recording
from backprop_studio.core.render import export
from backprop_studio.core.trace.throttle import Throttle
from tests.util import (
    ENDLESS,
    MAIN,
    cli,
    cli_here,
    nodes,
    record,
    record_fast,
    record_here,
    run_plain,
    write_script,
)

pytestmark = pytest.mark.e2e

BASICS = """
import torch
x = torch.ones(2, 2, requires_grad=True)
y = x + 2
z = y * y * 3
out = z.mean()
out.backward()
print("grad", x.grad.tolist())
"""


def test_record_basics_exit_zero_and_json_contract(tmp_path):
    script = write_script(tmp_path, BASICS)
    bps, out = str(tmp_path / "run.bps"), str(tmp_path / "run.json")
    proc = cli("record", "--detail", "full", "-o", bps, script, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    exported = cli("export", bps, "--format", "json", "-o", out)
    assert exported.returncode == 0 and exported.stdout == "", exported.stderr
    with open(out, encoding="utf-8") as f:
        data = json.load(f)
    assert "grad [[4.5, 4.5], [4.5, 4.5]]" in proc.stdout  # passed through
    assert data["status"] == "finished" and data["error"] is None and data["break"] is None
    assert "grad [[4.5" in data["console"]  # and recorded
    (it,) = data["iterations"]
    assert set(it) >= {"index", "loss", "optimizer_steps", "signature", "graph"}
    assert it["loss"] == 27.0 and it["optimizer_steps"] == 0
    g = it["graph"]
    assert {e["target"] for e in g["edges"]} | {e["source"] for e in g["edges"]} == {n["id"] for n in g["nodes"]}
    (x,) = nodes(it, op="AccumulateGrad")
    assert x["name"] == "x" and x["grad"]["values"] == [[4.5] * 2] * 2
    assert len(nodes(it, op="MulBackward0")) == 2 and len(nodes(it, op="AddBackward0")) == 1


UPDATES = """
import torch
torch.manual_seed(0)
w = torch.ones(2, requires_grad=True)
for _ in range(2):
    (w * 3).sum().backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
model = torch.nn.Linear(3, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.5)
x, y = torch.randn(8, 3), torch.randn(8, 2)
before = {n: p.detach().clone() for n, p in model.named_parameters()}
for step in range(3):
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()
    if step == 0:
        for n, p in model.named_parameters():
            ratio = (p.detach() - before[n]).norm() / before[n].norm()
            print(f"ratio {n} {ratio.item():.10g}")
"""


def test_headless_record_writes_update_ratios(tmp_path, monkeypatch):
    """`record` (no watcher) writes each optimizer step's update ratios and updates made by hand;
    the numbers match plain torch. Updates are sampled within a share of the wall time: here every one is
    (the sampling itself is tested with live sessions)."""
    monkeypatch.setattr(Throttle, "ready", lambda self: True)
    script = write_script(tmp_path, UPDATES)
    bps = str(tmp_path / "run.bps")
    proc = record_here(script, bps, detail="auto", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    _, plain = run_plain(script)
    expected = {line.split()[1]: float(line.split()[2]) for line in plain.splitlines() if line.startswith("ratio")}
    rec = Recording(bps)
    updates = rec.param_updates()
    rec.close()
    assert set(updates) == {"weight", "bias", "w"}
    for name, ratio in expected.items():
        assert updates[name][0][0] == 2 and updates[name][0][1] == pytest.approx(ratio, rel=1e-5)
    assert [i for i, _ in updates["w"]] == [0, 1]  # by hand: w -= 0.1 * 3 from 1, then from 0.7
    assert [r for _, r in updates["w"]] == pytest.approx([0.3, 0.3 / 0.7], rel=1e-6)


def test_export_dot_csv_svg(tmp_path):
    script = write_script(tmp_path, """
        import torch
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        for i in range(3):
            loss = (w * (i + 1)).pow(2).sum()
            loss.backward()
    """)
    bps = str(tmp_path / "run.bps")
    assert record_here(script, bps, detail="auto").returncode == 0  # export: main() in this process
    assert cli_here("export", bps, "--format", "dot", "-o", str(tmp_path / "g.dot"), "--iteration", "1").returncode == 0
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and "PowBackward0" in dot and "iteration 1" in dot
    assert cli_here("export", bps, "--format", "csv", "-o", str(tmp_path / "s.csv")).returncode == 0
    rows = list(csv.DictReader(open(tmp_path / "s.csv")))
    assert [float(r["loss"]) for r in rows] == [5.0, 20.0, 45.0]
    assert cli_here("export", bps, "--format", "svg", "-o", str(tmp_path / "g.svg")).returncode == 0
    assert b"<svg" in (tmp_path / "g.svg").read_bytes()
    bad = cli_here("export", bps, "--format", "dot", "-o", str(tmp_path / "x.dot"), "--iteration", "9")
    assert bad.returncode != 0 and "no iteration 9" in bad.stderr


def test_export_writes_real_characters_that_graphviz_draws(tmp_path):
    """×, ‖·‖ and μ reach the DOT file as characters (not JSON's \\u00d7) and dot draws them."""
    script = write_script(tmp_path, """
        import torch
        w = torch.ones(2, 3, requires_grad=True)
        loss = (w * torch.arange(6.0).reshape(2, 3)).sum()
        loss.backward()
    """)
    bps = str(tmp_path / "run.bps")
    assert record_here(script, bps, detail="full").returncode == 0
    for fmt in ("dot", "svg"):
        assert cli_here("export", bps, "--format", fmt, "-o", str(tmp_path / f"g.{fmt}")).returncode == 0
    dot = (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert "\\u" not in dot
    assert "2×3" in dot and "‖·‖" in dot and "μ" in dot
    svg = (tmp_path / "g.svg").read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "2×3" in texts and any("‖·‖" in t and "μ" in t for t in texts)
    assert not any("u00" in t or "u20" in t for t in texts)


def test_dot_strings_keep_quotes_backslashes_and_lines():
    g = nx.DiGraph()
    g.add_node("n0", kind="leaf", name='a"b\\c', shape=[4])
    svg = graphviz.Source(export.to_dot(g, "it's ×")).pipe(format="svg").decode()
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert texts == ["it's ×", 'a"b\\c', "4"]  # the title, then the node's two lines


@pytest.mark.parametrize("detail", ["full", "auto"])
def test_a_warning_is_shown_once_at_the_users_line(tmp_path, detail):
    """PyTorch's broadcasting warning names the script's lines, as a plain run does, at every detail
    (the forward capture used to put its own frame in between: a second copy named core/trace/capture.py)."""
    script = write_script(tmp_path, """
        import torch
        import torch.nn.functional as F
        w = torch.ones(3, requires_grad=True)
        y = torch.ones(3, 1)
        for i in range(3):
            loss = F.mse_loss(w * 2, y)
            loss = loss + F.mse_loss(w, y)
            loss.backward()
    """, name="broadcast.py")
    plain = io.StringIO()
    run_plain(script, stderr=plain)
    _, data = record_fast(tmp_path, script, detail=detail)
    shown = [line for line in data["console"].splitlines() if "Warning" in line]
    assert shown == [line for line in plain.getvalue().splitlines() if "Warning" in line]
    assert [line.split(": ")[0] for line in shown] == [f"{script}:7", f"{script}:8"]


def test_syntax_error_reports_user_file_and_line(tmp_path):
    script = write_script(tmp_path, "import torch\nx = (1,\nprint('never')\n", name="broken.py")
    proc, data = record(tmp_path, script, expect=1)
    err = data["error"]
    assert data["status"] == "failed" and err["type"] == "SyntaxError"
    assert err["file"].endswith("broken.py") and err["line"] in (2, 3)
    assert "broken.py" in proc.stderr and "core/session/runner.py" not in proc.stderr


def test_exception_midway_keeps_prior_iterations_and_names_the_line(tmp_path):
    script = write_script(tmp_path, """
        import torch

        def step(w, i):
            if i == 3:
                raise ValueError("bad batch " + str(i))
            (w * i).sum().backward()

        w = torch.ones(2, requires_grad=True)
        for i in range(10):
            step(w, i)
    """, name="train.py")
    proc, data = record(tmp_path, script, expect=1)
    assert data["status"] == "failed" and [it["index"] for it in data["iterations"]] == [0, 1, 2]
    err = data["error"]
    assert (err["type"], err["message"], err["line"]) == ("ValueError", "bad batch 3", 6)
    assert err["file"].endswith("train.py")
    assert "train.py:6" in proc.stderr and "runpy" not in proc.stderr


def test_main_guard_and_script_argv(tmp_path):
    script = write_script(tmp_path, """
        import argparse, os, sys
        import torch
        import helper  # the script's directory is on sys.path

        def main():
            p = argparse.ArgumentParser()
            p.add_argument("--lr", type=float)
            p.add_argument("--steps", type=int)
            a = p.parse_args()
            print("argv", sys.argv[1:], os.environ["MPLBACKEND"], helper.VALUE)
            w = torch.zeros(1, requires_grad=True)
            for _ in range(a.steps):
                (w - 1).pow(2).sum().backward()
                with torch.no_grad():
                    w -= a.lr * w.grad
                    w.grad = None

        if __name__ == "__main__":
            main()
    """)
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    proc, data = record(tmp_path, script, "--lr", "0.25", "--steps", "4")
    assert "argv ['--lr', '0.25', '--steps', '4'] Agg 42" in proc.stdout
    assert len(data["iterations"]) == 4
    assert [it["loss"] for it in data["iterations"]] == [1.0, 0.25, 0.0625, 0.015625]


def test_script_without_backward_finishes_with_zero_iterations(tmp_path):
    script = write_script(tmp_path, "import numpy as np\nprint(np.ones(3).sum())\n")
    proc, data = record_fast(tmp_path, script)
    assert data["status"] == "finished" and data["iterations"] == [] and "3.0" in proc.stdout


def test_sys_exit_nonzero_is_a_failure(tmp_path):
    script = write_script(tmp_path, "import sys\nsys.exit(3)\n")
    _, data = record(tmp_path, script, expect=1)
    assert data["status"] == "failed" and "code 3" in data["error"]["message"]


def test_nan_flagged_in_summaries(tmp_path):
    script = write_script(tmp_path, """
        import torch
        x = torch.tensor([1.0, -2.0, 4.0], requires_grad=True)
        y = torch.sqrt(x)
        loss = y.sum()
        loss.backward()
    """)
    _, data = record_fast(tmp_path, script)
    (it,) = data["iterations"]
    (sqrt,) = nodes(it, op="SqrtBackward0")
    assert sqrt["value"]["nan"] == 1 and sqrt["name"] == "y"
    assert it["loss"] == "nan"  # JSON has no NaN token


def test_killed_child_keeps_committed_iterations(tmp_path):
    script = write_script(tmp_path, ENDLESS)
    bps = str(tmp_path / "run.bps")
    proc = subprocess.Popen([sys.executable, MAIN, "record", "-o", bps, script], stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("iteration 12"):
            break
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the script runs in a child process"
    os.kill(int(children[0]), signal.SIGKILL)
    assert proc.wait(timeout=30) != 0
    rec = Recording(bps)
    assert rec.status == "failed" and "SIGKILL" in rec.meta["error"]["message"]
    idx = rec.indices()
    assert len(idx) >= 8 and idx == list(range(len(idx)))  # committed iterations, in order
    assert rec.iteration(idx[-1]).graph.number_of_nodes() == 3  # Sum <- Mul <- w


MODELS = {
    "cnn_batchnorm": """
        import torch, torch.nn as nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))
        for _ in range(3):
            loss = nn.functional.cross_entropy(net(x), y)
            opt.zero_grad(); loss.backward(); opt.step()
    """,
    "lstm_clip": """
        import torch, torch.nn as nn
        torch.manual_seed(0)
        lstm, head = nn.LSTM(5, 7, batch_first=True), nn.Linear(7, 1)
        params = list(lstm.parameters()) + list(head.parameters())
        opt = torch.optim.Adam(params, lr=1e-2)
        x, y = torch.randn(4, 6, 5), torch.randn(4, 1)
        for _ in range(3):
            out, _ = lstm(x)
            loss = (head(out[:, -1]) - y).pow(2).mean()
            opt.zero_grad(); loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 0.5)
            opt.step()
    """,
    "grad_accumulation": """
        import torch, torch.nn as nn
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        for step in range(2):
            opt.zero_grad()
            for micro in range(3):
                loss = model(torch.randn(2, 4)).pow(2).mean() / 3
                loss.backward()
            opt.step()
    """,
    "transformer": """
        import torch, torch.nn as nn
        torch.manual_seed(0)
        layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        x = torch.randn(3, 5, 16)
        for _ in range(3):
            loss = model(x).pow(2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    """,
}
EXPECT = {"cnn_batchnorm": (3, [0, 1, 2], "0.weight"), "lstm_clip": (3, [0, 1, 2], "weight_ih_l0"),
          "grad_accumulation": (6, [0, 0, 0, 1, 1, 1], "weight"),
          "transformer": (3, [0, 1, 2], "layers.1.self_attn.in_proj_weight")}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_real_models_record(tmp_path, name):
    script = write_script(tmp_path, MODELS[name])
    _, data = record_fast(tmp_path, script, detail="auto")
    count, steps, param = EXPECT[name]
    its = data["iterations"]
    assert data["status"] == "finished" and len(its) == count
    assert [it["optimizer_steps"] for it in its] == steps
    assert any(n["name"] == param and n["kind"] == "param" for n in its[0]["graph"]["nodes"])
    assert [it["detail"] for it in its[:2]] == ["full", "light"]  # auto learns both costs first
    for it in its:
        sinks = {n["id"] for n in it["graph"]["nodes"]} - {e["source"] for e in it["graph"]["edges"]}
        assert isinstance(it["loss"], float)
        assert sinks == ({"n0"} if it["detail"] != "loss" else set())  # loss-only: auto's budget was spent
