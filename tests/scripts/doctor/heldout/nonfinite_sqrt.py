"""Bug: an RMSE written as sqrt(mean(err**2) - 1) goes negative once the fit improves: NaN."""
# expect: nonfinite - SqrtBackward0
import torch
from torch import nn

torch.manual_seed(18)
model = nn.Linear(3, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
x = torch.randn(32, 3)
y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
for _ in range(15):
    loss = torch.sqrt(((model(x) - y) ** 2).mean() - 1.0)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
