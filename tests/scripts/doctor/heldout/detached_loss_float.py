"""Bug: a logged float turned back into the loss (torch.tensor(float(loss), requires_grad=True))."""
# expect: detached-loss 0 loss
import torch
from torch import nn

torch.manual_seed(13)
model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = torch.randn(12, 1, 6, 6), torch.randint(0, 2, (12,))
history = []
for _ in range(4):
    history.append(float(nn.functional.cross_entropy(model(x), y)))
    loss = torch.tensor(history[-1], requires_grad=True)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
