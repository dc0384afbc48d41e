"""Tracer unit tests: graphs, names, values and gradients against plain torch."""

import math

import networkx as nx
import pytest
import torch
from torch import nn

from backprop_studio.core.iteration import Iteration
from tests.util import trace


def by_op(it: Iteration, op: str) -> list[dict]:
    return [a for _, a in it.graph.nodes(data=True) if a["op"] == op]


def one(it: Iteration, **match) -> dict:
    hits = [a for _, a in it.graph.nodes(data=True) if all(a.get(k) == v for k, v in match.items())]
    assert len(hits) == 1, hits
    return hits[0]


def test_autograd_basics_graph_values_and_grads():
    def run():
        x = torch.ones(2, 2, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        out.backward()

    (it,) = trace(run)
    g = it.graph
    ops = sorted(a["op"] for _, a in g.nodes(data=True))
    assert ops == ["AccumulateGrad", "AddBackward0", "MeanBackward0", "MulBackward0", "MulBackward0"]
    assert [n for n in g if g.out_degree(n) == 0] == ["n0"]  # the loss is the only sink
    assert nx.is_directed_acyclic_graph(g)
    x = one(it, op="AccumulateGrad")
    assert (x["name"], x["kind"]) == ("x", "leaf")
    assert x["value"]["values"] == [[1.0, 1.0], [1.0, 1.0]]
    assert x["grad"]["values"] == [[4.5, 4.5], [4.5, 4.5]]
    add = one(it, op="AddBackward0")
    assert add["name"] == "y" and add["value"]["values"] == [[3.0, 3.0], [3.0, 3.0]]
    mean = one(it, op="MeanBackward0")
    assert mean["name"] == "out" and mean["value"]["values"] == 27.0 and mean["grad"]["values"] == 1.0
    assert it.loss == 27.0
    # forward edges: x -> add -> mul ... -> mean
    assert g.has_edge(next(n for n, a in g.nodes(data=True) if a["op"] == "AccumulateGrad"),
                      next(n for n, a in g.nodes(data=True) if a["op"] == "AddBackward0"))


def test_gradients_match_plain_torch_per_node():
    """Each node's recorded gradient equals the gradient torch computes for that tensor."""
    torch.manual_seed(0)
    a0 = torch.randn(3, 4)

    def run():
        a = a0.clone().requires_grad_()
        h = torch.tanh(a @ a.T)
        h.retain_grad()
        s = (h * 2).sum()
        s.backward()
        run.h_grad = h.grad.clone()
        run.a_grad = a.grad.clone()

    (it,) = trace(run)
    tanh = one(it, op="TanhBackward0")
    assert torch.allclose(torch.tensor(tanh["grad"]["values"]), run.h_grad)
    leaf = one(it, name="a")
    assert torch.allclose(torch.tensor(leaf["grad"]["values"]), run.a_grad)
    assert math.isclose(leaf["grad"]["norm"], run.a_grad.norm().item(), rel_tol=1e-6)
    assert math.isclose(tanh["value"]["std"], torch.tanh(a0 @ a0.T).std(correction=0).item(), rel_tol=1e-5)


def test_while_loop_one_mul_per_doubling_and_vector_backward():
    torch.manual_seed(1)
    x0 = torch.rand(3)

    def run():
        x = x0.clone().requires_grad_()
        y = x * 2
        doublings = 1
        while y.data.norm() < 1000:
            y = y * 2
            doublings += 1
        y.backward(torch.tensor([0.1, 1.0, 0.0001]))
        run.doublings, run.grad = doublings, x.grad.clone()

    (it,) = trace(run)
    assert len(by_op(it, "MulBackward0")) == run.doublings
    plain = x0.clone().requires_grad_()
    yp = plain * 2
    while yp.data.norm() < 1000:
        yp = yp * 2
    yp.backward(torch.tensor([0.1, 1.0, 0.0001]))
    recorded = torch.tensor(one(it, op="AccumulateGrad")["grad"]["values"])
    assert torch.equal(recorded, plain.grad) and torch.equal(run.grad, plain.grad)
    assert it.loss is None  # a non-scalar root has no loss


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inp):
        ctx.save_for_backward(inp)
        return inp**3

    @staticmethod
    def backward(ctx, grad_output):
        (inp,) = ctx.saved_tensors
        return grad_output * 3 * inp**2


def test_custom_function_kind_name_and_leaf_names():
    def run():
        x = torch.linspace(-1, 1, 50)
        a = torch.tensor(0.1, requires_grad=True)
        b = torch.tensor(-1.0, requires_grad=True)
        c = torch.tensor(0.0, requires_grad=True)
        d = torch.tensor(0.3, requires_grad=True)
        y_pred = a + b * Cube.apply(c + d * x)
        loss = (y_pred - torch.sin(x)).pow(2).sum()
        loss.backward()

    (it,) = trace(run)
    custom = one(it, kind="custom")
    assert custom["op"] == "CubeBackward"
    leaves = sorted(a["name"] for _, a in it.graph.nodes(data=True) if a["kind"] == "leaf")
    assert leaves == ["a", "b", "c", "d"]
    assert set(it.params) == {"a", "b", "c", "d"}


def test_parameter_names_nested_modules_and_optimizer_steps():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

        def forward(self, x):
            return self.features(x)

    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    xs = torch.randn(5, 4)

    def run():
        for _ in range(3):
            loss = net(xs).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    its = trace(run)
    assert [it.optimizer_steps for it in its] == [0, 1, 2]
    params = {a["name"] for _, a in its[0].graph.nodes(data=True) if a["kind"] == "param"}
    assert params == {"features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias"}
    w = one(its[0], name="features.0.weight")
    assert w["module"] == "features.0"
    relu = one(its[0], op="ReluBackward0")
    assert relu["module"] == "features.1"


