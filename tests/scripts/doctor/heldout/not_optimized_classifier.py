"""Bug: the optimizer is given model.features.parameters() only; the classifier stays at its init."""
# expect: not-optimized 0 classifier.weight
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.classifier = nn.Linear(24, 4)

    def forward(self, x):
        return self.classifier(self.features(x))


torch.manual_seed(16)
net = Net()
optimizer = torch.optim.SGD(net.features.parameters(), lr=0.05, momentum=0.9)
x, y = torch.randn(10, 3, 8, 8), torch.randint(0, 4, (10,))
for _ in range(4):
    loss = nn.functional.cross_entropy(net(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
