"""The built-in lessons: index consistency, plain runs, and numeric oracles.

Lessons run in this process (tests/util.py run_plain, once per session); one runs as `python lesson.py` too.
"""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.util import run_plain

LESSONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "lessons"
INDEX_PATH = LESSONS_DIR / "index.json"


def _load_index():
    with open(INDEX_PATH, encoding="utf-8") as f:
        return json.load(f)


INDEX = _load_index()
LESSON_NAMES = [lesson["name"] for lesson in INDEX["lessons"]]


@pytest.fixture
def lesson(plain_run):
    """A lesson run as __main__ in this process (once per session): (module globals, stdout)."""
    return lambda name: plain_run(str(LESSONS_DIR / f"{name}.py"))


# ------------------------------------------------------------------ index consistency

def test_index_top_level():
    assert set(INDEX) >= {"default", "chapters", "lessons"}
    assert INDEX["default"] in LESSON_NAMES
    assert len(LESSON_NAMES) == len(set(LESSON_NAMES)), "duplicate lesson names"
    chapter_ids = [c["id"] for c in INDEX["chapters"]]
    assert len(chapter_ids) == len(set(chapter_ids)), "duplicate chapter ids"
    for chapter in INDEX["chapters"]:
        assert chapter["title"]["en"].strip() and chapter["title"]["zh"].strip()
        assert any(lesson["chapter"] == chapter["id"] for lesson in INDEX["lessons"]), chapter["id"]


def test_index_lists_exactly_the_scripts():
    listed = {lesson["file"] for lesson in INDEX["lessons"]}
    for file in listed:
        assert (LESSONS_DIR / file).is_file(), f"{file} is listed but missing"
    on_disk = {p.name for p in LESSONS_DIR.glob("*.py")}
    assert on_disk == listed, f"unlisted: {on_disk - listed}, missing: {listed - on_disk}"


@pytest.mark.parametrize("lesson", INDEX["lessons"], ids=LESSON_NAMES)
def test_lesson_entry(lesson):
    chapter_ids = {c["id"] for c in INDEX["chapters"]}
    assert lesson["file"] == lesson["name"] + ".py"
    assert lesson["chapter"] in chapter_ids
    assert lesson["seed"].endswith(".txt")
    assert isinstance(lesson["backward"], bool)
    for key in ("title", "narration"):
        assert lesson[key]["en"].strip(), f"{key}.en empty"
        assert lesson[key]["zh"].strip(), f"{key}.zh empty"
    assert re.search(r"[\u4e00-\u9fff]", lesson["narration"]["zh"]), "zh narration has no Chinese"
    # the backward flag must match the script
    source = (LESSONS_DIR / lesson["file"]).read_text(encoding="utf-8")
    assert source.startswith('"""'), "script must start with a one-line docstring"
    assert (".backward(" in source) == lesson["backward"]
    imports = re.findall(r"^\s*(?:import|from)\s+(\w+)", source, flags=re.MULTILINE)
    assert set(imports) <= {"math", "random", "numpy", "torch"}, imports


# ------------------------------------------------------------------ plain runs

@pytest.mark.parametrize("name", LESSON_NAMES)
def test_lesson_runs(name, lesson):
    _, stdout = lesson(name)  # an exception would fail the test
    assert stdout.strip(), "a lesson should print its key numbers"
    # a traced run must print the same text: no memory addresses (e.g. a printed grad_fn object)
    assert "object at 0x" not in stdout


