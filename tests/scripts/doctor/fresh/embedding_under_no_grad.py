# A bag-of-words classifier that looks its embeddings up under torch.no_grad(), yet trains them.
# expect: no-grad - weight
# (the subject: a module held in a plain variable names its parameters without a prefix, "weight"; the first
# run expected "embed" and counted this a miss)
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(2)
vocab, n = 50, 200
tokens = torch.randint(0, vocab, (n, 12))
labels = (tokens < 10).sum(1).gt(2).long()

embed = nn.Embedding(vocab, 16)
classifier = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))
params = list(embed.parameters()) + list(classifier.parameters())
opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)

for _ in range(30):
    idx = torch.randint(0, n, (32,))
    with torch.no_grad():
        feats = embed(tokens[idx]).mean(1)
    logits = classifier(feats)
    loss = F.cross_entropy(logits, labels[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
