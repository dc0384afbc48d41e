"""Correct: a classifier with batch norm and dropout, SGD with Nesterov momentum; the loss falls.
(The first doctor called it `exploding`: its median update/weight ratio is about 0.1.)"""
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5),
                      nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=1.3, momentum=0.9, nesterov=True)
centers = torch.randn(4, 20) * 2
y = torch.randint(0, 4, (256,))
x = centers[y] + torch.randn(256, 20)
for epoch in range(5):
    for k in range(0, 256, 64):
        loss = nn.functional.cross_entropy(model(x[k:k + 64]), y[k:k + 64])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(epoch, loss.item())
