# Character-level LSTM trained with plain SGD at lr=1.0 and gradient-norm clipping (the classic recipe).
import torch
import torch.nn as nn

torch.manual_seed(20)
text = "the quick brown fox jumps over the lazy dog " * 20
chars = sorted(set(text))
ids = torch.tensor([chars.index(c) for c in text])
seq = 16
starts = torch.arange(0, len(ids) - seq - 1, 7)
inputs = torch.stack([ids[s:s + seq] for s in starts])
targets = torch.stack([ids[s + 1:s + seq + 1] for s in starts])


class CharLM(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, 48, batch_first=True)
        self.proj = nn.Linear(48, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.emb(x))
        return self.proj(out)


model = CharLM(len(chars))
opt = torch.optim.SGD(model.parameters(), lr=1.0)
for epoch in range(3):
    for xb, yb in zip(inputs.split(32), targets.split(32), strict=True):
        opt.zero_grad()
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), yb.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
    print(epoch, loss.item())
