"""Every lesson recorded as `record` does it shows the numbers plain PyTorch computes.

The oracle is the same lesson run without the tracer (in this process, through runpy):
its globals and its printed output. A traced run must print exactly the same text. Both run in this
process, once per session (the runner's record(), what `record`'s child runs); the command line itself is
tested in test_record_cli.py.
"""

import json
import math
import os
import random
import re

import pytest
import torch

from backprop_studio.core import lessons
from tests.util import LESSONS, nodes

pytestmark = pytest.mark.e2e
INDEX = lessons.load()
NAMES = [item["name"] for item in INDEX.lessons]

# Lessons whose checks read forward values or per-node gradients of later iterations are recorded at full
# detail; the others' checks (names, signatures, losses, output) hold at record's default (auto), whose
# recordings the doctor's tests read too; dynamic_net's signature of every iteration needs light at least.
FULL = {"autograd_basics", "while_doubling", "grad_2x_squared", "gradient_descent_x2", "poly_autograd",
        "legendre_custom_function", "autograd_application", "lenet_cifar"}
DETAIL = {**dict.fromkeys(FULL, "full"), "dynamic_net": "light"}


@pytest.fixture
def plain(plain_run):
    """Globals and stdout of a lesson run as plain Python, in this process (once per session)."""
    return lambda name: plain_run(os.path.join(LESSONS, f"{name}.py"))


@pytest.fixture
def traced(recorded):
    """The lesson recorded as `record` does it, exported as JSON (once per session, in this process)."""

    def get(name: str) -> dict:
        data = recorded.data(os.path.join(LESSONS, f"{name}.py"), detail=DETAIL.get(name, "auto"))
        assert data["status"] == "finished", data["error"]
        return data

    return get


def leaf(it: dict, name: str) -> dict:
    (n,) = [n for n in it["graph"]["nodes"] if n["name"] == name and n["kind"] in ("leaf", "param")]
    return n


def printed_losses(stdout: str) -> dict[int, float]:
    return {int(m[1]): float(m[2]) for m in re.finditer(r"^(\d+),? ([-+0-9.e]+)$", stdout, re.M)}


@pytest.mark.parametrize("name", NAMES)
def test_lesson_prints_what_plain_python_prints(plain, traced, name):
    """The tracer never changes the run: identical output, and the right iteration count."""
    g, stdout = plain(name)
    data = traced(name)
    assert data["console"] == stdout
    lesson = INDEX.get(name)
    assert (len(data["iterations"]) > 0) == lesson["backward"]
    for index, loss in printed_losses(stdout).items():
        if name.startswith(("twolayer", "dynamic", "poly", "lenet")) and index < len(data["iterations"]):
            assert data["iterations"][index]["loss"] == loss, (name, index)


