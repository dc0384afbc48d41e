# An MLP on two moons where zero_grad was moved below backward "to keep things tidy".
# expect: step-without-grad - -
import math

import torch
import torch.nn as nn

torch.manual_seed(7)
n = 200
angle = torch.rand(n) * math.pi
upper = torch.stack([angle.cos(), angle.sin()], 1)
lower = torch.stack([1 - angle.cos(), 0.5 - angle.sin()], 1)
x = torch.cat([upper, lower]) + 0.1 * torch.randn(2 * n, 2)
y = torch.cat([torch.zeros(n), torch.ones(n)])

model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
criterion = nn.BCEWithLogitsLoss()
for _ in range(30):
    idx = torch.randint(0, 2 * n, (64,))
    loss = criterion(model(x[idx]).squeeze(1), y[idx])
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
