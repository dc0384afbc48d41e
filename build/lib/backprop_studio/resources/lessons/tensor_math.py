"""Tensor arithmetic: element-wise ops, Hadamard and matrix products, reductions (seed 004)."""
import torch

torch.manual_seed(0)

# --- add / sub / mul / div / neg; the "_" versions modify the tensor in place ---
data = torch.randint(0, 10, [2, 3])
print(data)
new_data = data.add(10)   # same as data + 10
print(new_data)
data.add_(10)             # same as data += 10
print(data)
print(data.sub(100))
print(data.mul(100))
print(data.div(100))
print(data.neg())

# --- element-wise (Hadamard) product ---
data1 = torch.tensor([[1, 2], [3, 4]])
data2 = torch.tensor([[5, 6], [7, 8]])
data = torch.mul(data1, data2)
print(data)
data = data1 * data2
print(data)

# --- matrix product: (3, 2) @ (2, 2) -> (3, 2) ---
data1 = torch.tensor([[1, 2], [3, 4], [5, 6]])
data2 = torch.tensor([[5, 6], [7, 8]])
data3 = data1 @ data2
print("data3-->", data3)
data4 = torch.matmul(data1, data2)
print("data4-->", data4)

# --- reductions and element-wise functions (mean needs a float dtype) ---
data = torch.randint(0, 10, [2, 3], dtype=torch.float64)
print(data)
print(data.mean())
print(data.mean(dim=0))   # per column
print(data.mean(dim=1))   # per row
print(data.sum())
print(data.sum(dim=0))
print(data.sum(dim=1))
print(torch.pow(data, 2))   # typo fixed: the seed had a full-width comma "，"
print(data.sqrt())
print(data.exp())
print(data.log())           # natural log (log(0) = -inf)
print(data.log2())
print(data.log10())
