"""Fit sin(x) with nn.Sequential and the RMSprop optimizer (seed 002)."""
import math

import torch

torch.manual_seed(0)

# The seed shows only the optimizer loop; the set-up is the same as the nn example, and the
# learning rate (1e-3) comes from the official PyTorch tutorial (polynomial_optim.py).
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')

learning_rate = 1e-3
optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
for t in range(2000):
    # Forward pass: compute predicted y by passing x to the model.
    y_pred = model(xx)

    # Compute and print loss.
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())

    # Zero the gradients: by default .backward() accumulates into .grad.
    optimizer.zero_grad()

    # Backward pass: gradient of the loss with respect to model parameters
    loss.backward()

    # Calling step() makes an update to the parameters
    optimizer.step()

linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
