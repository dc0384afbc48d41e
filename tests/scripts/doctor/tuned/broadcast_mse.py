"""Bug: the prediction is (N, 1), the target (N,): mse_loss broadcasts them to (N, N)."""
# expect: broadcast 0 ExpandBackward0
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.randn(32, 3)
y = x.sum(dim=1)  # (32,)
for _ in range(5):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
