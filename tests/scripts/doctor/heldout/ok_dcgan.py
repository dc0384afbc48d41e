"""Correct: a tiny DCGAN (pytorch/examples style): transposed convs, batch norm, BCE, Adam(0.5, 0.999)."""
import torch
from torch import nn

torch.manual_seed(26)
netG = nn.Sequential(nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16), nn.ReLU(True),
                     nn.ConvTranspose2d(16, 1, 4, 2, 1, bias=False), nn.Tanh())
netD = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                     nn.Conv2d(16, 1, 4, 1, 0, bias=False), nn.Flatten())
criterion = nn.BCEWithLogitsLoss()
optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
real = torch.rand(8, 1, 8, 8) * 2 - 1
for _ in range(4):
    netD.zero_grad()
    err_real = criterion(netD(real), torch.ones(8, 1))
    err_real.backward()
    fake = netG(torch.randn(8, 8, 1, 1))
    err_fake = criterion(netD(fake.detach()), torch.zeros(8, 1))
    err_fake.backward()
    optD.step()
    netG.zero_grad()
    errG = criterion(netD(fake), torch.ones(8, 1))
    errG.backward()
    optG.step()