def test_a_lesson_runs_as_a_plain_script_and_prints_what_it_prints_in_process(lesson, tmp_path):
    name = INDEX["default"]
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(LESSONS_DIR / f"{name}.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == lesson(name)[1]


@pytest.mark.parametrize("name", ["autograd_basics", "while_doubling", "detach", "autograd_application"])
def test_lesson_is_deterministic(name, lesson):
    torch.manual_seed(12345)  # whatever state the process is in: the lesson seeds itself
    _, again = run_plain(str(LESSONS_DIR / f"{name}.py"))
    assert again == lesson(name)[1]


# ------------------------------------------------------------------ numeric oracles

def test_autograd_basics_oracle(lesson):
    g, _ = lesson("autograd_basics")
    x = g["x"]
    assert x.shape == (2, 2)
    # out = mean(3 (x + 2)^2) -> d(out)/dx = 3 (x + 2) / 2 = 4.5 at x = 1
    assert torch.equal(x.grad, torch.full((2, 2), 4.5))
    assert g["out"].item() == pytest.approx(27.0)
    assert type(g["out"].grad_fn).__name__ == "MeanBackward0"


def test_while_doubling_oracle(lesson):
    g, _ = lesson("while_doubling")
    x, y = g["x"], g["y"]
    torch.manual_seed(0)
    assert torch.equal(x.detach(), torch.rand(3)), "x must come from torch.manual_seed(0)"
    # y is x times a power of two, the first one that brings the norm to 1000
    ratio = (y.detach() / x.detach())
    factor = ratio[0].item()
    assert torch.allclose(ratio, torch.full((3,), factor))
    doublings = round(math.log2(factor))
    assert factor == 2.0 ** doublings
    expected = 1
    while (x.detach() * 2 ** expected).norm() < 1000:
        expected += 1
    assert doublings == expected
    assert torch.allclose(x.grad, factor * torch.tensor([0.1, 1.0, 0.0001]))


def test_grad_2x_squared_oracle(lesson):
    g, out = lesson("grad_2x_squared")
    scalar = re.search(r"x的梯度值是:\s*tensor\(([-+0-9.e]+)\)", out)
    assert scalar, out
    assert float(scalar.group(1)) == pytest.approx(40.0)
    assert torch.equal(g["x"].grad, torch.tensor([40.0, 80.0]))


def test_gradient_descent_x2_oracle(lesson):
    g, _ = lesson("gradient_descent_x2")
    x = g["x"]
    # x_{k+1} = x_k - 0.01 * 2 x_k = 0.98 x_k
    assert x.item() == pytest.approx(10 * 0.98 ** 1000, rel=1e-3)
    assert g["y"].item() == pytest.approx(20.0)
    assert x.is_leaf and x.requires_grad


def test_autograd_application_oracle(lesson):
    g, _ = lesson("autograd_application")
    w, b, z = g["w"], g["b"], g["z"]
    # loss = mean(z^2) over 6 entries; x is all ones, so every row of w.grad equals b.grad
    assert torch.allclose(b.grad, 2 * 2 * z[0].detach() / 6)
    assert torch.allclose(w.grad, b.grad.expand(5, 3))


def test_poly_autograd_matches_hand_written_gradients(lesson):
    hand, _ = lesson("poly_tensors")
    auto, _ = lesson("poly_autograd")
    for name in "abcd":
        assert auto[name].item() == pytest.approx(hand[name].item(), rel=1e-5, abs=1e-7), name


def test_twolayer_myrelu_matches_hand_written_gradients(lesson):
    hand, _ = lesson("twolayer_tensors")
    custom, _ = lesson("twolayer_myrelu")
    assert torch.allclose(custom["w1"].detach(), hand["w1"], rtol=1e-4, atol=1e-5)
    assert torch.allclose(custom["w2"].detach(), hand["w2"], rtol=1e-4, atol=1e-5)
    assert custom["loss"].item() < 1e-2
    # and the custom backward agrees with finite differences (points away from the kink at 0)
    t = torch.tensor([-1.5, -0.3, 0.2, 0.7, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(custom["MyReLU"].apply, (t,))


def test_legendre_custom_function_oracle(lesson):
    legendre, _ = lesson("legendre_custom_function")
    t = torch.linspace(-2, 2, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(legendre["LegendrePolynomial3"].apply, (t,))
    # the fit ends close to the official tutorial's result y = -2.2 * P3(0.255 x)
    assert legendre["b"].item() == pytest.approx(-2.2085, abs=1e-2)
    assert legendre["d"].item() == pytest.approx(0.2555, abs=1e-2)


def test_lenet_cifar_oracle(lesson):
    g, out = lesson("lenet_cifar")
    net = g["net"]
    assert sum(p.numel() for p in net.parameters()) == 62006  # LeNet-5 on 3-channel 32x32 images
    x = torch.zeros(4, 3, 32, 32)
    shapes = []
    for layer in (net.conv1, net.pool1, net.conv2, net.pool2):
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]  # the comments in the lesson
    assert net(g["test_images"]).shape == (20, 10)
    images = g["train_images"]
    assert images.shape == (40, 3, 32, 32) and images.min() >= -1 and images.max() <= 1
    losses = [float(m) for m in re.findall(r"^\d+ ([-+0-9.e]+)$", out, re.M)]
    assert len(losses) == 60
    assert losses[0] == pytest.approx(math.log(10), abs=0.1)  # an untrained net: ten classes about equal
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.4
    before, after = (float(v) for v in re.findall(r"accuracy \w+ training: ([0-9.]+)", out))
    assert before <= 0.2 and after >= 0.8 and after == g["accuracy"](net)
