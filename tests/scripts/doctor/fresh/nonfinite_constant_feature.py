# Per-batch standardisation of the inputs divides by a feature's std, which is 0 for a constant column.
# expect: nonfinite - -
import torch
import torch.nn as nn

torch.manual_seed(13)
x = torch.randn(200, 5)
x[:, 3] = 1.0  # a constant column (an "intercept" someone added)
y = x[:, :2].sum(1, keepdim=True)

model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for _ in range(10):
    idx = torch.randint(0, 200, (40,))
    xb = x[idx]
    xb = (xb - xb.mean(0)) / xb.std(0)
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(xb), y[idx])
    loss.backward()
    opt.step()
