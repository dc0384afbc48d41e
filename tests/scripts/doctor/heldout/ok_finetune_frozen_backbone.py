"""Correct: fine-tuning a new head on a frozen backbone (requires_grad_(False), head in the optimizer)."""
import torch
from torch import nn

torch.manual_seed(20)
backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
backbone.requires_grad_(False)
backbone.eval()
head = nn.Linear(8, 5)
optimizer = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 5, (16,))
for _ in range(6):
    loss = nn.functional.cross_entropy(head(backbone(x)), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
