"""Bug: an LSTM tagger applies F.softmax to its scores and passes them to CrossEntropyLoss."""
# expect: double-softmax 0 SoftmaxBackward0
import torch
import torch.nn.functional as F
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.tags = nn.Linear(16, 5)

    def forward(self, words):
        h, _ = self.lstm(self.embed(words))
        return F.softmax(self.tags(h), dim=-1)


torch.manual_seed(15)
tagger = Tagger()
optimizer = torch.optim.SGD(tagger.parameters(), lr=0.1)
words, tags = torch.randint(0, 30, (4, 7)), torch.randint(0, 5, (4, 7))
criterion = nn.CrossEntropyLoss()
for _ in range(4):
    scores = tagger(words)
    loss = criterion(scores.reshape(-1, 5), tags.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
