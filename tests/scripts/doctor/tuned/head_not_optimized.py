"""Bug: the optimizer is built from the backbone only; the head added later never learns."""
# expect: not-optimized 0 head.weight
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Net()
optimizer = torch.optim.Adam(model.backbone.parameters(), lr=1e-3)
x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
for _ in range(4):
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
