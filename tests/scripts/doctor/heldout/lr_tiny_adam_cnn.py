"""Bug: Adam with lr=1e-9 on a small CNN: each step moves the weights by about a billionth."""
# expect: lr-too-small 0 loss
import torch
from torch import nn

torch.manual_seed(7)
model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-9)
x, y = torch.randn(16, 3, 10, 10), torch.randint(0, 3, (16,))
for _ in range(80):
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
