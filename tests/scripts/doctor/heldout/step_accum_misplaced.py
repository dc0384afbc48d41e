"""Bug: gradient accumulation with zero_grad() placed before step(): each step sees no gradient."""
# expect: step-without-grad 1 optimizer
import torch
from torch import nn

torch.manual_seed(6)
model = nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = torch.randn(64, 5), torch.randn(64, 1)
accumulate = 2
for i in range(12):
    k = i % 4
    loss = nn.functional.mse_loss(model(x[16 * k:16 * k + 16]), y[16 * k:16 * k + 16]) / accumulate
    loss.backward()
    if (i + 1) % accumulate == 0:
        optimizer.zero_grad()
        optimizer.step()
