"""The training doctor on its test scripts and on a long run (issue 24).

    .venv/bin/python -m benchmarks.doctor_eval [--quick]

Recall (buggy scripts whose expected finding is found) and false alarms (correct scripts with a warning
or an error), split into the scripts the rules were tuned on, the held-out ones and the fresh ones (tests/doctor_cases.py;
each recorded in this process at the default detail). Then the doctor's cost on a 1000-iteration
recording of the 20-layer MLP, read from scratch (target: under 1 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter

import torch

from benchmarks.common import best_of, emit, line


def table(rows: list[tuple[str, bool, bool | None, list[dict]]]) -> list[str]:
    """rows: (split, buggy, found or None, findings) -> the recall / false-alarm table in Markdown."""
    out = ["| scripts | buggy: expected finding found | correct: with a warning or error |", "| --- | --- | --- |"]
    for split in ("tuned", "heldout", "fresh", "all"):
        mine = [r for r in rows if split in ("all", r[0])]
        buggy = [r for r in mine if r[1]]
        correct = [r for r in mine if not r[1]]
        found = sum(bool(r[2]) for r in buggy)
        alarms = sum(bool([f for f in r[3] if f["level"] != "info"]) for r in correct)
        out.append(f"| {split} | {found} / {len(buggy)} ({100 * found / max(len(buggy), 1):.0f} %) "
                   f"| {alarms} / {len(correct)} |")
    return out


def evaluate() -> list[tuple[str, bool, bool | None, list[dict]]]:
    from tests import doctor_cases

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for case in doctor_cases.cases():
            path = os.path.join(folder, case.name.replace("/", "_") + ".bps")
            doctor_cases.record(case, path)
            findings = doctor_cases.diagnose(path)
            found = doctor_cases.found(case, findings) if case.buggy else None
            rows.append((case.split, case.buggy, found, findings))
            if case.buggy and not found:
                emit(f"  missed: {case.name} (expected {case.expect}; got "
                     f"{[(f['code'], f['iteration'], f['subject']) for f in findings]})")
            if not case.buggy and doctor_cases.alarms(findings):
                emit(f"  false alarm: {case.name}: {[(f['code'], f['subject']) for f in doctor_cases.alarms(findings)]}")
    return rows


def long_recording(path: str, iterations: int) -> None:
    """`iterations` SGD steps of the 20-layer MLP, recorded as `record` does (default detail, updates)."""
    from backprop_studio.core.recording.store import RecordingWriter
    from backprop_studio.core.trace.tracer import Tracer
    from backprop_studio.core.trace.updates import Updates
    from benchmarks.models import training_step

    step = training_step("mlp20")
    writer = RecordingWriter(path, {"script": "mlp20", "argv": [], "detail": "auto"})
    tracer = Tracer(writer.add_iteration)
    tracer.add_observer(Updates(tracer, writer))
    tracer.install()
    try:
        for _ in range(iterations):
            step()
    finally:
        tracer.uninstall()
    writer.close("finished")


def cost(iterations: int) -> float:
    from backprop_studio.core.doctor import diagnose as doctor
    from backprop_studio.core.recording.store import Recording

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "long.bps")
        long_recording(path, iterations)

        def once() -> None:
            rec = Recording(path)
            try:
                doctor.diagnose_recording(rec)
            finally:
                rec.close()

        return best_of(once, 3)


def run(quick: bool = False) -> None:
    torch.set_num_threads(1)
    started = time.perf_counter()
    rows = evaluate()
    for text in table(rows):
        emit(text)
    per_code = Counter()
    hits = Counter()
    from tests import doctor_cases

    for case, row in zip(doctor_cases.cases(), rows, strict=True):
        if case.buggy:
            per_code[case.expect[0]] += 1
            hits[case.expect[0]] += bool(row[2])
    emit("per code (found / scripts): " + ", ".join(f"{c} {hits[c]}/{n}" for c, n in sorted(per_code.items())))
    for split, label in (("heldout", "held-out"), ("fresh", "fresh")):
        held = [r for r in rows if r[0] == split]
        recall = sum(bool(r[2]) for r in held if r[1]) / max(sum(r[1] for r in held), 1)
        emit(line(f"doctor recall on {label} buggy scripts", f"{100 * recall:.0f} %", "reported", None))
    emit(line("doctor false alarms on correct scripts", str(sum(bool(doctor_cases.alarms(r[3])) for r in rows
                                                                if not r[1])), "0", not any(
        doctor_cases.alarms(r[3]) for r in rows if not r[1])))
    emit(f"  ({time.perf_counter() - started:.0f} s to record and diagnose {len(rows)} scripts)")
    iterations = 200 if quick else 1000
    seconds = cost(iterations)
    emit(line(f"doctor on a {iterations}-iteration recording of the 20-layer MLP", f"{seconds:.2f} s", "< 1 s",
              seconds < 1.0))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run("--quick" in sys.argv)
