"""Gradient descent by hand: minimise y = x^2 + 20 from x = 10 (1000 steps, lr 0.01) (seed 004)."""
import torch

torch.manual_seed(0)

# 1. the point x = 10
x = torch.tensor(10, requires_grad=True, dtype=torch.float32)

# 2. the function y = x ** 2 + 20
y = x ** 2 + 20
# (.item() is used in the prints to avoid a UserWarning of recent torch versions)
print('开始 权重x初始值:%.6f (0.01 * x.grad):无 y:%.6f' % (x.item(), y.item()))

# 3. 1000 gradient-descent steps
for i in range(1, 1001):
    # 3-1 forward pass
    y = x ** 2 + 20
    # 3-2 clear the gradient accumulated by the previous step (there is none at first)
    if x.grad is not None:
        x.grad.zero_()
    # 3-3 backward pass
    y.sum().backward()
    # 3-4 update through x.data so that x stays the same leaf tensor
    #     (x = x - 0.01 * x.grad would create a new, non-leaf tensor)
    x.data = x.data - 0.01 * x.grad
    print('次数:%d 权重x: %.6f, (0.01 * x.grad):%.6f y:%.6f' % (i, x.item(), 0.01 * x.grad.item(), y.item()))

# each step multiplies x by 0.98, so x ends near 10 * 0.98**1000 ~ 1.7e-8 and y near 20
print('x：', x, x.grad, 'y最小值', y)
