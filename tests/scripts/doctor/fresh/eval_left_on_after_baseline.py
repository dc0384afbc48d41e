# Baseline accuracy is measured with model.eval() before training, and the loop never calls model.train().
# expect: eval-mode - -
import torch
import torch.nn as nn

torch.manual_seed(8)
x = torch.randn(400, 10)
y = (x[:, :3].sum(1) > 0).long()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.3),
                                  nn.Linear(64, 2))

    def forward(self, inp):
        return self.body(inp)


def accuracy(model):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


net = Net()
print("baseline", accuracy(net))
opt = torch.optim.Adagrad(net.parameters(), lr=0.05)
for _ in range(3):
    for xb, yb in zip(x.split(50), y.split(50), strict=True):
        opt.zero_grad()
        nn.functional.cross_entropy(net(xb), yb).backward()
        opt.step()
