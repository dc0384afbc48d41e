"""Bug: a detach() cuts the encoder off from the loss; its parameters never get a gradient."""
# expect: no-grad 0 encoder.weight
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        h = torch.relu(self.encoder(x)).detach()
        return self.head(h)


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
x, y = torch.randn(32, 4), torch.randn(32, 1)
for _ in range(4):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
