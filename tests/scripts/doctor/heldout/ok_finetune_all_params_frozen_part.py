"""Correct: all parameters handed to AdamW, the embedding frozen with requires_grad_(False)."""
import torch
from torch import nn

torch.manual_seed(21)
model = nn.ModuleDict({"embed": nn.Embedding(40, 12), "rnn": nn.GRU(12, 12, batch_first=True), "out": nn.Linear(12, 3)})
model["embed"].weight.requires_grad_(False)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
ids, y = torch.randint(0, 40, (8, 5)), torch.randint(0, 3, (8,))
for _ in range(5):
    h, _ = model["rnn"](model["embed"](ids))
    loss = nn.functional.cross_entropy(model["out"](h[:, -1]), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
