"""Control flow + weight sharing: DynamicNet reuses one middle layer 0-3 times per forward pass (seed 003)."""
import random

import torch

random.seed(0)
torch.manual_seed(0)


class DynamicNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super(DynamicNet, self).__init__()
        self.input_linear = torch.nn.Linear(D_in, H)
        self.middle_linear = torch.nn.Linear(H, H)
        self.output_linear = torch.nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.input_linear(x).clamp(min=0)
        # a new graph every pass: 0 to 3 extra layers, all sharing middle_linear's weights
        for _ in range(random.randint(0, 3)):
            h_relu = self.middle_linear(h_relu).clamp(min=0)
        y_pred = self.output_linear(h_relu)
        return y_pred


# N is batch size; D_in is input dimension; H is hidden dimension; D_out is output dimension.
N, D_in, H, D_out = 64, 1000, 100, 10

# Create random input and output data
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)

# Instantiate the custom model
model = DynamicNet(D_in, H, D_out)

# Plain SGD struggles with this odd model, so momentum is used
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

for i in range(500):
    # Forward pass
    y_pred = model(x)

    # Compute loss
    loss = criterion(y_pred, y)
    print(i, loss.item())

    # Zero the gradients, backward pass, update
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
