"""Bug: a GRU forecaster predicts (N, 1), the targets are (N,): l1_loss broadcasts to (N, N)."""
# expect: broadcast 0 ExpandBackward0
import torch
from torch import nn


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(2, 12, batch_first=True)
        self.out = nn.Linear(12, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


torch.manual_seed(2)
net = Forecaster()
optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-3)
series = torch.randn(20, 10, 2)
nxt = series[:, -1, 0] * 0.5  # (20,)
for _ in range(4):
    loss = nn.functional.l1_loss(net(series), nxt)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
