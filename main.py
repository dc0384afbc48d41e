"""Backprop Studio command line: app, record, export, open, lessons, lesson."""

from __future__ import annotations

import argparse
import os
import sys

from backprop_studio.core.budget import DETAILS

SUBCOMMANDS = ("record", "export", "open", "lessons", "lesson")


def _fail(message: str, code: int = 2) -> int:
    print(f"backprop-studio: {message}", file=sys.stderr)
    return code


def cmd_record(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="backprop-studio record", description="Trace a script headlessly into a .bps recording.")
    p.add_argument("-o", "--output", required=True, help="recording to write (.bps)")
    p.add_argument("--break-on", action="append", default=[], metavar="COND",
                   help="stop at the first hit: nonfinite, 'loss>X', 'grad_norm>X', 'iteration=N' (repeatable)")
    p.add_argument("--detail", choices=DETAILS, default="auto")
    p.add_argument("--overhead", type=float, default=0.10, help="tracing overhead budget for --detail auto")
    p.add_argument("script")
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    from backprop_studio.core.conditions import parse_condition
    from backprop_studio.core.session import record_in_child

    for cond in a.break_on:
        try:
            parse_condition(cond)
        except ValueError as e:
            return _fail(str(e))
    if not os.path.isfile(a.script):
        return _fail(f"{a.script}: no such script")
    return record_in_child(a.script, a.args, a.output, a.detail, a.overhead, a.break_on)


def cmd_export(argv: list[str]) -> int:
    from backprop_studio.core import export
    from backprop_studio.core.recording import Recording, RecordingError

    p = argparse.ArgumentParser(prog="backprop-studio export", description="Export a recording.")
    p.add_argument("recording")
    p.add_argument("--format", choices=export.FORMATS, default="json")
    p.add_argument("--iteration", type=int, default=None, help="iteration to draw (graph formats; default the last)")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    try:
        rec = Recording(a.recording)
        export.write(rec, a.format, a.output, a.iteration)
    except (RecordingError, ValueError, OSError) as e:
        return _fail(str(e), 1)
    return 0


def cmd_lessons(argv: list[str]) -> int:
    from backprop_studio.core import lessons

    try:
        index = lessons.load()
    except lessons.LessonError as e:
        return _fail(str(e), 1)
    for chapter in index.chapters:
        print(f"{chapter['title']['en']} / {chapter['title']['zh']}")
        for lesson in index.in_chapter(chapter["id"]):
            print(f"  {lesson['name']:<32} {lesson['title']['en']}")
    return 0


def app_parser(prog: str = "backprop-studio") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Watch and step through PyTorch training.")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window headless after N iterations, save, exit")
    p.add_argument("--iterations", type=int, default=1, help="iterations before --screenshot (default 1)")
    p.add_argument("--detail", choices=DETAILS, default=None)
    p.add_argument("--presentation", action="store_true", help="large fonts, high contrast")
    p.add_argument("--run", action="store_true",
                   help="start a script running (by default it pauses after its first backward pass)")
    p.add_argument("--theme", choices=("light", "dark"), default=None)
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="the interface's language (menus, panels, status bar) and the lessons' narration")
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
    from backprop_studio.core import lessons

    target = {"mode": mode}
    if mode == "open":
        from backprop_studio.core.recording import Recording, RecordingError

        try:
            Recording(a.recording).close()
        except RecordingError as e:
            return _fail(str(e), 1)
        target["recording"] = a.recording
    elif mode == "lesson" or not getattr(a, "script", None):
        try:
            index = lessons.load()
            lesson = index.get(a.lesson if mode == "lesson" else index.default)
        except lessons.LessonError as e:
            return _fail(str(e), 1)
        target.update(mode="lesson", lesson=lesson["name"], script=index.path_of(lesson), args=[])
    else:
        if not os.path.isfile(a.script):
            return _fail(f"{a.script}: no such script")
        target.update(mode="script", script=a.script, args=a.args)
    from backprop_studio.gui.app import run_app

    return run_app(target, a)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        cmd, rest = argv[0], argv[1:]
        if cmd == "record":
            return cmd_record(rest)
        if cmd == "export":
            return cmd_export(rest)
        if cmd == "lessons":
            return cmd_lessons(rest)
        return cmd_app(rest, cmd)
    return cmd_app(argv, "script")


if __name__ == "__main__":
    sys.exit(main())
