"""Compatibility suite: real training code recorded with the defaults runs exactly as without the
tracer (printed losses equal bit for bit), with its graph on every iteration and the right names.

The libraries come from the test extras (requirements.txt): transformers, pytorch-lightning.
Models are built from configs with random weights: nothing is downloaded.

Both runs happen in this process: plain through runpy, traced as `record`'s child runs it (tests/util.py
script_state puts back what a script changes, torch.compile's caches included).
"""

from __future__ import annotations

import pytest

from tests.util import nodes, record_fast, run_plain, write_script

pytestmark = pytest.mark.e2e

SCRIPTS = {
    "bert": """
        import torch
        from transformers import BertConfig, BertForSequenceClassification
        torch.manual_seed(0)
        model = BertForSequenceClassification(BertConfig(vocab_size=200, hidden_size=32, num_hidden_layers=2,
                                                         num_attention_heads=2, intermediate_size=64))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        ids, labels = torch.randint(0, 200, (4, 16)), torch.randint(0, 2, (4,))
        for step in range(3):
            loss = model(input_ids=ids, labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            print("loss", repr(loss.item()))
    """,
    "gpt2": """
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel
        torch.manual_seed(0)
        model = GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=32, n_embd=32, n_layer=2, n_head=2))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        ids = torch.randint(0, 100, (2, 16))
        for step in range(3):
            loss = model(input_ids=ids, labels=ids).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            print("loss", repr(loss.item()))
    """,
    "lightning": """
        import torch
        from torch import nn
        import pytorch_lightning as pl
        torch.manual_seed(0)
        class Lit(pl.LightningModule):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
            def training_step(self, batch, batch_idx):
                x, y = batch
                loss = nn.functional.mse_loss(self.net(x), y)
                print("loss", repr(loss.item()))
                return loss
            def configure_optimizers(self):
                return torch.optim.SGD(self.parameters(), lr=0.1)
        x, y = torch.randn(32, 4), torch.randn(32, 1)
        data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
        trainer = pl.Trainer(max_epochs=2, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False)
        trainer.fit(Lit(), data)
    """,
    "amp": """
        import torch
        from torch import nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        scaler = torch.amp.GradScaler("cpu")
        x, y = torch.randn(16, 8), torch.randn(16, 1)
        for step in range(4):
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = nn.functional.mse_loss(model(x).float(), y)
            scaler.scale(loss).backward()
            scale = scaler.get_scale()  # the factor this backward ran with
            unscaled = model[0].weight.grad.norm().item() / scale
            scaler.step(opt)
            scaler.update()
            print("loss", repr(loss.item()), "scale", scale, "grad", unscaled)
    """,
    "lbfgs": """
        import torch
        torch.manual_seed(0)
        w = torch.randn(5, requires_grad=True)
        x, y = torch.randn(20, 5), torch.randn(20)
        opt = torch.optim.LBFGS([w], lr=0.5, max_iter=4)
        def closure():
            opt.zero_grad()
            loss = (x @ w - y).pow(2).mean()
            loss.backward()
            print("loss", repr(loss.item()))
            return loss
        for step in range(2):
            opt.step(closure)
    """,
    "gan": """
        import torch
        from torch import nn
        torch.manual_seed(0)
        gen = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        disc = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
        opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
        bce = nn.BCEWithLogitsLoss()
        real = torch.randn(16, 2) + 3
        for step in range(3):
            fake = gen(torch.randn(16, 2))
            opt_d.zero_grad()
            d_real = bce(disc(real), torch.ones(16, 1))
            d_real.backward()
            d_fake = bce(disc(fake.detach()), torch.zeros(16, 1))
            d_fake.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = bce(disc(fake), torch.ones(16, 1))
            g_loss.backward()
            opt_g.step()
            print("loss", repr(d_real.item()), repr(d_fake.item()), repr(g_loss.item()))
    """,
    "checkpoint": """
        import torch
        from torch import nn
        from torch.utils.checkpoint import checkpoint
        torch.manual_seed(0)
        block = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8))
        head = nn.Linear(8, 1)
        opt = torch.optim.SGD([*block.parameters(), *head.parameters()], lr=0.1)
        x = torch.randn(4, 8, requires_grad=True)
        for step in range(4):
            opt.zero_grad()
            h = checkpoint(block, x, use_reentrant=step % 2 == 0)
            loss = head(h).pow(2).mean()
            loss.backward()
            opt.step()
            print("loss", repr(loss.item()))
    """,
    "weight_norm": """
        import torch
        from torch import nn
        from torch.nn.utils.parametrizations import weight_norm
        torch.manual_seed(0)
        model = nn.Sequential(weight_norm(nn.Linear(4, 8)), nn.ReLU(), nn.Linear(8, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(16, 4), torch.randn(16, 1)
        for step in range(3):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            print("loss", repr(loss.item()))
    """,
    "compile": """
        import torch
        from torch import nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        fast = torch.compile(model, backend="aot_eager")
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(16, 4), torch.randn(16, 1)
        for step in range(3):
            opt.zero_grad()
            loss = nn.functional.mse_loss(fast(x), y)
            loss.backward()
            opt.step()
            print("loss", repr(loss.item()))
    """,
}


def printed(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("loss")]


