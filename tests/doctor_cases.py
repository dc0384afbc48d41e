"""The training doctor's test scripts, recorded in this process, and how a run of the doctor scores on them.

tests/scripts/doctor/tuned/ holds the scripts the rules were written and tuned on (with every lesson and
the transformer example), heldout/ the ones set aside before tuning (tuned on after its first run), fresh/
a second set written later without reading the rules. A buggy script says what the doctor
must find on its second line: `# expect: CODE ITERATION SUBJECT` ("-" for any iteration or subject; the
subject is matched as a part of the finding's). Scripts named ok_* are correct: no warning, no error.
Shared by tests/test_doctor.py and benchmarks/doctor_eval.py.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from dataclasses import dataclass

from tests.util import LESSONS, ROOT

SCRIPTS = os.path.join(ROOT, "tests", "scripts", "doctor")
SPLITS = ("tuned", "heldout", "fresh")


@dataclass(frozen=True)
class Case:
    name: str
    split: str
    script: str
    args: tuple = ()
    expect: tuple | None = None  # (code, iteration or None, subject or None); None: a correct script

    @property
    def buggy(self) -> bool:
        return self.expect is not None


def _expect(path: str) -> tuple | None:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# expect:"):
                code, iteration, subject = line.split(":", 1)[1].strip().split(maxsplit=2)
                return code, None if iteration == "-" else int(iteration), None if subject == "-" else subject
    return None


def cases() -> list[Case]:
    """Every script: the doctor's own in both splits, the lessons with a backward pass and the transformer
    example (tuned: the first doctor was written against them)."""
    from backprop_studio.core import lessons

    out = []
    for split in SPLITS:
        folder = os.path.join(SCRIPTS, split)
        for file in sorted(os.listdir(folder)):
            if file.endswith(".py"):
                path = os.path.join(folder, file)
                out.append(Case(f"{split}/{file[:-3]}", split, path, expect=_expect(path)))
    out.append(Case("tuned/transformer_encoder", "tuned",
                    os.path.join(ROOT, "resources", "examples", "transformer_encoder.py"), ("4",)))
    out += [Case(f"tuned/lesson_{item['name']}", "tuned", os.path.join(LESSONS, item["file"]))
            for item in lessons.load().lessons if item["backward"]]
    return out


def record(case: Case, out: str) -> int:
    """Record `case` as `record` does (core/session/runner.record, default detail) but in this process:
    no interpreter to start. The script's output and warnings are dropped; sys.argv and sys.path are
    restored after it."""
    from backprop_studio.core.session import runner

    argv, path = sys.argv[:], sys.path[:]
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return runner.record(case.script, list(case.args), out)
    finally:
        sys.argv[:], sys.path[:] = argv, path


def diagnose(path: str) -> list[dict]:
    from backprop_studio.core.doctor import diagnose as doctor
    from backprop_studio.core.recording.store import Recording

    rec = Recording(path)
    try:
        return doctor.diagnose_recording(rec)
    finally:
        rec.close()


def found(case: Case, findings: list[dict]) -> bool:
    """A buggy case's expected finding is among `findings`."""
    code, iteration, subject = case.expect
    return any(f["code"] == code and (iteration is None or f["iteration"] == iteration)
               and (subject is None or subject in f["subject"]) for f in findings)


def alarms(findings: list[dict]) -> list[dict]:
    """The warnings and errors: on a correct script, each is a false alarm."""
    return [f for f in findings if f["level"] != "info"]
