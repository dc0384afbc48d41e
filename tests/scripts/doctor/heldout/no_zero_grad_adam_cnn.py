"""Bug: a CNN trained with Adam and no zero_grad(): the gradients pile up across steps."""
# expect: grad-accumulates 1 -
import torch
from torch import nn

torch.manual_seed(14)
model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,))
for _ in range(5):
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
