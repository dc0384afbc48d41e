# Curriculum: a GRU learns to sum sequences, starting with short ones and growing the length every epoch.
import torch
import torch.nn as nn

torch.manual_seed(26)


class Summer(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, s):
        _, h = self.gru(s)
        return self.head(h.squeeze(0))


model = Summer()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
for length in (2, 4, 8, 12):
    for _ in range(8):
        s = torch.rand(32, length, 1)
        opt.zero_grad()
        loss = nn.functional.smooth_l1_loss(model(s), s.sum(1) / length)
        loss.backward()
        opt.step()
    sched.step()
