# Knowledge distillation: a frozen teacher (eval mode, no grad) and a small student trained on
# KL(student/T || teacher/T) * T^2 plus the hard-label loss.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(28)
x = torch.randn(300, 10)
y = (x[:, 0] + x[:, 1] ** 2 > 1).long() + (x[:, 2] > 0.5).long()

teacher = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 3))
student = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
teacher.eval()
for p in teacher.parameters():
    p.requires_grad_(False)

opt = torch.optim.Adam(student.parameters(), lr=5e-3)
T, alpha = 4.0, 0.7
student.train()
for _ in range(3):
    for xb, yb in zip(x.split(50), y.split(50), strict=True):
        with torch.no_grad():
            soft = F.softmax(teacher(xb) / T, dim=1)
        logits = student(xb)
        kd = F.kl_div(F.log_softmax(logits / T, dim=1), soft, reduction="batchmean") * T * T
        loss = alpha * kd + (1 - alpha) * F.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
