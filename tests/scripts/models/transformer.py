"""A small GPT-style transformer (hand-written blocks: blocks.0 ... blocks.3) trained for a few steps on
random token sequences (no downloads): an autograd graph of a few hundred nodes.

Usage: python transformer.py [ITERATIONS]
"""

import sys

import torch
from torch import nn

torch.manual_seed(0)
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10
vocab, d_model, heads, seq, batch = 64, 32, 4, 16, 8


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).split(d_model, dim=2)
        q, k, v = (z.view(b, t, heads, d_model // heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / (d_model // heads) ** 0.5
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf")).softmax(dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, t, d_model))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = Attention()
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, layers: int = 4):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Parameter(torch.zeros(seq, d_model))
        self.blocks = nn.ModuleList(Block() for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        x = self.tokens(idx) + self.positions
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


model = GPT()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
data = torch.randint(0, vocab, (batch, seq + 1))
for i in range(iterations):
    logits = model(data[:, :-1])
    loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), data[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(i, round(loss.item(), 4))
