"""Creating tensors, setting dtypes and converting to/from NumPy (seed 004)."""
import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)

# --- torch.tensor(data): from a scalar, a NumPy array (float64 stays float64) or a list (float32) ---
data = torch.tensor(10)
print(data)
data = np.random.randn(2, 3)
data = torch.tensor(data)
print(data)
data = [[10., 20., 30.], [40., 50., 60.]]
data = torch.tensor(data)
print(data)

# --- torch.Tensor(size) / torch.Tensor(list) ---
# torch.Tensor(2, 3) and torch.IntTensor(2, 3) allocate uninitialised memory; .zero_() is added
# here only so every run prints the same values.
data = torch.Tensor(2, 3).zero_()
print(data)
data = torch.Tensor([10])
print(data)
data = torch.Tensor([10, 20])
print(data)

# --- typed constructors ---
data = torch.IntTensor(2, 3).zero_()
print(data)
data = torch.IntTensor([2.5, 3.3])   # values are converted: [2, 3]
print(data)
data = torch.ShortTensor()   # int16
data = torch.LongTensor()    # int64
data = torch.FloatTensor()   # float32
data = torch.DoubleTensor()  # float64

# --- linear and random tensors ---
data = torch.arange(0, 10, 2)        # [start, end) with a step
print(data)
data = torch.linspace(0, 9, 10)      # [start, end] with a number of points
print(data)
data = torch.randn(2, 3)
print(data)
print('随机数种子:', torch.initial_seed())
torch.manual_seed(100)
data = torch.randn(2, 3)
print(data)
print('随机数种子:', torch.initial_seed())

# --- constant tensors ---
data = torch.zeros(2, 3)
print(data)
data = torch.zeros_like(data)
print(data)
data = torch.ones(2, 3)
print(data)
data = torch.ones_like(data)
print(data)
data = torch.full([2, 3], 10)
print(data)
data = torch.full_like(data, 20)
print(data)

# --- changing the element type ---
data = torch.full([2, 3], 10)
print(data.dtype)
data = data.type(torch.DoubleTensor)
print(data.dtype)
data = torch.full([2, 3], 10)
print(data.dtype)
data = data.double()
print(data.dtype)

# --- tensor -> NumPy: shared memory unless you copy ---
data_tensor = torch.tensor([2, 3, 4])
data_numpy = data_tensor.numpy()
print(type(data_tensor))
print(type(data_numpy))
data_numpy[0] = 100
print(data_tensor)
print(data_numpy)

data_tensor = torch.tensor([2, 3, 4])
data_numpy = data_tensor.numpy().copy()
print(type(data_tensor))
print(type(data_numpy))
data_numpy[0] = 100
print(data_tensor)
print(data_numpy)

# --- NumPy -> tensor: from_numpy shares memory, torch.tensor copies ---
data_numpy = np.array([2, 3, 4])
data_tensor = torch.from_numpy(data_numpy)
data_tensor[0] = 100
print(data_tensor)
print(data_numpy)

data_numpy = np.array([2, 3, 4])
data_tensor = torch.tensor(data_numpy)
data_tensor[0] = 100
print(data_tensor)
print(data_numpy)

# --- extracting a Python number with item() ---
data = torch.tensor([30,])
print(data.item())
data = torch.tensor(30)
print(data.item())
