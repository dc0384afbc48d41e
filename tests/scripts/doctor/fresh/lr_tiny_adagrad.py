# A conv classifier trained with Adagrad at lr=1e-8 (a typo for 1e-2): nothing moves.
# expect: lr-too-small - -
import torch
import torch.nn as nn

torch.manual_seed(12)
x = torch.randn(120, 1, 10, 10)
y = (x.mean((1, 2, 3)) > 0).long()

model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
opt = torch.optim.Adagrad(model.parameters(), lr=1e-8)
for _ in range(5):
    for xb, yb in zip(x.split(40), y.split(40), strict=True):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
