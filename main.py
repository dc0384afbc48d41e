"""Backprop Studio command line: app, record, export, merge, open, doctor, lessons, lesson."""

from __future__ import annotations

import argparse
import os
import sys

if not __package__:  # `python main.py` from a checkout: load this folder as the package, then run it
    import importlib.machinery
    import importlib.util

    _spec = importlib.machinery.ModuleSpec("backprop_studio", None, is_package=True)
    _spec.submodule_search_locations = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules.setdefault("backprop_studio", importlib.util.module_from_spec(_spec))
    from backprop_studio.main import main

    sys.exit(main())

from .core.iteration import DEFAULT_DETAIL, DETAILS  # noqa: E402
from .core.session.launch import ExitCode  # noqa: E402

SUBCOMMANDS = ("record", "export", "merge", "open", "lessons", "lesson", "doctor")


def _fail(message: str, code: int = ExitCode.USAGE) -> int:
    print(f"backprop-studio: {message}", file=sys.stderr)
    return code


def cmd_record(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="backprop-studio record", description="Trace a script headlessly into a .bps recording.")
    p.add_argument("-o", "--output", required=True, help="recording to write (.bps)")
    p.add_argument("--break-on", action="append", default=[], metavar="COND",
                   help="stop at the first hit: nonfinite, 'loss>X', 'grad_norm>X', 'iteration=N' (repeatable)")
    p.add_argument("--detail", choices=DETAILS, default=DEFAULT_DETAIL)
    p.add_argument("--overhead", type=float, default=0.10, help="tracing overhead budget for --detail auto")
    dist = p.add_argument_group("distributed (torchrun; every rank is traced and recorded)")
    dist.add_argument("--nproc-per-node", type=int, default=None, metavar="N", help="ranks on this node")
    dist.add_argument("--nnodes", type=int, default=1, metavar="M", help="nodes in the job")
    dist.add_argument("--node-rank", type=int, default=0, metavar="K", help="this node's rank (0..M-1)")
    dist.add_argument("--rdzv-endpoint", default=None, metavar="HOST:PORT", help="node 0's address")
    dist.add_argument("--rdzv-id", default=None, metavar="ID", help="the job's id, the same on every node")
    dist.add_argument("--collective-timeout", type=float, default=None, metavar="SECONDS",
                      help="how long a collective may wait (default torch's: 30 min gloo, 10 min NCCL)")
    p.add_argument("script")
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    from .core.conditions import parse_condition
    from .core.session.session import record_in_child

    for cond in a.break_on:
        try:
            parse_condition(cond)
        except ValueError as e:
            return _fail(str(e))
    if not os.path.isfile(a.script):
        return _fail(f"{a.script}: no such script")
    if a.nproc_per_node is not None or a.nnodes != 1:
        return _record_distributed(a)
    return record_in_child(a.script, a.args, a.output, a.detail, a.overhead, a.break_on)


def _record_distributed(a: argparse.Namespace) -> int:
    from .core.distributed.launch import record_distributed

    if (a.nproc_per_node or 0) < 1 or a.nnodes < 1 or not 0 <= a.node_rank < a.nnodes:
        return _fail("need --nproc-per-node N >= 1, --nnodes M >= 1 and 0 <= --node-rank < M")
    if a.nnodes > 1 and not (a.rdzv_endpoint and a.rdzv_id):
        return _fail("several nodes need --rdzv-endpoint HOST:PORT (node 0's) and --rdzv-id ID, the same on every "
                     "node (the id tells `merge` which recordings belong together)")
    return record_distributed(a.script, a.args, a.output, a.nproc_per_node, a.nnodes, a.node_rank,
                              a.rdzv_endpoint, a.rdzv_id, a.detail, a.overhead, a.break_on, a.collective_timeout)


def cmd_export(argv: list[str]) -> int:
    from .core.recording.store import Recording, RecordingError
    from .core.render import export

    p = argparse.ArgumentParser(prog="backprop-studio export", description="Export a recording.")
    p.add_argument("recording")
    p.add_argument("--format", choices=export.FORMATS, default="json")
    p.add_argument("--iteration", type=int, default=None, help="iteration to draw (graph formats; default the last)")
    p.add_argument("--rank", type=int, default=None, help="rank of a distributed recording (default the lowest, 0)")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    try:
        rec = Recording(a.recording, rank=a.rank)
        export.write(rec, a.format, a.output, a.iteration)
    except (RecordingError, ValueError, OSError) as e:
        return _fail(str(e), ExitCode.FAILED)
    return ExitCode.OK


def cmd_merge(argv: list[str]) -> int:
    from .core.distributed.merge import MergeError, merge
    from .core.recording.store import RecordingError

    p = argparse.ArgumentParser(prog="backprop-studio merge",
                                description="Join the recordings of one distributed job's nodes into one.")
    p.add_argument("recordings", nargs="+")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    try:
        merge(a.recordings, a.output)
    except (MergeError, RecordingError, OSError) as e:
        return _fail(str(e), ExitCode.FAILED)
    return ExitCode.OK


