"""Bug: model.eval() for a validation pass, and never model.train() again: dropout and batch norm
stay in evaluation mode while training."""
# expect: eval-mode 4 Sequential
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))
xv, yv = torch.randn(32, 8), torch.randint(0, 2, (32,))
model.train()
for _epoch in range(3):
    for k in range(4):
        loss = nn.functional.cross_entropy(model(x[16 * k:16 * k + 16]), y[16 * k:16 * k + 16])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val = nn.functional.cross_entropy(model(xv), yv)
