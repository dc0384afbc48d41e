# A dense autoencoder whose optimizer was built from the encoder only.
# expect: not-optimized - decoder
import torch
import torch.nn as nn

torch.manual_seed(1)
data = torch.randn(256, 20) @ torch.randn(20, 20)

encoder = nn.Sequential(nn.Linear(20, 12), nn.ELU(), nn.Linear(12, 4))
decoder = nn.Sequential(nn.Linear(4, 12), nn.ELU(), nn.Linear(12, 20))
optimizer = torch.optim.Adam(encoder.parameters(), lr=3e-3)

for epoch in range(4):
    for batch in data.split(64):
        optimizer.zero_grad()
        recon = decoder(encoder(batch))
        loss = ((recon - batch) ** 2).mean()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: {loss.item():.4f}")
