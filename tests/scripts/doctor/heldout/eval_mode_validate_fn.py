"""Bug: validate() switches the CNN to eval mode; the training loop calls model.train() only once,
before the first epoch."""
# expect: eval-mode 3 Sequential
import torch
from torch import nn

torch.manual_seed(11)
model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(24, 1, 8, 8), torch.randint(0, 3, (24,))


def validate():
    model.eval()
    with torch.no_grad():
        return nn.functional.cross_entropy(model(x[:8]), y[:8]).item()


model.train()
for _epoch in range(3):
    for k in range(3):
        loss = nn.functional.cross_entropy(model(x[8 * k:8 * k + 8]), y[8 * k:8 * k + 8])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    validate()
