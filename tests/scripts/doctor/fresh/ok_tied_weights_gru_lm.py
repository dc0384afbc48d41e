# A word-level GRU language model whose output layer shares the embedding matrix (weight tying).
import torch
import torch.nn as nn

torch.manual_seed(23)
vocab, dim = 40, 24
corpus = torch.randint(0, vocab, (2000,))
corpus[1::3] = (corpus[0::3][:len(corpus[1::3])] + 1) % vocab  # some structure to learn


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, num_layers=2, dropout=0.1)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.embed.weight

    def forward(self, tokens, hidden=None):
        out, hidden = self.rnn(self.embed(tokens), hidden)
        return self.decoder(out), hidden


model = TiedLM()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
bptt, batch = 12, 8
stream = corpus[: (len(corpus) // batch) * batch].view(batch, -1).t()  # (T, B), sequence first
hidden = None
for i in range(0, stream.size(0) - 1 - bptt, bptt):
    src, tgt = stream[i:i + bptt], stream[i + 1:i + 1 + bptt]
    if hidden is not None:
        hidden = hidden.detach()
    logits, hidden = model(src, hidden)
    loss = nn.functional.cross_entropy(logits.view(-1, vocab), tgt.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
