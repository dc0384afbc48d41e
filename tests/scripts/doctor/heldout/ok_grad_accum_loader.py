"""Correct: gradient accumulation over 4 micro-batches from a DataLoader, clipping before the step."""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(28)
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
data = TensorDataset(torch.randn(128, 10), torch.randint(0, 3, (128,)))
accum = 4
optimizer.zero_grad()
for i, (xb, yb) in enumerate(DataLoader(data, batch_size=8)):
    loss = nn.functional.cross_entropy(model(xb), yb) / accum
    loss.backward()
    if (i + 1) % accum == 0:
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
