"""Linear regression with TensorDataset, DataLoader, nn.Linear, MSELoss and SGD (seed 004)."""
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


# Build the data set
def create_dataset():
    # The seed used sklearn.datasets.make_regression(n_samples=100, n_features=1, noise=10,
    # coef=True, bias=14.5, random_state=0). sklearn is not available here, so the same kind of
    # data is generated with torch and a fixed generator: x ~ N(0, 1), a true slope
    # coef ~ 100 * U(0, 1), y = coef * x + 14.5 + N(0, 10^2). float64 like make_regression.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(100, 1, generator=g, dtype=torch.float64)
    coef = 100 * torch.rand(1, generator=g, dtype=torch.float64)
    y = x[:, 0] * coef + 14.5 + 10 * torch.randn(100, generator=g, dtype=torch.float64)
    return x, y, coef


# Train the model
def train():
    x, y, coef = create_dataset()

    # Dataset object and a loader giving shuffled batches of 16 samples
    dataset = TensorDataset(x, y)
    dataloader = DataLoader(dataset=dataset, batch_size=16, shuffle=True)

    # Model y = w x + b (one input feature, one output)
    model = nn.Linear(in_features=1, out_features=1)

    # Mean squared error
    criterion = nn.MSELoss()

    print("w和b-->", list(model.parameters()))
    print("w-->", model.weight)
    print("b-->", model.bias)
    optimizer = optim.SGD(params=model.parameters(), lr=1e-2)

    epochs = 100
    # loss history (as in the seed, the running totals are not reset between epochs)
    epoch_loss = []
    total_loss = 0.0
    train_sample = 0.0
    for _ in range(epochs):
        for train_x, train_y in dataloader:
            # one batch through the model
            y_pred = model(train_x.type(torch.float32))
            # mean squared error of this batch
            loss = criterion(y_pred, train_y.reshape(-1, 1).type(torch.float32))
            total_loss += loss.item()
            train_sample += 1
            # zero the gradients, backward pass, update
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        # average batch loss so far, recorded once per epoch
        epoch_loss.append(total_loss / train_sample)

    # learned w and b
    print(model.weight)
    print(model.bias)
    # (the seed plots the loss curve and the fitted line with matplotlib; plots are dropped here)
    print("epoch_loss[0], epoch_loss[-1]:", epoch_loss[0], epoch_loss[-1])
    print("true coef and bias:", coef.item(), 14.5)


if __name__ == '__main__':
    train()
