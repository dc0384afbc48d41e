# A convolutional autoencoder with a Sigmoid output and BCELoss on images in [0, 1],
# transposed convolutions in the decoder.
import torch
import torch.nn as nn

torch.manual_seed(32)
grid = torch.linspace(-1, 1, 16)
yy, xx = torch.meshgrid(grid, grid, indexing="ij")
radii = torch.rand(128, 1, 1) * 0.6 + 0.2
images = ((xx ** 2 + yy ** 2) < radii ** 2).float().unsqueeze(1)  # discs of random size

model = nn.Sequential(
    nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
    nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),
    nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1), nn.Sigmoid())
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.BCELoss()
for _ in range(3):
    for batch in images.split(32):
        opt.zero_grad()
        loss = loss_fn(model(batch), batch)
        loss.backward()
        opt.step()
