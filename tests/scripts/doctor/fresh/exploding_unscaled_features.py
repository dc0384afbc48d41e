# Linear regression on unscaled features (values in the hundreds) with plain SGD: the loss diverges.
# expect: exploding - -
import torch
import torch.nn as nn

torch.manual_seed(9)
area = torch.rand(128, 1) * 300 + 50
rooms = torch.randint(1, 6, (128, 1)).float()
x = torch.cat([area, rooms], 1)
y = 2.0 * area + 10 * rooms + torch.randn(128, 1)

model = nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=1e-4)
for step in range(12):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    print(step, loss.item())
