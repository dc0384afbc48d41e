# A GRU sequence classifier that normalises its log-probabilities over the batch (dim=0) before nll_loss.
# expect: softmax-dim - -
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(5)
seqs = torch.randn(160, 8, 4)
labels = (seqs[:, :, 0].sum(1) > 0).long() + (seqs[:, :, 1].sum(1) > 2).long()


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 24, batch_first=True)
        self.head = nn.Linear(24, 3)

    def forward(self, s):
        out, _ = self.gru(s)
        return F.log_softmax(self.head(out[:, -1]), dim=0)


model = Tagger()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
for _ in range(25):
    idx = torch.randint(0, 160, (32,))
    opt.zero_grad()
    loss = F.nll_loss(model(seqs[idx]), labels[idx])
    loss.backward()
    opt.step()
