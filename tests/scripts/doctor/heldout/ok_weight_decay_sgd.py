"""Correct: SGD with weight decay on the weights only (biases and norms in a group without decay)."""
import torch
from torch import nn

torch.manual_seed(30)
model = nn.Sequential(nn.Linear(12, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 2))
decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
optimizer = torch.optim.SGD([{"params": decay, "weight_decay": 1e-3}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=0.1, momentum=0.9)
x, y = torch.randn(48, 12), torch.randint(0, 2, (48,))
for _ in range(8):
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
