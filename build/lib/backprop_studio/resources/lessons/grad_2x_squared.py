"""Gradient of y = 2x^2 for a scalar x = 10 and for a vector x = [10, 20] (seed 004)."""
import torch

torch.manual_seed(0)

# --- scalar tensor ---
x = torch.tensor(10, requires_grad=True, dtype=torch.float32)
print("x-->", x)
y = 2 * x ** 2
print("y-->", y)
print(y.grad_fn.name())   # the seed printed the object (its address changes every run)
# y is already a scalar, y.sum() just returns the same value
print("y.sum()-->", y.sum())
# y'(10) = 4x = 40
y.sum().backward()
print("x的梯度值是:", x.grad)

# --- vector tensor: backward() needs a scalar, so we sum first ---
x = torch.tensor([10, 20], requires_grad=True, dtype=torch.float32)
print("x-->", x)
y = 2 * x ** 2
print("y-->", y)
# y'(10) = 40, y'(20) = 80
y.sum().backward()
print("x.grad-->", x.grad)
