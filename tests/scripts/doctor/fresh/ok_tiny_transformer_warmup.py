# A two-layer transformer encoder (batch_first) regressing the max of a sequence, with linear warm-up
# then inverse square-root decay (LambdaLR), and a learnt positional embedding.
import torch
import torch.nn as nn

torch.manual_seed(29)
L, D = 10, 32


class MaxFinder(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(1, D)
        self.pos = nn.Parameter(torch.zeros(1, L, D))
        layer = nn.TransformerEncoderLayer(D, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.out = nn.Linear(D, 1)

    def forward(self, s):
        h = self.encoder(self.inp(s) + self.pos)
        return self.out(h.mean(1))


model = MaxFinder()
opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98))
warmup = 10
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, (warmup / (s + 1)) ** 0.5))
for _ in range(30):
    s = torch.rand(32, L, 1)
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(s), s.amax(1))
    loss.backward()
    opt.step()
    sched.step()
