"""Bug: a deep stack of sigmoids with a small init; the first layers' gradients vanish."""
# expect: vanishing - 0.weight
import torch
from torch import nn

torch.manual_seed(0)
layers = []
for _ in range(10):
    linear = nn.Linear(32, 32)
    nn.init.normal_(linear.weight, std=0.01)
    layers += [linear, nn.Sigmoid()]
model = nn.Sequential(*layers, nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(64, 32), torch.randn(64, 1)
for _ in range(4):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
