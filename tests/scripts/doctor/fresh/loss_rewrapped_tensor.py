# A small CNN whose loss is re-wrapped as a new tensor "to log it", so backward never reaches the model.
# expect: detached-loss - -
import torch
import torch.nn as nn

torch.manual_seed(3)
images = torch.randn(96, 1, 12, 12)
targets = torch.randint(0, 3, (96,))

net = nn.Sequential(nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 5 * 5, 3))
criterion = nn.CrossEntropyLoss()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
history = []
for _ in range(2):
    for xb, yb in zip(images.split(16), targets.split(16), strict=True):
        opt.zero_grad()
        loss = criterion(net(xb), yb)
        loss = torch.tensor(loss.item(), requires_grad=True)
        history.append(loss.item())
        loss.backward()
        opt.step()
