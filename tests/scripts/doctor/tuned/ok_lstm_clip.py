"""Correct: an LSTM sequence regressor with clip_grad_norm_."""
import torch
from torch import nn

torch.manual_seed(0)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 16, num_layers=2, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(h[:, -1])


model = Model()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x, y = torch.randn(8, 12, 3), torch.randn(8, 1)
for _ in range(5):
    loss = nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
