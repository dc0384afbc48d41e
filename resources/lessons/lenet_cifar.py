"""LeNet-5 on CIFAR-shaped images: the seed's unfinished LeNet section, with made-up data (seed 001)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

classes = ('plane', 'car', 'bird', 'cat',
           'deer', 'dog', 'frog', 'horse', 'ship', 'truck')


# The seed downloads CIFAR-10 with torchvision. Here the images are made up, with CIFAR's shape
# (3 colour channels, 32x32 pixels): each class has its own picture (4x4 patches of colour) and
# every image of the class is that picture plus noise, so there is something to learn.
def make_images(pictures, per_class, generator):
    labels = torch.arange(len(classes)).repeat_interleave(per_class)
    noise = 0.3 * torch.randn(len(labels), 3, 32, 32, generator=generator)
    images = (pictures[labels] + noise).clamp(0, 1)
    # transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)): from [0, 1] to [-1, 1]
    return (images - 0.5) / 0.5, labels


g = torch.Generator().manual_seed(0)
patches = torch.rand(len(classes), 3, 4, 4, generator=g)
pictures = patches.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)
train_images, train_labels = make_images(pictures, 4, g)
test_images, test_labels = make_images(pictures, 2, g)
trainloader = DataLoader(TensorDataset(train_images, train_labels), batch_size=4, shuffle=True,
                         generator=torch.Generator().manual_seed(0))
print(len(train_labels), 'training images of shape', tuple(train_images.shape[1:]))

images, labels = next(iter(trainloader))
print(' '.join('%5s' % classes[labels[j]] for j in range(4)))


# LeNet-5: two convolution + pooling stages read the picture, three fully connected layers classify.
# Every step is a module (ReLU and flatten too), so the graph can show the network module by module.
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)       # 3x32x32 -> 6x28x28
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2, 2)       # -> 6x14x14
        self.conv2 = nn.Conv2d(6, 16, 5)      # -> 16x10x10
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2, 2)       # -> 16x5x5
        self.flatten = nn.Flatten()           # -> 400
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)          # one score per class

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


def accuracy(net):
    """Share of the test images (same pictures, new noise) whose highest score is the right class."""
    with torch.no_grad():
        predicted = net(test_images).argmax(dim=1)
    return (predicted == test_labels).sum().item() / len(test_labels)


net = Net()
print('accuracy before training:', accuracy(net))

# cross-entropy of the 10 scores; SGD with momentum (the seed's tutorial uses lr=0.001 for
# 25000 batches; 0.01 learns these 40 images in 6 epochs of 10 batches)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

i = 0
for epoch in range(6):
    for inputs, targets in trainloader:
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        print(i, loss.item())
        loss.backward()
        optimizer.step()
        i += 1

print('accuracy after training:', accuracy(net))
