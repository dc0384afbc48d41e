"""Bug: a learning rate of 1e-7 for plain SGD: the weights and the loss do not move."""
# expect: lr-too-small 0 loss
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-7)
x, y = torch.randn(64, 8), torch.randn(64, 1)
for _ in range(100):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
