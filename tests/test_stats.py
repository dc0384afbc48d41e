"""core.stats light batches: norms and NaN/Inf counts against plain torch, one transfer when finite."""

from __future__ import annotations

import math

import pytest
import torch

from backprop_studio.core.trace import stats


def light(tensors, extra=None):
    batch = stats.Batch(light=True)
    for t in tensors:
        batch.add(t)
    return batch.finish(extra)


def test_light_norms_match_torch_and_keep_shape_dtype_device():
    torch.manual_seed(0)
    ts = [torch.randn(256, 256), torch.randn(7, dtype=torch.float64), torch.randn(3, 5).t(),
          torch.randn(4, dtype=torch.float16), torch.randn(6, dtype=torch.bfloat16), torch.zeros(0)]
    loss = torch.tensor(2.5)
    before = stats.host_transfers
    out, host = light(ts, [loss])
    assert stats.host_transfers - before == 1
    assert host == [2.5]
    for t, s in zip(ts, out, strict=True):
        expect = torch.linalg.vector_norm(t.double()).item()
        assert s["norm"] == pytest.approx(expect, rel=1e-2 if t.dtype in (torch.float16, torch.bfloat16) else 1e-6)
        assert (s["nan"], s["inf"]) == (0, 0)
        assert s["shape"] == list(t.shape) and s["device"] == "cpu"
        assert s["dtype"] == str(t.dtype).removeprefix("torch.")
        assert "mean" not in s  # light detail: norms and NaN/Inf counts only


def test_light_counts_nan_and_inf_exactly():
    t = torch.tensor([1.0, float("nan"), float("inf"), float("-inf"), float("nan"), 2.0])
    fine = torch.tensor([3.0, 4.0])
    before = stats.host_transfers
    (bad, good), _ = light([t, fine])
    assert (bad["nan"], bad["inf"]) == (2, 2) and math.isnan(bad["norm"])
    assert good == {"shape": [2], "dtype": "float32", "device": "cpu", "norm": 5.0, "nan": 0, "inf": 0}
    assert stats.host_transfers - before == 2  # the second one only because a norm was not finite


def test_light_float32_overflow_gets_a_float64_norm():
    big = torch.full((4,), 3e38)
    (s,), _ = light([big])
    assert (s["nan"], s["inf"]) == (0, 0)
    assert s["norm"] == pytest.approx(6e38, rel=1e-6)


def test_light_odd_tensors_are_summarised_or_explained():
    ints = torch.arange(5)
    cplx = torch.tensor([3 + 4j, 0j])
    sparse = torch.sparse_coo_tensor([[0, 2]], [3.0, -4.0], (4,), check_invariants=True)
    meta = torch.empty(3, device="meta")
    out, _ = light([ints, cplx, sparse, meta])
    assert out[0]["norm"] == pytest.approx(torch.arange(5.0).norm().item())
    assert out[1]["norm"] == pytest.approx(5.0)
    assert out[2]["norm"] == pytest.approx(5.0)
    assert "norm" not in out[3] and "meta" in out[3]["note"]


def test_full_batch_is_unchanged_by_light_one():
    t = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    (s,) = stats.summarize([t])
    assert s["mean"] == 1.5 and s["min"] == -2.0 and s["max"] == 4.0
    assert s["values"] == [[1.0, -2.0], [3.0, 4.0]]
    assert s["std"] == pytest.approx(t.std(correction=0).item())


def test_name_of_dtypes_and_devices():
    assert stats.name_of(torch.float32) == "float32"
    assert stats.name_of(torch.device("cpu")) == "cpu"
    assert stats.name_of(torch.bfloat16) == "bfloat16"


@pytest.mark.parametrize("is_light", [True, False])
def test_a_batch_with_only_the_loss_gives_the_loss(is_light):
    batch = stats.Batch(light=is_light)
    before = stats.host_transfers
    assert batch.finish([torch.tensor(4.5, dtype=torch.float64)]) == ([], [4.5])
    assert stats.host_transfers - before == 1


def test_an_unnamed_leaf_at_light_detail_records(tmp_path):
    """A light iteration with no named leaf has nothing to summarise but the loss (once crashed)."""
    from backprop_studio.core.trace.tracer import Tracer

    its = []
    tracer = Tracer(its.append, detail="light")
    tracer.install()
    try:
        (torch.ones(3, requires_grad=True) * 2).sum().backward()
    finally:
        tracer.uninstall()
    assert [it.loss for it in its] == [6.0]


