"""Correct: attention pooling over the sequence in a sequence-first (T, N, C) layout: softmax over
dimension 0 is the time axis here, and the weights go into a weighted sum, not the loss."""
import torch
from torch import nn


class Pool(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(6, 12)
        self.score = nn.Linear(12, 1)
        self.out = nn.Linear(12, 3)

    def forward(self, seq):
        h, _ = self.rnn(seq)  # (T, N, 12)
        w = torch.softmax(self.score(h).squeeze(-1), dim=0)  # (T, N): over time
        return self.out((w.unsqueeze(-1) * h).sum(0))


torch.manual_seed(37)
model = Pool()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
seq, y = torch.randn(9, 8, 6), torch.randint(0, 3, (8,))
for _ in range(5):
    loss = nn.functional.cross_entropy(model(seq), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
