"""Correct: mixed precision on the CPU (torch.autocast with bfloat16) for a small MLP classifier."""
import torch
from torch import nn

torch.manual_seed(29)
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
for _ in range(6):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
