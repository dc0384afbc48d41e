"""Correct: a shared trunk with a classification head and a regression head, losses weighted and summed."""
import torch
from torch import nn

torch.manual_seed(39)
trunk = nn.Sequential(nn.Linear(10, 32), nn.ReLU())
cls_head, reg_head = nn.Linear(32, 3), nn.Linear(32, 1)
params = [*trunk.parameters(), *cls_head.parameters(), *reg_head.parameters()]
optimizer = torch.optim.RMSprop(params, lr=1e-3)
x, c, r = torch.randn(40, 10), torch.randint(0, 3, (40,)), torch.randn(40, 1)
for _ in range(6):
    h = trunk(x)
    loss = nn.functional.cross_entropy(cls_head(h), c) + 0.5 * nn.functional.mse_loss(reg_head(h), r)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
