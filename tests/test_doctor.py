"""The training doctor end to end: scripts with a classic bug, recorded at the default detail through
`record`, get the expected finding from `doctor`; correct scripts (every lesson included) get none.

Recordings run two at a time (the CI machine has 2 cores; one OpenMP thread each).
"""

from __future__ import annotations

import json
import math
import os
import runpy
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from backprop_studio.core import lessons
from backprop_studio.core.doctor import diagnose as doctor
from tests.util import LESSONS, ROOT, cli, trace

pytestmark = pytest.mark.e2e

SCRIPTS = os.path.join(ROOT, "tests", "scripts", "doctor")
BUGS = {  # script -> the code it must get
    "no_zero_grad": "grad-accumulates",
    "head_not_optimized": "not-optimized",
    "detach_frozen": "no-grad",
    "softmax_ce": "double-softmax",
    "large_lr": "exploding",
    "sigmoid_vanishing": "vanishing",
    "inf_loss": "nonfinite",
}
CORRECT = {  # name -> (script, args)
    **{name: (os.path.join(SCRIPTS, f"{name}.py"), ()) for name in (
        "ok_accumulation", "ok_cnn_batchnorm", "ok_lstm_clip", "ok_gan", "ok_log_softmax_nll", "ok_gpt2")},
    "transformer_encoder": (os.path.join(ROOT, "resources", "examples", "transformer_encoder.py"), ("4",)),
    **{f"lesson_{item['name']}": (os.path.join(LESSONS, item["file"]), ())
       for item in lessons.load().lessons if item["backward"]},  # DynamicNet, RMSprop and Adam fits among them
}


def _record_all(folder, scripts: dict) -> dict:
    """name -> recording path, every script recorded with `record`'s defaults."""

    def one(item):
        name, (script, args) = item
        out = str(folder / f"{name}.bps")
        proc = cli("record", "-o", out, script, *args, cwd=str(folder))
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        return name, out

    with pytest.MonkeyPatch.context() as mp, ThreadPoolExecutor(2) as pool:
        mp.setenv("OMP_NUM_THREADS", "1")  # for the recording children only
        return dict(pool.map(one, scripts.items()))


@pytest.fixture(scope="module")
def buggy(tmp_path_factory):
    return _record_all(tmp_path_factory.mktemp("buggy"), {k: (os.path.join(SCRIPTS, f"{k}.py"), ()) for k in BUGS})


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    return _record_all(tmp_path_factory.mktemp("correct"), CORRECT)


def run_doctor(path: str) -> tuple[int, list[dict]]:
    proc = cli("doctor", path, "--format", "json")
    assert proc.returncode in (0, 4), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def line_of(script: str, text: str) -> int:
    with open(os.path.join(SCRIPTS, f"{script}.py"), encoding="utf-8") as f:
        return next(k for k, line in enumerate(f, 1) if text in line)


@pytest.mark.parametrize("script", BUGS)
def test_each_bug_is_found(buggy, script):
    code, findings = run_doctor(buggy[script])
    assert code == 4
    assert BUGS[script] in {f["code"] for f in findings}, findings
    assert all(f["code"] in doctor.CODES and f["level"] in doctor.LEVELS for f in findings)


def test_the_detach_line_and_the_frozen_parameters_are_named(buggy):
    _, findings = run_doctor(buggy["detach_frozen"])
    cut = f"detach_frozen.py:{line_of('detach_frozen', '.detach()')}"
    assert {f["subject"] for f in findings if f["code"] == "no-grad"} == {"encoder.weight", "encoder.bias"}
    assert all(cut in f["message"] for f in findings if f["code"] == "no-grad")


def test_the_head_left_out_is_named_and_nothing_else(buggy):
    _, findings = run_doctor(buggy["head_not_optimized"])
    assert [(f["code"], f["subject"]) for f in findings] == \
        [("not-optimized", "head.bias"), ("not-optimized", "head.weight")]


