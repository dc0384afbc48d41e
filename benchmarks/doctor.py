"""The doctor's cost: `doctor` on a 1000-iteration recording (read + every rule), < 1 s, at record's default
detail and with every iteration at full detail."""

from __future__ import annotations

import os
import tempfile

from benchmarks.common import best_of, emit, line

SCRIPT = """
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 5))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(256, 20), torch.randint(0, 5, (256,))
for step in range(1000):
    i = torch.randint(0, 256, (32,))
    loss = nn.functional.cross_entropy(model(x[i]), y[i])
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


def run(quick: bool = False) -> None:
    from backprop_studio.core.iteration import DEFAULT_DETAIL
    from backprop_studio.core.session import runner

    for detail in (DEFAULT_DETAIL, "full"):
        with tempfile.TemporaryDirectory() as tmp:
            script, bps = os.path.join(tmp, "train.py"), os.path.join(tmp, "run.bps")
            with open(script, "w", encoding="utf-8") as f:
                f.write(SCRIPT)
            runner.record(script, [], bps, detail)
            one(bps, quick)


def one(bps: str, quick: bool) -> None:
    from backprop_studio.core.doctor import diagnose as doctor
    from backprop_studio.core.recording.store import Recording

    def diagnose():
        rec = Recording(bps)
        try:
            return doctor.diagnose_recording(rec)
        finally:
            rec.close()

    findings = diagnose()
    rec = Recording(bps)
    count, full = len(rec.indices()), sum(row["detail"] == "full" for row in rec.scalars())
    rec.close()
    took = best_of(diagnose, 2 if quick else 5)
    emit(line(f"doctor on a {count}-iteration recording ({full} of them full detail; MLP classifier, Adam; "
              f"{len(findings)} findings)",
              f"{took:.2f} s", "< 1 s", took < 1.0))
