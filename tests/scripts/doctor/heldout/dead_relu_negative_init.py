"""Bug: a conv layer initialised with negative weights on non-negative images: its ReLU is zero
everywhere and the layer before it never learns."""
# expect: dead-units 0 (module features.1)
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


torch.manual_seed(9)
net = Net()
with torch.no_grad():
    net.features[0].weight.uniform_(-0.5, -0.1)
    net.features[0].bias.fill_(-0.1)
optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
images, labels = torch.rand(16, 1, 10, 10), torch.randint(0, 4, (16,))
for _ in range(6):
    loss = nn.functional.cross_entropy(net(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
