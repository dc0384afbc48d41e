"""Qt views of Backprop Studio (no torch here)."""

from gui.qt_compat import pin_singletons

pin_singletons()  # before any Qt call: see gui/qt_compat.py
