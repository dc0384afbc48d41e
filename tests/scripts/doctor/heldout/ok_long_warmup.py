"""Correct: a long linear warm-up from 0 (most of this short run is warm-up)."""
import torch
from torch import nn

torch.manual_seed(25)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
warmup = 40
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
x, y = torch.randn(32, 8), torch.randn(32, 1)
for _ in range(30):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
