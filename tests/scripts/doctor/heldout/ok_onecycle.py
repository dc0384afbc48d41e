"""Correct: OneCycleLR (warm-up from lr/25, then annealing) with Adam on a small CNN."""
import torch
from torch import nn

torch.manual_seed(24)
model = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 3 * 3, 4))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=24)
x, y = torch.randn(32, 1, 8, 8), torch.randint(0, 4, (32,))
for step in range(24):
    k = step % 4
    loss = nn.functional.cross_entropy(model(x[8 * k:8 * k + 8]), y[8 * k:8 * k + 8])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