def cmd_doctor(argv: list[str]) -> int:
    from .core.doctor import diagnose as doctor
    from .core.recording.store import Recording, RecordingError

    p = argparse.ArgumentParser(prog="backprop-studio doctor",
                                description="Find classic training bugs in a recording (exit 4 if any).")
    p.add_argument("recording")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-o", "--output", default=None, help="write the findings here (default: stdout)")
    a = p.parse_args(argv)
    try:
        rec = Recording(a.recording)
        try:
            findings = doctor.diagnose_recording(rec)
        finally:
            rec.close()
    except RecordingError as e:
        return _fail(str(e), ExitCode.FAILED)
    text = doctor.to_json(findings) if a.format == "json" else doctor.to_text(findings)
    if a.output is None:
        sys.stdout.write(text)
    else:
        try:
            with open(a.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            return _fail(str(e), ExitCode.FAILED)
    return ExitCode.FINDINGS if doctor.has_problems(findings) else ExitCode.OK


def cmd_lessons(argv: list[str]) -> int:
    from .core import lessons

    try:
        index = lessons.load()
    except lessons.LessonError as e:
        return _fail(str(e), ExitCode.FAILED)
    for chapter in index.chapters:
        print(f"{chapter['title']['en']} / {chapter['title']['zh']}")
        for lesson in index.in_chapter(chapter["id"]):
            print(f"  {lesson['name']:<32} {lesson['title']['en']}")
    return ExitCode.OK


def _size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720)."""
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT, e.g. 1280x720, not {text!r}") from None
    if w < 200 or h < 200:
        raise argparse.ArgumentTypeError(f"{text}: at least 200x200")
    return w, h


def app_parser(prog: str = "backprop-studio") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Watch and step through PyTorch training.",
        epilog="also: `%(prog)s [OPTIONS] lesson NAME` and `%(prog)s [OPTIONS] open RUN.bps` (these options before "
               "or after the subcommand); record, export, doctor, merge and lessons take their own options after "
               "their name (`%(prog)s record --help`)")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window headless after N iterations, save, exit")
    p.add_argument("--iterations", type=int, default=1, help="iterations before --screenshot (default 1)")
    p.add_argument("--size", type=_size, default=(1600, 1000), metavar="WxH",
                   help="the window's size for --screenshot (default 1600x1000)")
    p.add_argument("--detail", choices=DETAILS, default=None)
    p.add_argument("--presentation", action="store_true", help="large fonts, high contrast")
    p.add_argument("--run", action="store_true",
                   help="start a script running (by default it pauses after its first backward pass)")
    p.add_argument("--theme", choices=("light", "dark"), default=None)
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="the interface's language (menus, panels, status bar) and the lessons' narration")
    p.add_argument("--nproc-per-node", type=int, default=None, metavar="N",
                   help="run SCRIPT as N ranks under torchrun (DDP), every rank traced live")
    return p


def cmd_app(argv: list[str], mode: str) -> int:
    """Open the app: on a script, a recording (`open`), a lesson, or the default lesson."""
    p = app_parser()
    if mode == "open":
        p.add_argument("recording")
    elif mode == "lesson":
        p.add_argument("lesson")
    else:
        p.add_argument("script", nargs="?")
        p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    from .core import lessons

    target = {"mode": mode}
    if mode == "open":
        from .core.recording.store import Recording, RecordingError

        try:
            Recording(a.recording).close()
        except RecordingError as e:
            return _fail(str(e), ExitCode.FAILED)
        target["recording"] = a.recording
    elif a.nproc_per_node is not None and (a.nproc_per_node < 1 or not getattr(a, "script", None)):
        return _fail("--nproc-per-node N needs N >= 1 and a script")
    elif mode == "lesson" or not getattr(a, "script", None):
        try:
            index = lessons.load()
            lesson = index.get(a.lesson if mode == "lesson" else index.default)
        except lessons.LessonError as e:
            return _fail(str(e), ExitCode.FAILED)
        target.update(mode="lesson", lesson=lesson["name"], script=index.path_of(lesson), args=[])
    else:
        if not os.path.isfile(a.script):
            return _fail(f"{a.script}: no such script")
        target.update(mode="script", script=a.script, args=a.args, nproc=a.nproc_per_node)
    from .gui.app import run_app

    return run_app(target, a)


def _after_app_options(argv: list[str]) -> int | None:
    """Where the first word that is not an app option (or its value) is: the script or a subcommand."""
    takes_value = {s for a in app_parser()._actions if a.nargs != 0 for s in a.option_strings}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        i += 2 if argv[i] in takes_value else 1
    return i if i < len(argv) else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    at = _after_app_options(argv)
    if at and argv[at] in ("open", "lesson"):  # app options before the subcommand: `--presentation lesson NAME`
        return cmd_app(argv[:at] + argv[at + 1:], argv[at])
    if at and argv[at] in SUBCOMMANDS:
        return _fail(f"{' '.join(argv[:at])}: options of the app, not of `{argv[at]}`; `{argv[at]}` takes its own "
                     f"options after its name: backprop-studio {argv[at]} [OPTIONS] ... "
                     f"(backprop-studio {argv[at]} --help)")
    if argv and argv[0] in SUBCOMMANDS:
        cmd, rest = argv[0], argv[1:]
        if cmd == "record":
            return cmd_record(rest)
        if cmd == "export":
            return cmd_export(rest)
        if cmd == "merge":
            return cmd_merge(rest)
        if cmd == "doctor":
            return cmd_doctor(rest)
        if cmd == "lessons":
            return cmd_lessons(rest)
        return cmd_app(rest, cmd)
    return cmd_app(argv, "script")


if __name__ == "__main__":
    sys.exit(main())