@pytest.mark.parametrize("light", [False, True])
def test_inf_without_nan_has_an_infinite_norm_and_mean(light):
    """A tensor of finite values and one +Inf: its norm and mean are inf, not NaN (no inf/inf scaling)."""
    for t in (torch.tensor([1.0, 2.0, math.inf]), torch.cat([torch.ones(100), torch.tensor([math.inf])]),
              torch.cat([torch.ones(5000), torch.tensor([math.inf])])):
        batch = stats.Batch(light=light)
        batch.add(t)
        (s,), _ = batch.finish()
        assert s["norm"] == math.inf and s["inf"] == 1 and s["nan"] == 0
        if not light:
            assert s["mean"] == math.inf and s["max"] == math.inf


def test_full_summaries_match_torch_for_every_size_and_layout():
    """Full batches: tiny, stacked, large (one-pass std on the CPU), views of one tensor reduced once,
    non-contiguous and half tensors, a constant tensor and one whose mean dwarfs its spread."""
    torch.manual_seed(0)
    w = torch.randn(300, 200)
    ts = [w, w.t(), torch.randn(40, 30)[:, ::3], torch.randn(5), torch.randn(2000), torch.randn(2000),
          torch.full((5000,), 0.7), 1000.0 + 1e-3 * torch.randn(9000), torch.randn(6000, dtype=torch.float64),
          torch.randn(3000, dtype=torch.float16), torch.randn(4, 5000).permute(1, 0)]
    batch = stats.Batch()
    for t in ts:
        batch.add(t)
    before = stats.host_transfers
    out, _ = batch.finish()
    assert stats.host_transfers - before == 1
    for t, s in zip(ts, out, strict=True):
        d = t.double()
        want = {"norm": torch.linalg.vector_norm(d), "mean": d.mean(), "std": d.std(correction=0),
                "min": d.min(), "max": d.max()}
        for k, v in want.items():
            assert s[k] == pytest.approx(v.item(), rel=1e-3 if t.dtype == torch.float16 else 1e-5, abs=1e-9), (k, t.shape)
        assert (s["nan"], s["inf"]) == (0, 0) and s["shape"] == list(t.shape)
    assert out[6]["std"] == 0.0


def test_views_of_the_same_elements_share_a_row_and_others_do_not():
    """A reshape and a transpose of one tensor read the same elements; a slice, a strided view and a
    same-sized tensor elsewhere do not."""
    torch.manual_seed(0)
    a = torch.randn(64, 100)
    ts = [a, a.reshape(100, 64), a.t(), a[:32], a[:, ::2], torch.randn(64, 100)]
    out = stats.summarize(ts)
    for t, s in zip(ts, out, strict=True):
        assert s["mean"] == pytest.approx(t.double().mean().item(), rel=1e-5)
        assert s["max"] == t.max().item() and s["shape"] == list(t.shape)
    assert out[0]["norm"] == out[1]["norm"] == out[2]["norm"] != out[5]["norm"]
    assert out[3]["norm"] < out[0]["norm"] and out[4]["norm"] < out[0]["norm"]


