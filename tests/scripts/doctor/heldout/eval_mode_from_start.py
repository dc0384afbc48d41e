"""Bug: a pretrained-style setup calls model.eval() after building the model and trains in eval
mode: the transformer layer's dropout never acts."""
# expect: eval-mode 0 Classifier
import torch
from torch import nn

torch.manual_seed(10)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.encoder = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.2, batch_first=True)
        self.head = nn.Linear(16, 2)

    def forward(self, ids):
        return self.head(self.encoder(self.embed(ids)).mean(dim=1))


model = Classifier()
model.eval()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
ids, labels = torch.randint(0, 50, (8, 6)), torch.randint(0, 2, (8,))
for _ in range(5):
    loss = nn.functional.cross_entropy(model(ids), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
