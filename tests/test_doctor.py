"""The training doctor end to end: scripts with a classic bug, recorded at the default detail, get the
expected finding (code, iteration, subject); correct scripts (every lesson included) get no warning or
error. The scripts are in tests/scripts/doctor/{tuned,heldout}/ (tests/doctor_cases.py); each is recorded
once per session, in this process, through the same runner.record as `record`. Numbers are checked
against plain PyTorch runs of the same scripts.
"""

from __future__ import annotations

import json
import math
import runpy
import subprocess
import sys

import pytest
import torch

from backprop_studio.core.doctor import diagnose as doctor
from tests import doctor_cases
from tests.util import cli, trace

pytestmark = pytest.mark.e2e

CASES = {c.name: c for c in doctor_cases.cases()}
BUGGY = [n for n, c in CASES.items() if c.buggy]
CORRECT = [n for n, c in CASES.items() if not c.buggy]


def script(name: str) -> str:
    return CASES[name].script


def line_of(name: str, text: str) -> int:
    with open(script(name), encoding="utf-8") as f:
        return next(k for k, line in enumerate(f, 1) if text in line)


def plain(name: str) -> dict:
    """The script run by plain Python (no tracer) in this process: its globals at the end."""
    argv, path = sys.argv[:], sys.path[:]
    try:
        return runpy.run_path(script(name), run_name="__main__")
    finally:
        sys.argv[:], sys.path[:] = argv, path


def findings(recordings, name: str, code: str | None = None) -> list[dict]:
    found = doctor_cases.diagnose(recordings[name])
    return [f for f in found if code is None or f["code"] == code]


@pytest.mark.parametrize("name", BUGGY)
def test_each_bug_is_found(doctor_recordings, name):
    found = findings(doctor_recordings, name)
    assert doctor_cases.found(CASES[name], found), (CASES[name].expect, found)
    assert doctor.has_problems(found)
    assert all(f["code"] in doctor.CODES and f["level"] in doctor.LEVELS for f in found)


@pytest.mark.parametrize("name", CORRECT)
def test_no_warning_on_a_correct_script(doctor_recordings, name):
    assert doctor_cases.alarms(findings(doctor_recordings, name)) == []


def test_the_detach_line_and_the_frozen_parameters_are_named(doctor_recordings):
    name = "tuned/detach_frozen"
    cut = f"detach_frozen.py:{line_of(name, '.detach()')}"
    found = findings(doctor_recordings, name, "no-grad")
    assert {f["subject"] for f in found} == {"encoder.weight", "encoder.bias"}
    assert all(cut in f["message"] and f["node"] == {"kind": "param", "name": f["subject"]} for f in found)


def test_the_head_left_out_is_named_and_nothing_else(doctor_recordings):
    found = findings(doctor_recordings, "tuned/head_not_optimized")
    assert [(f["code"], f["subject"]) for f in found] == [("not-optimized", "head.bias"), ("not-optimized", "head.weight")]


