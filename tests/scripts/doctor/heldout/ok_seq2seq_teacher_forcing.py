"""Correct: a GRU encoder-decoder with teacher forcing and label smoothing."""
import torch
from torch import nn

torch.manual_seed(43)
emb = nn.Embedding(20, 8)
enc, dec = nn.GRU(8, 16, batch_first=True), nn.GRU(8, 16, batch_first=True)
out = nn.Linear(16, 20)
params = [*emb.parameters(), *enc.parameters(), *dec.parameters(), *out.parameters()]
optimizer = torch.optim.Adam(params, lr=3e-3)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
src, tgt = torch.randint(0, 20, (6, 5)), torch.randint(0, 20, (6, 6))
for _ in range(5):
    _, h = enc(emb(src))
    y, _ = dec(emb(tgt[:, :-1]), h)
    loss = criterion(out(y).reshape(-1, 20), tgt[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