def test_autograd_basics(plain, traced):
    g, _ = plain("autograd_basics")
    (it,) = traced("autograd_basics")["iterations"]
    assert sorted(n["op"] for n in it["graph"]["nodes"]) == [
        "AccumulateGrad", "AddBackward0", "MeanBackward0", "MulBackward0", "MulBackward0"]
    x = leaf(it, "x")
    assert x["grad"]["values"] == g["x"].grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]
    (add,) = nodes(it, op="AddBackward0")
    assert add["value"]["values"] == g["y"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    (mean,) = nodes(it, op="MeanBackward0")
    assert mean["value"]["values"] == g["out"].item() == 27.0 and mean["grad"]["values"] == 1.0


def test_while_doubling(plain, traced):
    g, _ = plain("while_doubling")
    (it,) = traced("while_doubling")["iterations"]
    doublings = round(math.log2((g["y"] / g["x"])[0].item()))
    assert len(nodes(it, op="MulBackward0")) == doublings
    assert leaf(it, "x")["grad"]["values"] == g["x"].grad.tolist()


def test_grad_2x_squared(traced):
    its = traced("grad_2x_squared")["iterations"]
    assert [leaf(it, "x")["grad"]["values"] for it in its] == [40.0, [40.0, 80.0]]


def test_gradient_descent_x2(plain, traced):
    g, _ = plain("gradient_descent_x2")
    its = traced("gradient_descent_x2")["iterations"]
    assert len(its) == 1000
    assert its[-1]["loss"] == g["y"].item()
    x_last = torch.tensor(leaf(its[-1], "x")["value"]["values"])
    grad_last = torch.tensor(leaf(its[-1], "x")["grad"]["values"])
    assert torch.equal(x_last - 0.01 * grad_last, g["x"].detach())  # the script's own update rule


@pytest.mark.parametrize("name, lr", [("poly_autograd", 1e-6), ("legendre_custom_function", 5e-6)])
def test_polynomial_leaves_and_final_coefficients(plain, traced, name, lr):
    g, _ = plain(name)
    its = traced(name)["iterations"]
    assert len(its) == 2000
    last = its[-1]
    for v in "abcd":
        n = leaf(last, v)
        updated = torch.tensor(n["value"]["values"]) - lr * torch.tensor(n["grad"]["values"])
        assert updated.item() == g[v].item(), v
    if name.startswith("legendre"):
        (custom,) = nodes(last, kind="custom")
        assert custom["op"] == "LegendrePolynomial3Backward"


def test_twolayer_myrelu_custom_node_and_weights(traced):
    its = traced("twolayer_myrelu")["iterations"]
    assert len(its) == 500
    (custom,) = nodes(its[0], kind="custom")
    assert custom["op"] == "MyReLUBackward"
    assert {leaf(its[0], "w1")["shape"] == [1000, 100], leaf(its[0], "w2")["shape"] == [100, 10]} == {True}


@pytest.mark.parametrize("name", ["poly_nn", "poly_optim_rmsprop", "twolayer_nn", "twolayer_optim_adam",
                                  "twolayer_custom_module"])
def test_module_lessons_name_parameters(traced, name):
    its = traced(name)["iterations"]
    params = {n["name"] for n in its[0]["graph"]["nodes"] if n["kind"] == "param"}
    expected = {"poly_nn": {"0.weight", "0.bias"}, "poly_optim_rmsprop": {"0.weight", "0.bias"},
                "twolayer_nn": {"0.weight", "0.bias", "2.weight", "2.bias"},
                "twolayer_optim_adam": {"0.weight", "0.bias", "2.weight", "2.bias"},
                "twolayer_custom_module": {"linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"}}
    assert params == expected[name]
    if "optim" in name:
        assert [it["optimizer_steps"] for it in its[:3]] == [0, 1, 2]


def test_dynamic_net_signature_per_depth(traced):
    its = traced("dynamic_net")["iterations"]
    r = random.Random(0)
    depths = [r.randint(0, 3) for _ in range(len(its))]
    sig_of_depth: dict = {}
    for it, depth in zip(its, depths, strict=True):
        assert sig_of_depth.setdefault(depth, it["signature"]) == it["signature"]
    assert len(set(sig_of_depth.values())) == len(sig_of_depth) == len(set(depths))
    count = {d: len(it["graph"]["nodes"]) for it, d in zip(its, depths, strict=True)}
    assert [count[d] for d in sorted(count)] == sorted(count.values())  # deeper, bigger
    shared = [n for n in its[depths.index(3)]["graph"]["nodes"] if n["name"] == "middle_linear.weight"]
    assert len(shared) == 1  # weight sharing: one parameter node used three times


def test_linear_regression_dataloader(traced):
    data = traced("linear_regression_dataloader")
    its = data["iterations"]
    assert len(its) == 100 * math.ceil(100 / 16)
    assert [it["optimizer_steps"] for it in its] == list(range(len(its)))
    assert {n["name"] for n in its[0]["graph"]["nodes"] if n["kind"] == "param"} == {"weight", "bias"}


def test_autograd_application(plain, traced):
    g, _ = plain("autograd_application")
    (it,) = traced("autograd_application")["iterations"]
    assert leaf(it, "w")["grad"]["values"] == g["w"].grad.tolist()
    assert leaf(it, "b")["grad"]["values"] == g["b"].grad.tolist()


def test_lenet_cifar(plain, traced):
    """Every parameter's gradient in the last iteration is the one plain PyTorch left in .grad."""
    g, stdout = plain("lenet_cifar")
    its = traced("lenet_cifar")["iterations"]
    assert len(its) == 60 == len(printed_losses(stdout))
    assert [it["optimizer_steps"] for it in its] == list(range(60))
    ops = [n["op"] for n in its[0]["graph"]["nodes"]]
    assert (ops.count("ConvolutionBackward0"), ops.count("MaxPool2DWithIndicesBackward0"),
            ops.count("AddmmBackward0"), ops.count("ReluBackward0")) == (2, 2, 3, 4)
    modules = {n["module"] for n in its[0]["graph"]["nodes"] if n["kind"] == "op"}
    assert modules == {name for name, _ in g["net"].named_children()} | {"CrossEntropyLoss"}  # every op in a layer
    net, last = g["net"], its[-1]
    for name, p in net.named_parameters():
        n = leaf(last, name)
        assert (n["shape"], n["module"]) == (list(p.shape), name.split(".")[0])
        assert n["grad"]["norm"] == pytest.approx(p.grad.norm().item(), rel=1e-6), name
        if p.numel() <= 64:
            assert n["grad"]["values"] == p.grad.tolist(), name


def test_index_lists_every_seed_example():
    names = set(NAMES)
    assert {"autograd_basics", "while_doubling", "grad_2x_squared", "gradient_descent_x2", "detach",
            "poly_numpy", "poly_tensors", "poly_autograd", "legendre_custom_function", "poly_nn",
            "poly_optim_rmsprop", "twolayer_numpy", "twolayer_tensors", "twolayer_autograd",
            "twolayer_myrelu", "twolayer_nn", "twolayer_optim_adam", "twolayer_custom_module",
            "dynamic_net", "linear_regression_dataloader", "lenet_cifar"} <= names
    json.dumps(INDEX.lessons, ensure_ascii=False)
