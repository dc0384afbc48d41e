# House-price regression: the model outputs (N, 1), the target is (N,), and a hand-written L1 loss broadcasts.
# expect: broadcast - -
import torch
import torch.nn as nn

torch.manual_seed(6)
features = torch.randn(300, 6)
prices = features @ torch.tensor([3.0, -1.0, 0.5, 2.0, 0.0, 1.0]) + 0.2 * torch.randn(300)

model = nn.Sequential(nn.Linear(6, 32), nn.SiLU(), nn.Linear(32, 1))
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
for _ in range(3):
    for xb, yb in zip(features.split(50), prices.split(50), strict=True):
        pred = model(xb)
        loss = torch.abs(pred - yb).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
