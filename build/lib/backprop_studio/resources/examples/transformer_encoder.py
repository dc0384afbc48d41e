"""A small Transformer encoder classifying random token sequences: a graph of ~1000 autograd nodes.

Usage: python transformer_encoder.py [ITERATIONS]
"""
import sys

import torch
from torch import nn

torch.manual_seed(0)
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20
vocab, d_model, seq, batch, classes = 50, 32, 12, 8, 4


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=6, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens))
        return self.head(h.mean(dim=1))


model = Classifier()
tokens = torch.randint(0, vocab, (batch, seq))
labels = torch.randint(0, classes, (batch,))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for i in range(iterations):
    loss = nn.functional.cross_entropy(model(tokens), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(i, round(loss.item(), 4))
