"""Bug: the loss is rebuilt from .item() as a fresh tensor: backward reaches no parameter."""
# expect: detached-loss 0 loss
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
x, y = torch.randn(32, 4), torch.randn(32, 1)
for _ in range(4):
    value = nn.functional.mse_loss(model(x), y).item()
    loss = torch.tensor(value, requires_grad=True)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
