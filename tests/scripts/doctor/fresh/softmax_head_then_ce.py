# A CNN whose forward ends in F.softmax, trained with nn.CrossEntropyLoss (which applies log_softmax again).
# expect: double-softmax - -
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(4)
x = torch.randn(128, 3, 16, 16)
y = torch.randint(0, 5, (128,))


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 5)

    def forward(self, img):
        h = F.max_pool2d(F.relu(self.conv1(img)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return F.softmax(self.fc(h.flatten(1)), dim=1)


model = SmallCNN()
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
for _ in range(2):
    perm = torch.randperm(128)
    for i in range(0, 128, 32):
        b = perm[i:i + 32]
        opt.zero_grad()
        loss = loss_fn(model(x[b]), y[b])
        loss.backward()
        opt.step()
