"""Bug: log_softmax over dimension 0 (the batch) instead of the classes."""
# expect: softmax-dim 0 LogSoftmaxBackward0
import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
for _ in range(5):
    loss = F.nll_loss(F.log_softmax(model(x), dim=0), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
