"""Correct: pytorch/examples word_language_model style: LSTM LM, clip_grad_norm_, a hand-written SGD
update (p.data.add_(p.grad, alpha=-lr)) and model.zero_grad()."""
import torch
from torch import nn


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(40, 16)
        self.rnn = nn.LSTM(16, 16)
        self.decoder = nn.Linear(16, 40)

    def forward(self, ids):
        out, _ = self.rnn(self.encoder(ids))
        return self.decoder(out)


torch.manual_seed(34)
model = LM()
criterion = nn.CrossEntropyLoss()
corpus = torch.randint(0, 40, (60, 4))
lr = 5.0
for i in range(0, 48, 8):
    data, targets = corpus[i:i + 8], corpus[i + 1:i + 9]
    model.zero_grad()
    loss = criterion(model(data).view(-1, 40), targets.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    for p in model.parameters():
        p.data.add_(p.grad, alpha=-lr)
