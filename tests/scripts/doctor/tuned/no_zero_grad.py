"""Bug: optimizer.zero_grad() forgotten; every step uses the sum of all gradients so far."""
# expect: grad-accumulates 1 -
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(32, 4), torch.randn(32, 1)
for _ in range(5):
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
