# Adam on a network initialised with tiny weights (std 1e-3): relative updates are large at first, which is fine.
import torch
import torch.nn as nn

torch.manual_seed(25)
x = torch.randn(256, 12)
y = torch.sin(x[:, :1]) + 0.5 * x[:, 1:2]

model = nn.Sequential(nn.Linear(12, 48), nn.Tanh(), nn.Linear(48, 48), nn.Tanh(), nn.Linear(48, 1))
for m in model:
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=1e-3)
        nn.init.zeros_(m.bias)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for _ in range(40):
    idx = torch.randint(0, 256, (64,))
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x[idx]), y[idx])
    loss.backward()
    opt.step()
