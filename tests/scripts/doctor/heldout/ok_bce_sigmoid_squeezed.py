"""Correct: binary classification with the logits squeezed to (N,) to match the (N,) labels."""
import torch
from torch import nn

torch.manual_seed(42)
model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x = torch.randn(64, 5)
y = (x[:, 0] + x[:, 1] > 0).float()
for _ in range(8):
    loss = nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
