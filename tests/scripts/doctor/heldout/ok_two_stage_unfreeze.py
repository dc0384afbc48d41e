"""Correct: train the head with the backbone frozen, then unfreeze the backbone with a smaller lr."""
import torch
from torch import nn

torch.manual_seed(22)
backbone = nn.Sequential(nn.Linear(10, 32), nn.ReLU())
head = nn.Linear(32, 2)
backbone.requires_grad_(False)
optimizer = torch.optim.Adam([{"params": head.parameters(), "lr": 1e-2},
                              {"params": backbone.parameters(), "lr": 1e-3}])
x, y = torch.randn(32, 10), torch.randint(0, 2, (32,))
for step in range(10):
    if step == 5:
        backbone.requires_grad_(True)
    loss = nn.functional.cross_entropy(head(backbone(x)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
