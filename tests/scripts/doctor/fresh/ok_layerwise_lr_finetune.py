# Fine-tuning with discriminative learning rates: the "pretrained" backbone at lr 1e-4, the new head at 1e-2,
# with a StepLR halving both every epoch.
import torch
import torch.nn as nn

torch.manual_seed(31)
x = torch.randn(240, 16)
y = (x[:, :8].pow(2).sum(1) > 8).long()

backbone = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
head = nn.Linear(64, 2)
opt = torch.optim.SGD([{"params": backbone.parameters(), "lr": 1e-4},
                       {"params": head.parameters(), "lr": 1e-2}], momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
for _ in range(3):
    for xb, yb in zip(x.split(40), y.split(40), strict=True):
        opt.zero_grad()
        nn.functional.cross_entropy(head(backbone(xb)), yb).backward()
        opt.step()
    sched.step()
