"""Bug: probabilities from softmax(dim=0) of (N, C) logits, then a hand-written cross-entropy."""
# expect: softmax-dim 0 SoftmaxBackward0
import torch
from torch import nn

torch.manual_seed(4)
model = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
x, y = torch.randn(40, 6), torch.randint(0, 4, (40,))
onehot = nn.functional.one_hot(y, 4).float()
for _ in range(5):
    probs = torch.softmax(model(x), dim=0)
    loss = -(onehot * torch.log(probs + 1e-9)).sum(dim=1).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
