"""A two-layer network whose ReLU is a custom autograd Function, MyReLU (seed 003)."""
import torch

torch.manual_seed(0)


class MyReLU(torch.autograd.Function):

    @staticmethod
    def forward(ctx, input):
        # ctx stashes what the backward pass needs
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        # gradient passes through where the input was positive, 0 elsewhere
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


dtype = torch.float
device = torch.device('cpu')
# device = torch.device('cuda:0')  # Uncomment this to run on GPU

# N is batch size; D_in is input dimension; H is hidden dimension; D_out is output dimension.
N, D_in, H, D_out = 64, 1000, 100, 10

# Create random input and output data
x = torch.randn(N, D_in, device=device, dtype=dtype)
y = torch.randn(N, D_out, device=device, dtype=dtype)

# Randomly initialize weights
w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for i in range(500):
    # use our custom function
    relu = MyReLU.apply

    # Forward pass
    y_pred = relu(x.mm(w1)).mm(w2)

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum()
    print(i, loss.item())

    # Backward pass
    loss.backward()

    # Update weights
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad

        w1.grad.zero_()
        w2.grad.zero_()
