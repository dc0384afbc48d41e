"""Correct: an EmbeddingBag text classifier (pytorch/examples text classification), SGD + StepLR."""
import torch
from torch import nn

torch.manual_seed(44)
embed = nn.EmbeddingBag(100, 16, mode="mean")
fc = nn.Linear(16, 4)
optimizer = torch.optim.SGD([*embed.parameters(), *fc.parameters()], lr=4.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.9)
text, offsets = torch.randint(0, 100, (60,)), torch.arange(0, 60, 6)
labels = torch.randint(0, 4, (10,))
for _ in range(6):
    loss = nn.functional.cross_entropy(fc(embed(text, offsets)), labels)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(embed.parameters(), 0.1)
    optimizer.step()
    scheduler.step()
