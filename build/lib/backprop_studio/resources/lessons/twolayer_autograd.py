"""A two-layer ReLU network with tensors and autograd (seed 003)."""
import torch

torch.manual_seed(0)

dtype = torch.float
device = torch.device('cpu')
# device = torch.device('cuda:0')  # Uncomment this to run on GPU

# N is batch size; D_in is input dimension; H is hidden dimension; D_out is output dimension.
N, D_in, H, D_out = 64, 1000, 100, 10

# Create random input and output data
x = torch.randn(N, D_in, device=device, dtype=dtype)
y = torch.randn(N, D_out, device=device, dtype=dtype)

# Randomly initialize weights; requires_grad=True lets autograd compute their gradients
w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for i in range(500):
    # Forward pass: no need to keep intermediate values, autograd remembers them
    y_pred = x.mm(w1).clamp(min=0).mm(w2)

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum()
    print(i, loss.item())

    # Backward pass: fills w1.grad and w2.grad
    loss.backward()

    # Update weights outside the graph, then zero the gradients
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad

        w1.grad.zero_()
        w2.grad.zero_()