@pytest.mark.parametrize("one_pass", [True, False])
def test_large_tensor_rows_one_pass_and_two_pass_agree_with_torch(one_pass):
    """Both ways of taking a large tensor's std (one pass on the CPU, two on accelerators: run here on
    CPU tensors), mixed dtypes and a strided tensor: rows in FIELDS order, each row its own tensor's."""
    torch.manual_seed(0)
    ts = [torch.randn(300, 200), torch.randn(200, 300).t(), 3.0 + torch.randn(5000, dtype=torch.float64),
          torch.rand(7000)]
    rows, order = stats._large_stats(ts, [10, 11, 12, 13], one_pass=one_pass)
    assert sorted(order) == [10, 11, 12, 13] and rows.shape == (4, len(stats.FIELDS))
    for row, i in zip(rows.tolist(), order, strict=True):
        d = ts[i - 10].double()
        want = [torch.linalg.vector_norm(d), d.mean(), d.std(correction=0), d.min(), d.max(), 0, 0]
        assert row == pytest.approx([float(v) for v in want], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("is_light", [True, False])
def test_an_empty_batch_finishes(is_light):
    """A backward with nothing to summarise (no parameter, light detail) is still recorded: found when a
    one-pass list was bound only inside the per-device loop and every such backward failed to record."""
    out, host = stats.Batch(light=is_light).finish()
    assert (out, host) == ([], [])
    out, host = stats.Batch(light=is_light).finish([torch.tensor(1.5)])
    assert (out, host) == ([], [1.5])


def test_permuted_dense_blocks_on_the_host_match_torch():
    """Large host tensors go through numpy, a permutation or transpose of a dense block (at any offset
    in its storage) in memory order; a strided slice through torch: all against float64 torch."""
    torch.manual_seed(0)
    base, flat = torch.randn(8, 9, 10, 11), torch.randn(10_000, dtype=torch.float64)
    ts = [base.permute(3, 1, 0, 2), base[:, :, ::2], flat[7:7 + 88 * 90].view(88, 90).t(), 5.0 + base.transpose(0, 3)]
    for t, s in zip(ts, stats.summarize(ts), strict=True):
        d = t.double()
        assert s["norm"] == pytest.approx(torch.linalg.vector_norm(d).item(), rel=1e-6)
        assert s["mean"] == pytest.approx(d.mean().item(), rel=1e-5, abs=1e-9)
        assert s["std"] == pytest.approx(d.std(correction=0).item(), rel=1e-5)
        assert (s["min"], s["max"]) == (d.min().item(), d.max().item()) and s["shape"] == list(t.shape)


def test_full_detail_summarises_large_host_outputs_as_they_are_made_and_lets_them_go():
    """A large op output (capture.EARLY elements or more) is summarised when the op runs (against float64
    torch: the value the op made, not what an in-place op changed it to later; a view of all of it reuses
    that summary only while its elements are unchanged) and the capture does not hold it: an output
    autograd does not keep (a matmul's, read by a multiplication by a number) is freed in the forward, as
    in a plain run. Small outputs keep their values."""
    import weakref

    from tests.util import trace

    torch.manual_seed(0)
    lin = torch.nn.Linear(40, 512)
    x = torch.randn(300, 40)  # outputs of 153600 elements: above capture.EARLY
    made, refs = {}, []

    def step():
        h = lin(x)
        made["AddmmBackward0"] = h.detach().clone()
        refs.append(weakref.ref(h))
        y = h * 3.0
        made["MulBackward0"] = y.detach().clone()
        y.add_(1.0)  # in place, after MulBackward0's output was summarised
        made["AddBackward0"] = y.detach().clone()
        y[:10].zero_()  # through a view: y changes with no op output of its own
        out = y.view(-1) * 2.0  # ViewBackward0: all of y, changed since its summary
        made["ViewBackward0"] = y.detach().reshape(-1).clone()
        del h
        assert refs[0]() is None  # freed in the forward: nothing of ours held it
        out.sum().backward()

    (it,) = trace(step, detail="full")
    nodes = [a for _, a in it.graph.nodes(data=True)]
    for op, want in made.items():
        (s,) = [a["value"] for a in nodes if a["op"] == op and a["shape"] == list(want.shape)]
        d = want.double()
        assert s["norm"] == pytest.approx(torch.linalg.vector_norm(d).item(), rel=1e-6), op
        assert s["mean"] == pytest.approx(d.mean().item(), rel=1e-5, abs=1e-9), op
        assert s["std"] == pytest.approx(d.std(correction=0).item(), rel=1e-5), op
        assert (s["min"], s["max"]) == (d.min().item(), d.max().item()), op
    (total,) = [a for a in nodes if a["op"] == "SumBackward0"]
    assert total["value"]["values"] == pytest.approx(it.loss)  # small: its values kept


def test_a_view_does_not_reuse_a_summary_its_elements_outlived():
    """A view of all of a large output reuses that output's summary only while nothing changed the elements:
    here they change through another view (a slice zeroed) and a view of the view follows."""
    from tests.util import trace

    torch.manual_seed(0)
    lin = torch.nn.Linear(40, 512)
    x = torch.randn(300, 40)
    kept = {}

    def step():
        y = lin(x) * 3.0
        y.add_(1.0)
        flat = y.view(-1)  # all of y: y's summary
        y[:10].zero_()  # y changes through a slice, y itself not an op's output here
        total = flat.view(300, 512).sum()  # flat's grad_fn made anew: its value is y as it is now
        kept["y"] = y
        total.backward()

    (it,) = trace(step, detail="full")
    d = kept["y"].detach().double()
    for op in ("AsStridedBackward0", "ViewBackward0"):
        (s,) = [a["value"] for _, a in it.graph.nodes(data=True) if a["op"] == op]
        assert s["mean"] == pytest.approx(d.mean().item(), rel=1e-6), op
        assert s["min"] == d.min().item() and s["norm"] == pytest.approx(torch.linalg.vector_norm(d).item(), rel=1e-6)
