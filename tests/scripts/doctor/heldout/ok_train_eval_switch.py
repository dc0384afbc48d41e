"""Correct: each epoch trains in train mode and validates in eval mode under no_grad, then back."""
import torch
from torch import nn

torch.manual_seed(31)
model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))
for _epoch in range(3):
    model.train()
    for k in range(4):
        loss = nn.functional.cross_entropy(model(x[16 * k:16 * k + 16]), y[16 * k:16 * k + 16])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean()
