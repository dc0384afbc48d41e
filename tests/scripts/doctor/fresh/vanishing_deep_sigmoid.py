# A 10-layer sigmoid MLP with default initialisation: the first layers hardly get any gradient.
# expect: vanishing - -
import torch
import torch.nn as nn

torch.manual_seed(10)
x = torch.randn(256, 16)
y = (x[:, 0] * x[:, 1] > 0).float().unsqueeze(1)

layers = []
width = 16
for _ in range(10):
    layers += [nn.Linear(width, 32), nn.Sigmoid()]
    width = 32
layers.append(nn.Linear(32, 1))
model = nn.Sequential(*layers)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(20):
    idx = torch.randint(0, 256, (64,))
    opt.zero_grad()
    loss = nn.functional.binary_cross_entropy_with_logits(model(x[idx]), y[idx])
    loss.backward()
    opt.step()
