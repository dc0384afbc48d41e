# A CNN with SGD + momentum and CosineAnnealingWarmRestarts stepped per batch (fractional epochs).
import torch
import torch.nn as nn

torch.manual_seed(21)
x = torch.randn(192, 3, 12, 12)
y = (x[:, 0].mean((1, 2)) > x[:, 1].mean((1, 2))).long()

model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
    nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=1e-3)
batches = len(x) // 32
for epoch in range(4):
    perm = torch.randperm(len(x))
    for i in range(batches):
        b = perm[i * 32:(i + 1) * 32]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[b]), y[b])
        loss.backward()
        opt.step()
        sched.step(epoch + i / batches)
