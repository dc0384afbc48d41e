"""Tensor basics: creation, addition, in-place ops, transpose and NumPy conversion (seed 001)."""
import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)

# --- Tensors and operations ---
# torch.Tensor(5, 3) allocates *uninitialised* memory (arbitrary numbers); .zero_() is added
# here only so every run prints the same values.
x = torch.Tensor(5, 3).zero_()
print(x)

y = torch.rand(5, 3)
print(x + y)              # method 1
print(torch.add(x, y))    # method 2

result = torch.Tensor(5, 3)   # output tensor (overwritten by out=)
torch.add(x, y, out=result)
print(result)

y.add_(x)                 # in-place: ops ending in "_" modify the tensor itself
print(y)
print(y)
x.t_()                    # in-place transpose: 5x3 -> 3x5
print(x)
print(x[:, 1])

# --- Torch tensor -> NumPy array (shared memory) ---
a = torch.ones(5)
print(a)
b = a.numpy()
print(b)
a.add_(1)                 # changes b as well
print(a)
print(b)

# --- NumPy array -> Torch tensor (shared memory) ---
a = np.ones(5)
b = torch.from_numpy(a)
np.add(a, 1, out=a)
print(a)
print(b)
a[0] = 333
print(a)
print(b)

# --- CUDA tensors (skipped automatically on a CPU-only machine) ---
x = torch.Tensor(5, 3).zero_()
y = torch.rand(5, 3)
if torch.cuda.is_available():
    x = x.cuda()
    print(x)
    y = y.cuda()
    x + y
print("CUDA available:", torch.cuda.is_available())
