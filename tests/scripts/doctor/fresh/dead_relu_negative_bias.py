# Someone initialised a hidden layer's bias to -5 "for sparsity": its ReLU never fires.
# expect: dead-units - -
import torch
import torch.nn as nn

torch.manual_seed(11)
x = torch.rand(300, 8)
y = x.sum(1, keepdim=True) + 0.05 * torch.randn(300, 1)


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 1)
        nn.init.constant_(self.fc2.bias, -5.0)

    def forward(self, inp):
        h = torch.relu(self.fc1(inp))
        h = torch.relu(self.fc2(h))
        return self.fc3(h)


model = Regressor()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for _ in range(4):
    for xb, yb in zip(x.split(60), y.split(60), strict=True):
        opt.zero_grad()
        nn.functional.mse_loss(model(xb), yb).backward()
        opt.step()