def test_the_inf_is_traced_to_the_log_and_its_line(buggy):
    _, findings = run_doctor(buggy["inf_loss"])
    (found,) = [f for f in findings if f["code"] == "nonfinite"]
    assert found["level"] == "error"
    assert found["subject"] == f"LogBackward0 at inf_loss.py:{line_of('inf_loss', 'torch.log')}"
    # plain torch (the script run without the tracer prints `step loss`): the first non-finite loss
    plain = subprocess.run([sys.executable, os.path.join(SCRIPTS, "inf_loss.py")], capture_output=True, text=True,
                           timeout=120, check=True)
    losses = [float(line.split()[1]) for line in plain.stdout.splitlines()]
    assert found["iteration"] == next(k for k, v in enumerate(losses) if not math.isfinite(v))


def test_vanishing_matches_plain_torch(buggy):
    _, findings = run_doctor(buggy["sigmoid_vanishing"])
    (found,) = [f for f in findings if f["code"] == "vanishing"]
    assert found["subject"] == "0.weight"
    model = runpy.run_path(os.path.join(SCRIPTS, "sigmoid_vanishing.py"), run_name="__main__")["model"]
    first, last = model[0].weight.grad, model[20].weight.grad  # the last iteration's gradients
    assert first.norm() / first.numel() ** 0.5 < 1e-4 * last.norm() / last.numel() ** 0.5


@pytest.mark.parametrize("name", CORRECT)
def test_no_warning_on_a_correct_script(correct, name):
    code, findings = run_doctor(correct[name])
    assert code == 0
    assert [f for f in findings if f["level"] != "info"] == []


def test_text_output_file_and_export_json_agree(buggy, tmp_path):
    out = str(tmp_path / "findings.txt")
    proc = cli("doctor", buggy["softmax_ce"], "-o", out)
    assert proc.returncode == 4 and proc.stdout == ""
    with open(out, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines and lines[0].startswith("WARNING double-softmax iteration 0 SoftmaxBackward0")
    exported = str(tmp_path / "run.json")
    assert cli("export", buggy["softmax_ce"], "--format", "json", "-o", exported).returncode == 0
    with open(exported, encoding="utf-8") as f:
        data = json.load(f)
    assert [f["code"] for f in data["findings"]] == [f["code"] for f in run_doctor(buggy["softmax_ce"])[1]]


def test_the_fast_read_of_a_recording_equals_reading_every_iteration(buggy, correct):
    """from_recording builds a graph only where a rule needs one (a new structure, the first NaN/Inf) and
    reads the other iterations' numbers alone: the run it sees is the one every full iteration gives."""
    from backprop_studio.core.recording.store import Recording

    for path in [*buggy.values(), *(correct[k] for k in ("lesson_poly_optim_rmsprop", "lesson_dynamic_net", "ok_gan"))]:
        rec = Recording(path)
        try:
            fast = doctor.from_recording(rec)
            every = doctor.summarize((rec.iteration(i) for i in rec.indices()), rec.param_updates(),
                                     rec.meta.get("script"))
        finally:
            rec.close()
        assert fast.steps == every.steps, path
        assert {k: v[0] for k, v in fast.graphs.items()} == {k: v[0] for k, v in every.graphs.items()}
        assert (fast.nonfinite or (None,))[0] == (every.nonfinite or (None,))[0]
        assert doctor.diagnose(fast) == doctor.diagnose(every), path


def test_a_bad_file_exits_1_with_a_message(tmp_path):
    junk = tmp_path / "junk.bps"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    for path in (str(junk), str(tmp_path / "missing.bps")):
        proc = cli("doctor", path)
        assert proc.returncode == 1
        assert proc.stderr.startswith("backprop-studio: ") and path in proc.stderr


def test_live_iterations_are_diagnosed_like_a_recording():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    x, y = torch.randn(8, 3), torch.randn(8, 1)

    def train(zero: bool):
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        for _ in range(4):
            if zero:
                opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    forgot = doctor.diagnose(doctor.summarize(trace(lambda: train(False))))
    model.zero_grad(set_to_none=True)
    fine = doctor.diagnose(doctor.summarize(trace(lambda: train(True))))
    assert [f["code"] for f in forgot] == ["grad-accumulates"] and fine == []
