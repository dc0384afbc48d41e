"""detach(): a tensor that shares data with x1 but is not tracked by autograd (seed 004)."""
import torch

torch.manual_seed(0)

x1 = torch.tensor([10, 20], requires_grad=True, dtype=torch.float64)

# x1.numpy() would fail: "Can't call numpy() on Tensor that requires grad.
# Use tensor.detach().numpy() instead."
# print(x1.numpy())

# detach() makes a new leaf tensor that shares the data but never requires grad
x2 = x1.detach()
print(x1.requires_grad)
print(x2.requires_grad)
# same values, same memory
print(x1.data)
print(x2.data)
# The seed printed id(x1.data) and id(x2.data): raw addresses differ from run to run (and id() of
# temporary .data objects proves little), so we compare the data pointers instead.
print(x1.data_ptr() == x2.data_ptr())

print(x2.numpy())
