"""Real-world training code: the tracer never changes the run. Oracle: the same code without it."""

from __future__ import annotations

import pytest
import torch

from tests.util import trace


def no_grad_view_then_inplace() -> tuple[float, float]:
    """What transformers' weight initialisation does: a view made under no_grad, its base changed in
    place with grad enabled, the view used again under no_grad. Reading that view's grad_fn raises."""
    torch.manual_seed(0)
    w = torch.randn(4, 4, requires_grad=True)
    h = w * 1
    with torch.no_grad():
        v = h[0]
    h.mul_(2)
    with torch.no_grad():
        v.add_(1)
    loss = h.sum()
    loss.backward()
    return loss.item(), w.grad.sum().item()


@pytest.mark.parametrize("detail", ["full", "light", "auto"])
def test_a_no_grad_view_of_a_base_changed_in_place_runs_as_without_the_tracer(detail):
    plain = no_grad_view_then_inplace()
    box = {}
    its = trace(lambda: box.setdefault("out", no_grad_view_then_inplace()), detail=detail)
    assert box["out"] == plain
    assert len(its) == 1 and its[0].loss == plain[0]


def param_names(it) -> list[str]:
    return sorted(a["name"] for _, a in it.graph.nodes(data=True) if a["kind"] == "param")


def test_parameters_are_named_from_the_root_of_their_module_tree():
    """A LightningModule's training_step calls self.net(x): the names are net.0.weight, not 0.weight."""
    from torch import nn

    class Lit(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))

        def training_step(self, x):
            return self.net(x).pow(2).mean()

    def run():
        torch.manual_seed(0)
        lit = Lit()
        lit.training_step(torch.randn(5, 3)).backward()

    (it,) = trace(run, detail="light")
    assert param_names(it) == ["net.0.bias", "net.0.weight", "net.2.bias", "net.2.weight"]
    assert sorted(it.params) == ["net.0.bias", "net.0.weight", "net.2.bias", "net.2.weight"]


def test_tied_weights_are_one_node_with_both_names():
    from torch import nn

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.dec = nn.Linear(4, 10, bias=False)
            self.dec.weight = self.emb.weight

        def forward(self, ids):
            return self.dec(self.emb(ids))

    def run():
        torch.manual_seed(0)
        model = Tied()
        model(torch.tensor([1, 2, 3])).logsumexp(-1).sum().backward()
        run.grad = model.emb.weight.grad.norm().item()

    (it,) = trace(run, detail="full")
    assert param_names(it) == ["emb.weight, dec.weight"]
    (node,) = [a for _, a in it.graph.nodes(data=True) if a["kind"] == "param"]
    assert node["grad"]["norm"] == pytest.approx(run.grad, rel=1e-6)


@pytest.mark.e2e
def test_a_recording_whose_processes_were_all_killed_reads_as_failed(tmp_path):
    """SIGKILL of the whole `record` process group midway (the OOM killer, a closed laptop): the
    recording says it ended abruptly, never "running", and keeps every committed iteration."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from backprop_studio.core.recording.store import Recording
    from tests.util import ENDLESS, MAIN, cli, write_script

    script = write_script(tmp_path, ENDLESS)
    bps = str(tmp_path / "run.bps")
    proc = subprocess.Popen([sys.executable, MAIN, "record", "-o", bps, script], cwd=str(tmp_path),
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        seen = 0
        while seen < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
            if os.path.exists(bps):
                try:
                    rec = Recording(bps)
                    assert rec.status == "running"  # its writer is alive
                    seen = len(rec.indices())
                    rec.close()
                except Exception:  # noqa: BLE001 - the file is being created
                    seen = 0
        assert seen >= 10
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    out = str(tmp_path / "run.json")
    assert cli("export", bps, "--format", "json", "-o", out).returncode == 0
    with open(out, encoding="utf-8") as f:
        data = json.load(f)
    assert data["status"] == "failed" and "ended abruptly" in data["error"]["message"]
    its = data["iterations"]
    assert len(its) >= seen and [it["index"] for it in its] == list(range(len(its)))
    assert all(it["graph"]["nodes"] for it in its)
