"""Bug: the loss is computed in NumPy and wrapped in a new tensor: the model gets no gradient."""
# expect: detached-loss 0 loss
import numpy as np
import torch
from torch import nn

torch.manual_seed(12)
model = nn.Sequential(nn.Linear(3, 6), nn.Sigmoid(), nn.Linear(6, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x, y = torch.randn(20, 3), np.random.default_rng(0).normal(size=(20, 1))
for _ in range(4):
    pred = model(x).detach().numpy()
    loss = torch.tensor(np.mean((pred - y) ** 2), requires_grad=True)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
