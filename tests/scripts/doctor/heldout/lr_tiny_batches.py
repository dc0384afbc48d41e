"""Bug: SGD with momentum at lr=1e-8 over shuffled mini-batches: the loss only jitters with the batches."""
# expect: lr-too-small 0 loss
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(8)
model = nn.Sequential(nn.Linear(12, 24), nn.Tanh(), nn.Linear(24, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
x = torch.randn(256, 12)
y = (x[:, 0] > 0).long()
loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
for _epoch in range(12):
    for xb, yb in loader:
        loss = nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
