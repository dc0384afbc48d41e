"""Correct: AdamW with a linear warm-up from 1e-7 (LambdaLR), then a constant rate."""
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(10, 32), nn.GELU(), nn.Linear(32, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
warmup = 20
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(1e-4, min(1.0, s / warmup)))
x = torch.randn(128, 10)
y = x[:, :1] * 2 - x[:, 1:2]
for _step in range(30):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
