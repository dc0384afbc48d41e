"""A two-layer LSTM regressing the next value of noisy sine waves, with gradient clipping (no downloads).

Usage: python lstm.py [ITERATIONS]
"""

import sys

import torch
from torch import nn

torch.manual_seed(0)
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=24, num_layers=2, batch_first=True)
        self.head = nn.Linear(24, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
t = torch.linspace(0, 6.28, 21)
phases = torch.rand(16, 1) * 6.28
waves = torch.sin(t + phases) + 0.05 * torch.randn(16, 21)
x, y = waves[:, :20, None], waves[:, 20:]
for i in range(iterations):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    print(i, round(loss.item(), 4))