def test_forward_values_are_captured_around_optimizer_steps_with_and_without_a_closure():
    """The capture is off during a plain step (its tensor calls are no forward ops) and back for the next
    forward; a closure's forward runs inside step and is captured there."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    xs = torch.randn(6, 3)
    sgd = torch.optim.SGD(net.parameters(), lr=0.1)
    lbfgs = torch.optim.LBFGS(net.parameters(), max_iter=1)

    def closure():
        lbfgs.zero_grad()
        loss = net(xs).pow(2).mean()
        loss.backward()
        return loss

    def run():
        for _ in range(2):
            sgd.zero_grad()
            net(xs).pow(2).mean().backward()
            sgd.step()
        lbfgs.step(closure)

    its = trace(run)
    assert len(its) == 3
    for it in its:
        tanh = one(it, op="TanhBackward0")
        assert tanh["value"] is not None and tanh["source"] is not None
        assert tanh["value"]["max"] <= 1.0


def test_sequential_names_and_transformer_parameter_names():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                                enable_nested_tensor=False)

    def run():
        model(torch.randn(4, 3)).sum().backward()
        enc(torch.randn(2, 3, 8)).pow(2).mean().backward()

    seq, tr = trace(run, detail="light")
    assert {a["name"] for _, a in seq.graph.nodes(data=True) if a["kind"] == "param"} == {"0.weight", "0.bias"}
    names = {a["name"] for _, a in tr.graph.nodes(data=True) if a["kind"] == "param"}
    assert "layers.1.self_attn.in_proj_weight" in names and "layers.0.linear1.weight" in names
    assert len(names) == len(list(enc.parameters()))


def test_two_models_with_the_same_parameter_names_are_told_apart_by_their_variables():
    """A GAN's generator and discriminator both have `0.weight`: each is named by its variable, so
    their rows never overwrite each other; a lone model keeps its plain names."""
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))  # noqa: N806 - the script's own names
    D = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))  # noqa: N806

    def run():
        fake = G(torch.randn(5, 2))
        D(fake.detach()).mean().backward()
        D(fake).mean().backward()

    d_step, g_step = trace(run, detail="light")
    assert sorted(d_step.params) == ["D.0.bias", "D.0.weight", "D.2.bias", "D.2.weight"]
    assert sorted(g_step.params) == sorted(f"{m}.{i}.{p}" for m in "DG" for i in (0, 2) for p in ("bias", "weight"))
    assert one(g_step, name="G.0.weight")["grad"]["norm"] == pytest.approx(G[0].weight.grad.norm().item(), rel=1e-6)
    lone = nn.Sequential(nn.Linear(2, 1))
    (it,) = trace(lambda: lone(torch.randn(3, 2)).sum().backward(), detail="light")
    assert sorted(it.params) == ["0.bias", "0.weight"]


def test_dynamic_graph_signature_changes_with_depth():
    torch.manual_seed(0)
    lin, mid = nn.Linear(4, 4), nn.Linear(4, 4)
    x = torch.randn(2, 4)

    def run():
        for depth in (0, 2, 0, 3):
            h = lin(x).clamp(min=0)
            for _ in range(depth):
                h = mid(h).clamp(min=0)
            h.sum().backward()

    its = trace(run, detail="light")
    sigs = [it.signature for it in its]
    assert sigs[0] == sigs[2] and len({sigs[0], sigs[1], sigs[3]}) == 3


def test_gradient_accumulation_records_each_backward_contribution():
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    xs = [torch.randn(3) for _ in range(3)]

    def run():
        for x in xs:
            (w * x).sum().backward()

    its = trace(run)
    assert len(its) == 3
    for it, x in zip(its, xs, strict=True):
        leaf = one(it, op="AccumulateGrad")
        assert torch.allclose(torch.tensor(leaf["grad"]["values"]), x)  # this backward's part, not .grad
    assert torch.allclose(w.grad, sum(xs))


def test_autograd_grad_is_an_iteration_with_input_grads():
    def run():
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x**3).sum()
        (gx,) = torch.autograd.grad(y, x)
        run.gx = gx

    (it,) = trace(run)
    leaf = one(it, op="AccumulateGrad")
    assert leaf["grad"]["values"] == run.gx.tolist() == [3.0, 12.0]


def test_nan_and_inf_are_counted_in_summaries():
    def run():
        x = torch.tensor([1.0, -1.0, 0.0], requires_grad=True)
        y = torch.log(x)  # nan, -inf
        y.sum().backward()

    (it,) = trace(run)
    log = one(it, op="LogBackward0")
    assert log["value"]["nan"] == 1 and log["value"]["inf"] == 1
    leaf = one(it, op="AccumulateGrad")
    assert leaf["grad"]["inf"] == 1  # d/dx log x at 0


@pytest.mark.parametrize("detail", ["full", "light", "auto"])
def test_traced_losses_equal_untraced_bit_for_bit(detail):
    def train():
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        x, y = torch.randn(32, 6), torch.randn(32, 1)
        losses = []
        for _ in range(5):
            loss = nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    plain = train()
    box = {}
    its = trace(lambda: box.setdefault("l", train()), detail=detail)
    assert box["l"] == plain
    assert [it.loss for it in its] == plain


def test_no_backward_means_no_iterations_and_hooks_are_removed():
    before = torch.Tensor.backward
    its = trace(lambda: torch.ones(3).sum())
    assert its == [] and torch.Tensor.backward is before
