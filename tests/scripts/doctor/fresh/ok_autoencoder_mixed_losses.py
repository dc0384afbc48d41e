# A semi-supervised autoencoder: reconstruction (MSE) + L1 sparsity on the code + a classifier on the code.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(22)
centers = torch.randn(4, 24) * 2
labels = torch.randint(0, 4, (320,))
data = centers[labels] + 0.5 * torch.randn(320, 24)


class SemiAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(24, 32), nn.LeakyReLU(0.1), nn.Linear(32, 8))
        self.dec = nn.Sequential(nn.Linear(8, 32), nn.LeakyReLU(0.1), nn.Linear(32, 24))
        self.cls = nn.Linear(8, 4)

    def forward(self, x):
        code = self.enc(x)
        return code, self.dec(code), self.cls(code)


model = SemiAE()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
for _ in range(3):
    for xb, yb in zip(data.split(40), labels.split(40), strict=True):
        code, recon, logits = model(xb)
        loss = F.mse_loss(recon, xb) + 1e-3 * code.abs().mean() + 0.5 * F.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
