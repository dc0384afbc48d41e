"""Indexing and reshaping tensors: reshape, squeeze, transpose/permute, view, cat and stack (seed 004)."""
import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)

# --- indexing ---
data = torch.randint(0, 10, [4, 5])
print(data)
print(data[0])                     # row 0
print(data[:, 0])                  # column 0
print(data[[0, 1], [1, 2]])        # elements (0, 1) and (1, 2)
print(data[[[0], [1]], [1, 2]])    # rows 0-1, columns 1-2
print(data[:3, :2])
print(data[2:, :2])
print(data[data[:, 2] > 5])        # rows whose column 2 is > 5
print(data[:, data[1] > 5])        # columns whose row 1 is > 5
data = torch.randint(0, 10, [3, 4, 5])
print(data)
print(data[0, :, :])
print(data[:, 0, :])
print(data[:, :, 0])

# --- reshape ---
data = torch.tensor([[10, 20, 30], [40, 50, 60]])
print(data.shape, data.shape[0], data.shape[1])
print(data.size(), data.size(0), data.size(1))
new_data = data.reshape(1, 6)
print(new_data.shape)

# --- squeeze / unsqueeze ---
mydata1 = torch.tensor([1, 2, 3, 4, 5])
print('mydata1--->', mydata1.shape, mydata1)
mydata2 = mydata1.unsqueeze(dim=0)
print('在0维度上 拓展维度：', mydata2, mydata2.shape)    # 1x5
mydata3 = mydata1.unsqueeze(dim=1)
print('在1维度上 拓展维度：', mydata3, mydata3.shape)    # 5x1
mydata4 = mydata1.unsqueeze(dim=-1)
print('在-1维度上 拓展维度：', mydata4, mydata4.shape)   # 5x1
mydata5 = mydata4.squeeze()
print('压缩维度：', mydata5, mydata5.shape)              # 5

# --- transpose / permute ---
data = torch.tensor(np.random.randint(0, 10, [3, 4, 5]))
print('data shape:', data.size())
mydata2 = torch.transpose(data, 1, 2)
print('mydata2.shape--->', mydata2.shape)
mydata3 = torch.transpose(data, 0, 1)
mydata4 = torch.transpose(mydata3, 1, 2)
print('mydata4.shape--->', mydata4.shape)
mydata5 = torch.permute(data, [1, 2, 0])
print('mydata5.shape--->', mydata5.shape)
mydata6 = data.permute([1, 2, 0])
print('mydata6.shape--->', mydata6.shape)

# --- view needs a contiguous tensor ---
data = torch.tensor([[10, 20, 30], [40, 50, 60]])
print('data--->', data, data.shape)
print(data.is_contiguous())
mydata2 = data.view(3, 2)
print('mydata2--->', mydata2, mydata2.shape)
print('mydata2.is_contiguous()--->', mydata2.is_contiguous())
mydata3 = torch.transpose(data, 0, 1)
print('mydata3--->', mydata3, mydata3.shape)
print('mydata3.is_contiguous()--->', mydata3.is_contiguous())
print(mydata3.contiguous().is_contiguous())
mydata4 = mydata3.contiguous().view(2, 3)
print('mydata4--->', mydata4.shape, mydata4)

# --- cat: join along an existing dimension ---
data1 = torch.randint(0, 10, [1, 2, 3])
data2 = torch.randint(0, 10, [1, 2, 3])
print(data1)
print(data2)
for dim in (0, 1, 2):
    new_data = torch.cat([data1, data2], dim=dim)
    print(new_data)
    print(new_data.shape)

# --- stack: join along a new dimension ---
data1 = torch.randint(0, 10, [2, 3])
data2 = torch.randint(0, 10, [2, 3])
print(data1)
print(data2)
for dim in (0, 1, 2):
    new_data = torch.stack([data1, data2], dim=dim)
    print(new_data)
    print(new_data.shape)
