# Sentiment-style classifier on frozen "pretrained" embeddings (from_pretrained, freeze=True);
# the optimizer gets only the trainable parameters.
import torch
import torch.nn as nn

torch.manual_seed(24)
vocab = 60
pretrained = torch.randn(vocab, 20)
docs = torch.randint(0, vocab, (240, 15))
labels = (pretrained[docs][:, :, 0].mean(1) > 0).float()


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(pretrained, freeze=True)
        self.conv = nn.Conv1d(20, 16, 3, padding=1)
        self.out = nn.Linear(16, 1)

    def forward(self, doc):
        h = self.embedding(doc).transpose(1, 2)  # (N, C, L)
        h = torch.relu(self.conv(h)).amax(dim=2)
        return self.out(h).squeeze(1)


model = Classifier()
opt = torch.optim.RMSprop([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for _ in range(3):
    for xb, yb in zip(docs.split(48), labels.split(48), strict=True):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(xb), yb).backward()
        opt.step()
