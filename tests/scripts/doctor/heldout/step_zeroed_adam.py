"""Bug: zero_grad(set_to_none=False) right after backward(): Adam steps on zero gradients."""
# expect: step-without-grad 0 optimizer
import torch
from torch import nn


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 4)
        self.decoder = nn.Linear(4, 16)

    def forward(self, x):
        return self.decoder(torch.relu(self.encoder(x)))


torch.manual_seed(5)
ae = AutoEncoder()
optimizer = torch.optim.Adam(ae.parameters(), lr=1e-3)
data = torch.randn(48, 16)
for _ in range(6):
    loss = nn.functional.mse_loss(ae(data), data)
    loss.backward()
    optimizer.zero_grad(set_to_none=False)
    optimizer.step()
