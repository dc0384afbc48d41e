"""Correct: fine-tuning with the batch norm statistics frozen (only the BatchNorm layers in eval mode)."""
import torch
from torch import nn

torch.manual_seed(32)
model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8),
                      nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(8, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = torch.randn(8, 3, 10, 10), torch.randint(0, 3, (8,))
model.train()
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
for _ in range(5):
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
