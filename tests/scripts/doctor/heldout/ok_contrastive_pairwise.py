"""Correct: a SimCLR-style contrastive loss: an (N, N) similarity matrix is intended here, and a
pairwise-distance uniformity term built by broadcasting (N, 1, D) against (1, N, D)."""
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(36)
encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 8))
optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-3)
x = torch.randn(16, 10)
for _ in range(5):
    a = F.normalize(encoder(x + 0.1 * torch.randn_like(x)), dim=1)
    b = F.normalize(encoder(x + 0.1 * torch.randn_like(x)), dim=1)
    logits = a @ b.T / 0.5
    nce = F.cross_entropy(logits, torch.arange(16))
    dist = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
    uniformity = torch.exp(-2 * dist).mean().log()
    loss = nce + 0.1 * uniformity
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
