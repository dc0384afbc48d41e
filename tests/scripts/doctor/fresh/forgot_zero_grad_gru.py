# A GRU forecaster trained with RMSprop; the loop never clears the gradients.
# expect: grad-accumulates - -
import torch
import torch.nn as nn

torch.manual_seed(0)
t = torch.linspace(0, 20, 400)
series = torch.sin(t) + 0.1 * torch.randn(400)
windows = series.unfold(0, 11, 3)  # (130, 11)
x, y = windows[:, :10].unsqueeze(-1), windows[:, 10:]


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(1, 16, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, seq):
        _, h = self.rnn(seq)
        return self.out(h[-1])


model = Forecaster()
opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for epoch in range(3):
    for i in range(0, len(x), 32):
        pred = model(x[i:i + 32])
        loss = nn.functional.mse_loss(pred, y[i:i + 32])
        loss.backward()
        opt.step()
    print(epoch, loss.item())
