"""A 6-block conv/BatchNorm/ReLU CNN trained for 20 steps on random 3x32x32 images (no downloads)."""

import torch
from torch import nn

torch.manual_seed(0)


def block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
                         nn.BatchNorm2d(cout), nn.ReLU())


widths = [3, 16, 16, 32, 32, 64, 64]
model = nn.Sequential(*[block(widths[i], widths[i + 1], 2 if i % 2 else 1) for i in range(6)],
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for step in range(20):
    images = torch.randn(8, 3, 32, 32)
    labels = torch.randint(0, 10, (8,))
    loss = nn.functional.cross_entropy(model(images), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.4f}")
