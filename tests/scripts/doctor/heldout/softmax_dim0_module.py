"""Bug: nn.LogSoftmax(dim=0) at the end of a small CNN classifier: it normalises over the batch."""
# expect: softmax-dim 0 LogSoftmaxBackward0
import torch
from torch import nn

torch.manual_seed(3)
model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(6 * 4 * 4, 5), nn.LogSoftmax(dim=0))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 5, (16,))
for _ in range(4):
    loss = nn.NLLLoss()(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
