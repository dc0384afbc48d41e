"""Correct: L-BFGS with a closure (several forward/backward passes per step, zero_grad in each)."""
import torch
from torch import nn

torch.manual_seed(38)
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=4)
x = torch.rand(50, 2) * 2 - 1
y = (x[:, :1] ** 2 + x[:, 1:]).detach()


def closure():
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    return loss


for _ in range(3):
    optimizer.step(closure)
