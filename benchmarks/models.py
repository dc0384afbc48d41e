"""The models the overhead benchmarks train: one training step each, plain PyTorch."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def mlp(layers: int = 20, width: int = 256, batch: int = 64) -> nn.Sequential:
    """A `layers`-deep ReLU MLP (106 autograd nodes at 20 layers)."""
    mods: list[nn.Module] = []
    for i in range(layers):
        mods.append(nn.Linear(width, width))
        if i < layers - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def encoder() -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


def build(name: str) -> tuple[nn.Module, torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """Model `name` (mlp20, cnn, transformer), its fixed input, and its loss of the model's output (seeded)."""
    torch.manual_seed(0)
    if name == "mlp20":
        model = mlp()
        x, y = torch.randn(64, 256), torch.randn(64, 256)
        return model, x, lambda out: nn.functional.mse_loss(out, y)
    if name == "cnn":
        model = small_cnn()
        x, labels = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
        return model, x, lambda out: nn.functional.cross_entropy(out, labels)
    if name == "transformer":
        model = encoder()
        return model, torch.randn(16, 32, 64), lambda out: out.pow(2).mean()
    raise ValueError(f"unknown model {name!r}")


def training_step(name: str, watcher: Callable | None = None) -> Callable[[], float]:
    """A closure running one SGD step of model `name` on fixed data. `watcher(model, x)`, when given, makes
    an object whose `forward(loss)` runs after the forward and `backward(loss)` after the backward (a peer
    tool's capture, benchmarks/peers.py)."""
    model, x, loss_of = build(name)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    watch = watcher(model, x) if watcher is not None else None

    def step() -> float:
        opt.zero_grad()
        loss = loss_of(model(x))
        if watch is not None:
            watch.forward(loss)
        loss.backward()
        if watch is not None:
            watch.backward(loss)
        opt.step()
        return 0.0

    return step
