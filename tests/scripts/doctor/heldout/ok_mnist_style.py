"""Correct: pytorch/examples MNIST style: conv, dropout, log_softmax(dim=1), nll_loss, Adadelta, StepLR."""
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 4, 3, 1), nn.Conv2d(4, 8, 3, 1)
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(8 * 4 * 4, 16), nn.Linear(16, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = self.dropout1(torch.flatten(x, 1))
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


torch.manual_seed(41)
model = Net()
optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
data, target = torch.randn(16, 1, 12, 12), torch.randint(0, 10, (16,))
for _epoch in range(3):
    model.train()
    for k in range(2):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data[8 * k:8 * k + 8]), target[8 * k:8 * k + 8])
        loss.backward()
        optimizer.step()
    scheduler.step()
