"""A loss that turns NaN: log() of a prediction that can be negative.

Usage: python nan_loss.py [ITERATIONS]
"""
import sys

import torch
from torch import nn

torch.manual_seed(0)
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 3
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
x = torch.randn(16, 4)
y = torch.randn(16, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for i in range(iterations):
    pred = model(x)
    penalty = torch.log(pred).mean()  # NaN as soon as one prediction is negative
    loss = ((pred - y) ** 2).mean() + 0.1 * penalty
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(i, loss.item())
