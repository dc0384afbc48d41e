"""Bug: a vanilla RNN trained with SGD at lr=2 on a sum-reduced loss: the loss grows without bound."""
# expect: exploding - loss
import torch
from torch import nn

torch.manual_seed(17)
rnn = nn.RNN(4, 16, batch_first=True)
head = nn.Linear(16, 1)
params = list(rnn.parameters()) + list(head.parameters())
optimizer = torch.optim.SGD(params, lr=2.0)
x, y = torch.randn(16, 8, 4) * 2, torch.randn(16, 1) * 5
for _ in range(12):
    h, _ = rnn(x)
    loss = nn.functional.mse_loss(head(h[:, -1]), y, reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
