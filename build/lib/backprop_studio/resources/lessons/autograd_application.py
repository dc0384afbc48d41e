"""Autograd in practice: z = x @ w + b, MSE loss against zeros, gradients of w and b (seed 004)."""
import torch

torch.manual_seed(0)

# input 2x5, target 2x3
x = torch.ones(2, 5)
y = torch.zeros(2, 3)
# weights and bias to learn
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
# network output
z = torch.matmul(x, w) + b
# loss
loss = torch.nn.MSELoss()
loss = loss(z, y)
loss.backward()
# backward() stores the gradients in .grad
print("W的梯度:", w.grad)
print("b的梯度", b.grad)
