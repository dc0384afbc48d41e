"""Correct: SGD with momentum and a cosine schedule decaying to zero over the run."""
import torch
from torch import nn

torch.manual_seed(23)
model = nn.Sequential(nn.Linear(6, 24), nn.ReLU(), nn.Linear(24, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30, eta_min=0.0)
x = torch.randn(64, 6)
y = torch.sin(x[:, :1]) + x[:, 1:2]
for _ in range(30):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
