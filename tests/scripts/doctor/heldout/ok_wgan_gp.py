"""Correct: WGAN-GP: the critic's gradient penalty uses autograd.grad with create_graph=True."""
import torch
from torch import nn

torch.manual_seed(27)
G = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
D = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
optG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
optD = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.9))
real = torch.randn(16, 2) + 1
for _ in range(3):
    for _ in range(2):
        fake = G(torch.randn(16, 4)).detach()
        eps = torch.rand(16, 1)
        mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(D(mix).sum(), mix, create_graph=True)
        penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
        loss_d = D(fake).mean() - D(real).mean() + 10 * penalty
        optD.zero_grad()
        loss_d.backward()
        optD.step()
    loss_g = -D(G(torch.randn(16, 4))).mean()
    optG.zero_grad()
    loss_g.backward()
    optG.step()
