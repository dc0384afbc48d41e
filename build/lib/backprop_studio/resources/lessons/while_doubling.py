"""Autograd through a while loop: keep doubling y = 2x until its norm reaches 1000 (seed 001)."""
import torch

torch.manual_seed(0)

# Modernised: `Variable(torch.rand(3), requires_grad=True)` -> a plain tensor with requires_grad.
x = torch.rand(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2

print(y)

# Modernised: torch.FloatTensor([...]) -> torch.tensor([...]).
gradients = torch.tensor([0.1, 1.0, 0.0001])
y.backward(gradients)
# x.grad = (y / x) * gradients; y / x is the power of two reached by the loop (1024 in the seed's run).
print(x.grad)
