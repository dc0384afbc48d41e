"""Correct: deliberate gradient accumulation (3 backward passes, one step, then zero_grad)."""
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)]
for _ in range(4):
    for x, y in batches:
        loss = nn.functional.mse_loss(model(x), y) / len(batches)
        loss.backward()
    optimizer.step()
    optimizer.zero_grad()