def test_the_inf_is_traced_to_the_log_and_its_line(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/inf_loss", "nonfinite")
    assert found["level"] == "error"
    assert found["subject"] == f"LogBackward0 at inf_loss.py:{line_of('tuned/inf_loss', 'torch.log')}"
    # plain torch (the script run without the tracer prints `step loss`): the first non-finite loss
    run = subprocess.run([sys.executable, script("tuned/inf_loss")], capture_output=True, text=True, timeout=120,
                         check=True)
    losses = [float(line.split()[1]) for line in run.stdout.splitlines()]
    assert found["iteration"] == next(k for k, v in enumerate(losses) if not math.isfinite(v))


def test_vanishing_matches_plain_torch(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/sigmoid_vanishing", "vanishing")
    assert found["subject"] == "0.weight"
    model = plain("tuned/sigmoid_vanishing")["model"]
    first, last = model[0].weight.grad, model[20].weight.grad  # the last iteration's gradients
    assert first.norm() / first.numel() ** 0.5 < 1e-4 * last.norm() / last.numel() ** 0.5


def test_broadcast_names_the_shapes_plain_torch_broadcasts(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/broadcast_mse", "broadcast")
    g = plain("tuned/broadcast_mse")
    pred, y = g["model"](g["x"]), g["y"]
    assert found["evidence"] == {"operand_shape": list(pred.shape), "result_shape": list((pred - y).shape)}
    assert found["node"]["op"] == "ExpandBackward0" and found["iteration"] == 0
    assert f"broadcast_mse.py:{line_of('tuned/broadcast_mse', 'mse_loss')}" in found["subject"]


def test_softmax_dim_names_the_op_its_dimension_and_shape(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/softmax_dim0", "softmax-dim")
    assert found["evidence"] == {"dim": 0, "shape": [32, 3]}
    assert found["node"]["source"] == f"softmax_dim0.py:{line_of('tuned/softmax_dim0', 'F.nll_loss')}"


def test_step_without_grad_and_detached_loss_change_nothing_in_plain_torch(doctor_recordings):
    for name, code in (("tuned/zero_grad_before_step", "step-without-grad"), ("tuned/detached_loss", "detached-loss")):
        (found,) = findings(doctor_recordings, name, code)
        assert found["iteration"] == 0 and found["level"] in ("warning", "error")
        torch.manual_seed(0)  # both scripts build this model right after this seed
        start = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        trained = plain(name)["model"]
        assert all(torch.equal(a, b) for a, b in zip(start.parameters(), trained.parameters(), strict=True))


def test_dead_units_names_the_relu_plain_torch_finds_all_zero(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/dead_relu", "dead-units")
    g = plain("tuned/dead_relu")
    model, x = g["model"], g["x"]
    assert torch.count_nonzero(model[1](model[0](x))) == 0
    assert torch.count_nonzero(model[0].weight.grad) == 0 and torch.count_nonzero(model[4].weight.grad) > 0
    assert found["node"]["op"] == "ReluBackward0" and found["node"]["module"] == "1"
    assert {"0.weight", "0.bias"} <= set(found["evidence"]["parameters"])


def test_eval_mode_starts_at_the_first_step_after_validation(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/eval_mode", "eval-mode")
    assert found["iteration"] == 4  # four batches per epoch, then model.eval()
    assert found["evidence"] == {"iterations": 8, "modules": ["1", "3"]}


def test_lr_too_small_reports_ratios_plain_torch_agrees_with(doctor_recordings):
    (found,) = findings(doctor_recordings, "tuned/lr_tiny", "lr-too-small")
    model = plain("tuned/lr_tiny")["model"]
    torch.manual_seed(0)
    start = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    per_step = max(((p - q).norm() / q.norm()).item() / 100 for p, q in zip(model.parameters(), start.parameters(),
                                                                            strict=True) if p.ndim > 1)
    assert found["evidence"]["largest_update_ratio"] < 1e-6 and per_step < 1e-6
    assert math.isclose(found["evidence"]["largest_update_ratio"], per_step, rel_tol=0.05)


def test_a_healthy_bn_dropout_nesterov_classifier_is_not_called_exploding(doctor_recordings):
    """Its update/weight ratios are ~0.1 (the first doctor's `exploding` warning), and its loss falls."""
    from backprop_studio.core.recording.store import Recording

    assert all(f["level"] == "info" for f in findings(doctor_recordings, "tuned/ok_bn_dropout_nesterov"))
    rec = Recording(doctor_recordings["tuned/ok_bn_dropout_nesterov"])
    try:
        losses = [r["loss"] for r in rec.scalars()]
    finally:
        rec.close()
    assert sorted(losses[-5:])[2] < losses[0] / 3


def test_text_output_file_and_export_json_agree(tmp_path):
    """Through the CLI: `record` in a child process, then `doctor` and `export`."""
    bps, out = str(tmp_path / "run.bps"), str(tmp_path / "findings.txt")
    assert cli("record", "-o", bps, script("tuned/softmax_ce"), cwd=str(tmp_path)).returncode == 0
    proc = cli("doctor", bps, "-o", out)
    assert proc.returncode == 4 and proc.stdout == ""
    with open(out, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines and lines[0].startswith("WARNING double-softmax iteration 0 SoftmaxBackward0")
    exported = str(tmp_path / "run.json")
    assert cli("export", bps, "--format", "json", "-o", exported).returncode == 0
    with open(exported, encoding="utf-8") as f:
        data = json.load(f)
    as_json = json.loads(cli("doctor", bps, "--format", "json").stdout)["findings"]
    assert [f["code"] for f in data["findings"]] == [f["code"] for f in as_json] == ["double-softmax"]
    assert as_json[0]["node"]["op"] == "SoftmaxBackward0"


def test_the_fast_read_of_a_recording_equals_reading_every_iteration(doctor_recordings):
    """from_recording builds a graph only where a rule needs one (a new structure, the first NaN/Inf) and
    reads the other iterations' numbers alone: the run it sees is the one every full iteration gives."""
    from backprop_studio.core.recording.store import Recording

    names = [*BUGGY[:12], "tuned/lesson_poly_optim_rmsprop", "tuned/lesson_dynamic_net", "tuned/ok_gan"]
    for name in names:
        rec = Recording(doctor_recordings[name])
        try:
            fast = doctor.from_recording(rec)
            every = doctor.summarize((rec.iteration(i) for i in rec.indices()), rec.param_updates(),
                                     rec.meta.get("script"))
            every.facts = fast.facts  # events: read the same way by both
        finally:
            rec.close()
        assert fast.steps == every.steps, name
        assert {k: v[0] for k, v in fast.graphs.items()} == {k: v[0] for k, v in every.graphs.items()}
        assert (fast.nonfinite or (None,))[0] == (every.nonfinite or (None,))[0]
        assert doctor.diagnose(fast) == doctor.diagnose(every), name


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
