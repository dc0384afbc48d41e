"""Bug: a CNN regressor's output squeezed to (N,), the target kept (N, 1): (pred - y) is (N, N)."""
# expect: broadcast 0 SubBackward0
import torch
from torch import nn

torch.manual_seed(1)
model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
images = torch.rand(24, 1, 8, 8)
target = images.mean(dim=(1, 2, 3)).unsqueeze(1)  # (24, 1)
for _ in range(5):
    pred = model(images).squeeze(1)  # (24,)
    loss = ((pred - target) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
