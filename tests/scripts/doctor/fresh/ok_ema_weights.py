# Training with an exponential moving average of the weights (torch.optim.swa_utils.AveragedModel):
# the EMA copy's parameters are updated by hand, never by an optimizer, and never get gradients.
import torch
import torch.nn as nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

torch.manual_seed(30)
x = torch.randn(256, 8)
y = (x[:, :4].sum(1) > x[:, 4:].sum(1)).float().unsqueeze(1)

model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
for _ in range(3):
    for xb, yb in zip(x.split(32), y.split(32), strict=True):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(xb), yb).backward()
        opt.step()
        ema.update_parameters(model)
with torch.no_grad():
    print("ema accuracy", ((ema(x) > 0).float() == y).float().mean().item())
