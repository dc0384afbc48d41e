"""Bug: -log(1 - p) with p a saturating sigmoid: the loss turns inf once p rounds to 1."""
# expect: nonfinite - LogBackward0
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(16, 4)
for step in range(6):
    p = torch.sigmoid(model(x) + 8 * step)
    loss = -torch.log(1 - p).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(step, loss.item())
