"""The cyclic collector runs on the GUI thread only: a worker thread's allocations never free Qt objects."""

from __future__ import annotations

import gc
import threading

from PySide6.QtWidgets import QMenu


def test_a_window_turns_the_automatic_collector_off_and_collects_on_the_gui_thread(make_main_window, qtbot):
    make_main_window()
    assert not gc.isenabled()
    destroyed_in: list[str] = []

    class Cycle:
        pass

    c = Cycle()
    c.menu = QMenu()
    c.me = c  # garbage only a cyclic collection frees
    c.menu.destroyed.connect(lambda: destroyed_in.append(threading.current_thread().name))
    del c

    def allocate():  # what a worker does: lots of allocation, which used to trigger a collection here
        junk = [[i] for i in range(200_000)]
        del junk

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(destroyed_in), timeout=30_000)
    assert destroyed_in == [threading.main_thread().name]
