"""Autograd basics: out = mean(3 * (x + 2)^2) and its gradient d(out)/dx (seed 001)."""
import torch

torch.manual_seed(0)

# Modernised: the seed wrapped the tensor in torch.autograd.Variable(...), which is gone;
# a plain tensor with requires_grad=True does the same job.
x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)
# The seed's `y.creator` no longer exists; it was renamed to `grad_fn`. We print its name: the
# object itself prints with a memory address that changes from run to run.
print(y.grad_fn.name())

z = y * y * 3
out = z.mean()
print(z, out)

out.backward()
# d(out)/dx = 3 * 2 * (x + 2) / 4 = 4.5 at x = 1
print(x.grad)
