"""Application entry: `run_app(target, args)` opens the main window, or renders a screenshot headless."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time

from ..core.session.launch import ExitCode

SCREENSHOT_TIMEOUT = 45.0  # seconds until a screenshot saves what is shown and says why


def _headless_platform() -> None:
    """Screenshots need no display: use the offscreen platform unless one is configured or present."""
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def freeze_startup_objects() -> None:
    """Leave everything alive now (modules, Qt wrappers, the window) out of future cyclic collections.

    They live as long as the app anyway; scanning them made each full collection stall the UI for
    ~0.1-0.4 s. Reference counting still frees objects as usual; only cycles among them stay.
    """
    gc.collect()
    gc.freeze()


def run_app(target: dict, args: argparse.Namespace) -> int:
    """Open the app on `target` ({"mode": lesson|script|open, ...}); returns the process exit code."""
    if args.screenshot:
        _headless_platform()
    from PySide6.QtWidgets import QApplication

    from . import i18n
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Studio")
    app.setOrganizationName("BackpropStudio")
    try:  # before any widget exists: texts are translated as widgets are built (the app owns the translators)
        i18n.install(app, args.lang or "en")
    except FileNotFoundError as e:
        print(f"backprop-studio: {e}; the interface stays in English", file=sys.stderr)
    settings = None
    if args.screenshot:  # a headless render does not touch the user's recent files
        from PySide6.QtCore import QSettings

        settings = QSettings(os.path.join(tempfile.mkdtemp(prefix="backprop-studio-"), "settings.ini"),
                             QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, theme=args.theme or "light", presentation=bool(args.presentation),
                        lang=args.lang or "en")
    freeze_startup_objects()
    if args.screenshot:
        try:
            return screenshot(window, target, args.screenshot, max(int(args.iterations or 1), 1), args.detail,
                              size=args.size)
        finally:  # nothing left in the temporary directory: the window's child ended, then its settings
            window.close()
            settings.sync()
            shutil.rmtree(os.path.dirname(settings.fileName()), ignore_errors=True)
    window.show()
    window.open_target(target, detail=args.detail, first=not args.run)
    return app.exec()


def screenshot(window, target: dict, out: str, iterations: int = 1, detail: str | None = None,
               size: tuple[int, int] = (1600, 1000),
               timeout: float = SCREENSHOT_TIMEOUT) -> int:
    """Run `target` until `iterations` iterations are shown and drawn, save the window as PNG; 0 on success."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    window.resize(*size)
    window.show()
    last = iterations - 1
    reached = {"at": None}
    problem = None

    def on_paused(d: dict) -> None:
        if d.get("point") == "backward_end" and d.get("index", -1) >= last:
            reached["at"] = d["index"]
        elif d.get("reason") == "break":  # a breakpoint stopped it first
            reached["stopped"] = f"a breakpoint paused the script at iteration {d.get('index', '?')}, " \
                                 f"before iteration {last}; the screenshot shows where it paused"

    window.bridge.sig_paused.connect(on_paused)
    if not window.open_target(target, detail=detail or ("full" if target.get("mode") == "lesson" else None),
                              paused=True):
        return _fail(window.last_error or "could not open the target")
    bridge = window.bridge
    growing = bridge.view.mode == "replay" and bridge.following_file  # another process still writes it
    if growing:
        pass  # followed below until iteration `last` is there or the writer closes the file
    elif bridge.view.mode == "replay":
        if bridge.view.count and not bridge.show(min(last, bridge.view.count - 1)):
            return _fail(f"iteration {last} could not be read from the recording")
        reached["at"] = bridge.view.shown
        if bridge.view.count < iterations:
            problem = (f"the recording has {bridge.view.count} iteration(s), fewer than {iterations}; "
                       "the screenshot shows the last one")
    else:
        bridge.run_to(last)
    deadline = time.monotonic() + timeout
    while True:
        app.processEvents()
        if growing and (bridge.view.count > last or not bridge.following_file):
            growing = False
            if bridge.view.count <= last:
                problem = (f"the recording ended with {bridge.view.count} iteration(s), fewer than {iterations}; "
                           "the screenshot shows the last one")
            if bridge.view.count:
                reached["at"] = min(last, bridge.view.count - 1)
                bridge.show(reached["at"])
                bridge.view.following = False  # stay there while the file grows on
        done = reached["at"] is not None or bridge.view.state == "finished" or \
            (bridge.view.mode == "replay" and not growing) or "stopped" in reached
        if done and not window.graph.busy and not window.diagnostics.busy and _shown_matches(window, reached["at"]):
            break
        if time.monotonic() > deadline:
            problem = f"timed out after {timeout:g} s waiting for iteration {last} to be shown; " \
                      "the screenshot shows what was on screen"
            break
        time.sleep(0.01)
    if reached["at"] is None and problem is None:
        problem = reached.get("stopped") or _why_short(bridge, iterations)
    for view in (window.plots, window.console):
        view.flush()
    for _ in range(5):
        app.processEvents()
    image = window.grab()
    bridge.close()
    if not image.save(out):
        return _fail(f"could not write {out}")
    print(f"backprop-studio: saved {out} ({image.width()}x{image.height()}, iteration "
          f"{window.iteration.index if window.iteration else '–'})")
    if problem:
        return _fail(problem)
    return ExitCode.OK


def _shown_matches(window, index: int | None) -> bool:
    """The graph view shows the wanted iteration (or the last one there is) with its layout done."""
    it = window.graph.iteration
    if index is None:
        return it is None or window.graph.shown_key is not None
    return it is not None and it.index == index and window.graph.shown_key is not None


def _why_short(bridge, iterations: int) -> str:
    status = bridge.view.phase or "finished"
    return (f"the script {status} after {bridge.view.count} iteration(s), before iteration {iterations - 1}; "
            "the screenshot shows where it ended")


def _fail(message: str) -> int:
    print(f"backprop-studio: {message}", file=sys.stderr)
    return ExitCode.FAILED
