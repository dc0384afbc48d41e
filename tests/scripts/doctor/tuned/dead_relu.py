"""Bug: the first layer's bias starts at -10, so its ReLU outputs zero for every sample: nothing before it learns."""
# expect: dead-units 0 (module 1)
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
nn.init.constant_(model[0].bias, -10.0)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(64, 4), torch.randn(64, 1)
for _ in range(8):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
