"""Fit sin(x) with the nn package: nn.Sequential(Linear(3, 1), Flatten(0, 1)) on (x, x^2, x^3) (seed 002)."""
import math

import torch

torch.manual_seed(0)

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# y is a linear function of (x, x^2, x^3): prepare that (2000, 3) tensor by broadcasting.
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

# Linear computes w . xx + bias; Flatten turns the (2000, 1) output into shape (2000,) like y.
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)

# Sum of squared errors as loss
loss_fn = torch.nn.MSELoss(reduction='sum')

learning_rate = 1e-6
for t in range(2000):
    # Forward pass: Module objects can be called like functions.
    y_pred = model(xx)

    # Compute and print loss.
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(t, loss.item())

    # Zero the gradients before running the backward pass.
    model.zero_grad()

    # Backward pass: gradients for all learnable parameters of the model.
    loss.backward()

    # Update the weights using gradient descent.
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

# The first layer of `model`, like the first item of a list
linear_layer = model[0]

# Its parameters are stored as `weight` and `bias`.
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