def run_both(tmp_path, name: str) -> tuple[list[str], dict]:
    script = write_script(tmp_path, SCRIPTS[name], name=f"{name}.py")
    _, stdout = run_plain(script, cwd=str(tmp_path))
    proc, data = record_fast(tmp_path, script, detail="auto")
    assert data["status"] == "finished", proc.stderr
    want = printed(stdout)
    assert printed(proc.stdout) == want and want  # the same numbers, bit for bit (repr of each float)
    for it in data["iterations"]:
        assert it["graph"]["nodes"], it["index"]
        assert {n["id"] for n in it["graph"]["nodes"]} - {e["source"] for e in it["graph"]["edges"]} == {"n0"}
    return want, data


def param_names(it: dict) -> set[str]:
    return {n["name"] for n in nodes(it, kind="param")}


def losses(want: list[str], column: int = 1) -> list[float]:
    return [float(line.split()[column]) for line in want]


def test_bert_from_a_config_with_adamw(tmp_path):
    want, data = run_both(tmp_path, "bert")
    its = data["iterations"]
    assert [it["loss"] for it in its] == losses(want) and [it["optimizer_steps"] for it in its] == [0, 1, 2]
    from transformers import BertConfig, BertForSequenceClassification

    model = BertForSequenceClassification(BertConfig(vocab_size=200, hidden_size=32, num_hidden_layers=2,
                                                     num_attention_heads=2, intermediate_size=64))
    assert param_names(its[0]) == {name for name, _ in model.named_parameters()}  # 41, from the module tree


def test_gpt2_with_tied_embeddings(tmp_path):
    want, data = run_both(tmp_path, "gpt2")
    its = data["iterations"]
    assert [it["loss"] for it in its] == losses(want)
    names = param_names(its[0])
    assert "transformer.wte.weight, lm_head.weight" in names  # one node, both names
    assert not any(n in names for n in ("transformer.wte.weight", "lm_head.weight"))


def test_lightning_trainer_fit_names_parameters_from_the_lightning_module(tmp_path):
    want, data = run_both(tmp_path, "lightning")
    its = data["iterations"]
    assert len(its) == 8 and [it["loss"] for it in its] == losses(want)
    assert param_names(its[0]) == {"net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"}
    assert [it["optimizer_steps"] for it in its] == list(range(8))


def test_autocast_bfloat16_with_a_grad_scaler(tmp_path):
    want, data = run_both(tmp_path, "amp")
    its = data["iterations"]
    scales = losses(want, 3)
    assert len(its) == 4
    for it, loss, scale in zip(its, losses(want), scales, strict=True):
        # the root is scaler.scale(loss): the graph's gradients are scaled, the loss recorded is the script's
        assert it["loss"] == loss and it["grad_scale"] == scale
        (root,) = nodes(it, id="n0")
        assert root["op"] == "MulBackward0" and root["value"]["norm"] == pytest.approx(loss * scale, rel=1e-6)
    # parameter gradient norms unscaled: the same as the unscaled gradients of a plain run
    norms = {name: p["grad_norm"] for name, p in its[0]["params"].items()}
    assert norms["0.weight"] == pytest.approx(float(want[0].split()[5]), rel=1e-5)


def test_lbfgs_closure_each_backward_an_iteration_the_step_counted_once(tmp_path):
    want, data = run_both(tmp_path, "lbfgs")
    its = data["iterations"]
    assert [it["loss"] for it in its] == losses(want)
    steps = [it["optimizer_steps"] for it in its]
    assert steps[0] == 0 and steps[-1] == 1 and sorted(steps) == steps and set(steps) == {0, 1}
    assert len(its) > 2  # several backward passes per step


def test_gan_two_optimizers_three_backward_passes_per_loop(tmp_path):
    want, data = run_both(tmp_path, "gan")
    its = data["iterations"]
    flat = [float(x) for line in want for x in line.split()[1:]]
    assert len(its) == 9 and [it["loss"] for it in its] == flat
    # both models have 0.weight: each is named by its variable, so their rows never overwrite each other
    assert param_names(its[0]) == {f"disc.{i}.{p}" for i in (0, 2) for p in ("weight", "bias")}
    assert param_names(its[2]) == {f"{m}.{i}.{p}" for m in ("gen", "disc") for i in (0, 2) for p in ("weight", "bias")}
    assert [it["optimizer_steps"] for it in its] == [0, 0, 1, 2, 2, 3, 4, 4, 5]
    assert len(nodes(its[1], kind="param")) == 4  # fake.detach(): the generator is not in its graph


def test_activation_checkpointing_recomputation_is_not_an_iteration(tmp_path):
    want, data = run_both(tmp_path, "checkpoint")
    its = data["iterations"]
    assert len(its) == 4 and [it["loss"] for it in its] == losses(want)


def test_weight_norm_parametrization(tmp_path):
    want, data = run_both(tmp_path, "weight_norm")
    its = data["iterations"]
    assert [it["loss"] for it in its] == losses(want)
    names = param_names(its[0])
    assert {"0.parametrizations.weight.original0", "0.parametrizations.weight.original1", "0.bias"} <= names


def test_torch_compile(tmp_path):
    want, data = run_both(tmp_path, "compile")
    its = data["iterations"]
    assert len(its) == 3 and [it["loss"] for it in its] == losses(want)
