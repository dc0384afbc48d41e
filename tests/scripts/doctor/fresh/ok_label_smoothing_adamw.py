# An image classifier with label smoothing, AdamW with decoupled weight decay and no decay on biases / norms.
import torch
import torch.nn as nn

torch.manual_seed(27)
x = torch.randn(160, 1, 14, 14)
y = (x[:, 0, :7].mean((1, 2)) > x[:, 0, 7:].mean((1, 2))).long() * 2 + (x[:, 0, :, :7].mean((1, 2)) > 0).long()

model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.GroupNorm(2, 8), nn.GELU(), nn.MaxPool2d(2),
                      nn.Conv2d(8, 16, 3), nn.GELU(), nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * 4 * 4, 4))
decay = [p for n, p in model.named_parameters() if p.dim() > 1]
no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=2e-3)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
model.train()
for _ in range(3):
    for xb, yb in zip(x.split(32), y.split(32), strict=True):
        opt.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        opt.step()
