"""The timeline: a slider over recorded iterations and a strip marking full detail and graph changes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QElapsedTimer, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSlider, QStyle, QStyleOptionSlider, QWidget

from ..core.view_state import ViewState
from .plots.series import grow

EMIT_MS = 33  # scrubbing emits sig_selected at most ~30 times a second
FULL_COLOUR = QColor("#2f9e44")
CHANGE_COLOUR = QColor("#f08c00")


class _Marks:
    """Per-iteration flags in growable numpy arrays (fine for millions of iterations).

    `changed[i]` is kept up to date as marks arrive, so drawing never rescans the signatures."""

    def __init__(self) -> None:
        self.full = np.zeros(1024, dtype=bool)
        self.changed = np.zeros(1024, dtype=bool)
        self.sig = np.full(1024, -1, dtype=np.int32)  # signature code, -1 = unknown
        self.codes: dict[str, int] = {}
        self.last = -1  # highest index marked

    def set(self, index: int, detail: str, signature: str) -> None:
        if index >= len(self.full):
            self.full = grow(self.full, index + 1, False)
            self.changed = grow(self.changed, index + 1, False)
            self.sig = grow(self.sig, index + 1, -1)
        self.full[index] = detail == "full"
        if signature:
            self.sig[index] = self.codes.setdefault(signature, len(self.codes))
            self.changed[index] = self._differs(self._known_before(index), index)
            if index < self.last:  # marked out of order: the next known mark compares against this one
                after = index + 1
                while after <= self.last and self.sig[after] < 0:
                    after += 1
                if after <= self.last:
                    self.changed[after] = self._differs(index, after)
        self.last = max(self.last, index)

    def set_many(self, index: np.ndarray, details: list[str], signatures: list[str]) -> None:
        """set() for many iterations at once, vectorised (a recording with a million iterations)."""
        top = int(index.max())
        self.full = grow(self.full, top + 1, False)
        self.changed = grow(self.changed, top + 1, False)
        self.sig = grow(self.sig, top + 1, -1)
        self.full[index] = [d == "full" for d in details]
        codes = np.array([self.codes.setdefault(s, len(self.codes)) if s else -1 for s in signatures],
                         dtype=np.int32)
        self.sig[index[codes >= 0]] = codes[codes >= 0]
        self.last = max(self.last, top)
        sig = self.sig[:self.last + 1]
        known = np.flatnonzero(sig >= 0)
        self.changed[:self.last + 1] = False
        self.changed[known[1:][sig[known[1:]] != sig[known[:-1]]]] = True

    def _known_before(self, index: int) -> int:
        before = index - 1
        while before >= 0 and self.sig[before] < 0:
            before -= 1
        return before

    def _differs(self, a: int, b: int) -> bool:
        return a >= 0 and self.sig[a] >= 0 and self.sig[b] >= 0 and self.sig[a] != self.sig[b]

    def changed_at(self, index: int) -> bool:
        """Whether iteration `index`'s signature differs from the last known one before it."""
        return 0 <= index < len(self.changed) and bool(self.changed[index])

    def changes(self, count: int) -> np.ndarray:
        """Indices i < count whose signature differs from the last known one before i."""
        return np.flatnonzero(self.changed[:count])


class _JumpSlider(QSlider):
    """A click on the groove moves the handle there (a plain QSlider pages towards the click)."""

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            style = self.style()
            handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                              QStyle.SubControl.SC_SliderGroove, self)
                span = max(groove.width() - handle.width(), 1)
                x = int(event.position().x() - groove.x() - handle.width() / 2)
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span))
        super().mousePressEvent(event)  # on the handle now: dragging goes on from here


class _Strip(QWidget):
    """Draws one tick per pixel column that holds a full-detail iteration or a graph change."""

    sig_clicked = Signal(int)

    def __init__(self, owner: TimelineView):
        super().__init__(owner)
        self.owner = owner
        self.setMinimumHeight(14)
        self.setMaximumHeight(18)
        self.setToolTip(self.tr("Green: iterations recorded in full detail. Orange: the graph structure changed."))
        self._cache_key: tuple | None = None
        self._cache: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))

    def _span(self) -> tuple[float, float]:
        """(x of iteration 0, pixels per iteration), matching where the slider puts its handle."""
        inset = self.owner.handle_length() / 2
        n = self.owner.count
        return inset, (self.width() - 2 * inset) / max(n - 1, 1)

    def x_of(self, index: int) -> float:
        x0, step = self._span()
        return x0 + index * step

    def index_at(self, x: float) -> int:
        x0, step = self._span()
        n = self.owner.count
        return int(min(max(round((x - x0) / step), 0), max(n - 1, 0)))

    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel columns holding a full-detail iteration, and columns holding a graph change."""
        key = (self.owner.count, self.width(), self.owner.version, self._span())
        if key != self._cache_key:
            n = self.owner.count
            x0, step = self._span()
            marks = self.owner.marks
            if step >= 0.25:  # few iterations: place each one
                self._cache = tuple(np.unique((x0 + np.flatnonzero(a[:n]) * step).astype(np.int64))
                                    for a in (marks.full, marks.changed))
            else:  # many: one "any" per pixel column, O(n) but vectorised
                pixels = np.arange(int(x0), int(x0 + (n - 1) * step) + 1)
                starts = np.unique(np.clip(np.ceil((pixels - x0) / step), 0, n - 1).astype(np.int64))
                cols = (x0 + starts * step).astype(np.int64)
                self._cache = tuple(cols[np.logical_or.reduceat(a[:n], starts)]
                                    for a in (marks.full, marks.changed))
            self._cache_key = key
        return self._cache

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        h = self.height()
        p.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.AlternateBase))
        full_cols, change_cols = self._columns()
        p.setPen(QPen(FULL_COLOUR, 1))
        for x in full_cols:
            p.drawLine(int(x), h // 2, int(x), h - 1)
        p.setPen(QPen(CHANGE_COLOUR, 2))
        for x in change_cols:
            p.drawLine(int(x), 0, int(x), h // 2)
        if self.owner.count:
            x = self.x_of(self.owner.current)
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
            p.drawRect(QRectF(x - 3, 0.5, 6, h - 1))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self.owner.count:
            self.sig_clicked.emit(self.index_at(event.position().x()))


class TimelineView(QWidget):
    """Slider over iterations 0..count-1 of the ViewState, which it reads and follows (count, shown,
    following); the user's choices go out as `sig_selected` (throttled) and into `view.following`."""

    sig_selected = Signal(int)

    def __init__(self, parent: QWidget | None, view: ViewState):
        super().__init__(parent)
        self.view = view
        self.marks = _Marks()
        self.version = 0  # bumped by mark() so the strip recomputes its columns
        self._texts = ("", "")  # the label's and flags' text (setText relayouts: only on a change)
        self.slider = _JumpSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setToolTip(self.tr("Scrub through recorded iterations"))
        self.label = QLabel(self.tr("no iterations"), self)
        self.flags = QLabel("", self)  # "full detail", "graph changed" for the current iteration
        self.flags.setProperty("role", "muted")
        self._fit_label()
        self.follow = QCheckBox(self.tr("Follow live"), self)
        self.follow.setChecked(view.following)
        self.follow.setToolTip(self.tr("Jump to the newest iteration as it arrives"))
        self.strip = _Strip(self)
        layout = QGridLayout(self)  # the strip sits exactly above the slider so marks line up with it
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(1)
        layout.addWidget(self.strip, 0, 0)
        layout.addWidget(self.slider, 1, 0)
        layout.addWidget(self.label, 0, 1)
        layout.addWidget(self.flags, 1, 1)
        layout.addWidget(self.follow, 0, 2, 2, 1)
        self.slider.setMinimumWidth(160)
        layout.setColumnStretch(0, 1)
        self._pending: int | None = None
        self._since_emit = QElapsedTimer()
        self._emit_timer = QTimer(self)
        self._emit_timer.setSingleShot(True)
        self._emit_timer.timeout.connect(self._on_emit_pending)
        self.slider.valueChanged.connect(self._on_user_pick)
        self.follow.toggled.connect(self._on_follow_box)
        self.strip.sig_clicked.connect(self._on_user_pick)
        view.events.count.connect(self._on_count)
        view.events.shown.connect(self._on_shown)
        view.events.following.connect(self._on_following)

    # -- public interface --------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self.view.count

    @property
    def current(self) -> int:
        """The iteration shown (0 before any)."""
        return min(self.view.shown or 0, max(self.view.count - 1, 0))

    def mark(self, index: int, detail: str, signature: str) -> None:
        """Record that iteration `index` has `detail` ("full"/"light") and graph `signature`."""
        if index < 0:
            return
        self.marks.set(int(index), detail, signature)
        self.version += 1  # the strip recomputes its columns at the next paint
        self.strip.update()

    def mark_rows(self, rows: list[dict]) -> None:
        """mark() for many rows at once ({index, detail, signature}, e.g. Recording.scalars())."""
        rows = [r for r in rows if isinstance(r.get("index"), int) and r["index"] >= 0]
        if rows:
            self.marks.set_many(np.fromiter((r["index"] for r in rows), dtype=np.int64, count=len(rows)),
                                [r.get("detail") or "" for r in rows], [r.get("signature") or "" for r in rows])
        self.version += 1
        self.strip.update()

    def handle_length(self) -> int:
        """Width of the slider's handle (the strip leaves half of it free at each end)."""
        opt = QStyleOptionSlider()
        self.slider.initStyleOption(opt)
        rect = self.slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                                  QStyle.SubControl.SC_SliderHandle, self.slider)
        return rect.width()

    def is_full(self, index: int) -> bool:
        return 0 <= index < len(self.marks.full) and bool(self.marks.full[index])

    def changes(self) -> list[int]:
        """Iterations where the graph signature changed."""
        return self.marks.changes(self.count).tolist()

    def pick(self, index: int) -> None:
        """The user chose iteration `index` elsewhere (a click in a plot): as a click on the timeline."""
        if self.count:
            self._on_user_pick(min(max(int(index), 0), self.count - 1))

    # -- the view state's events ---------------------------------------------------------------
    def _on_count(self, n: int) -> None:
        if n == 0:
            self.marks = _Marks()  # a restart: nothing is recorded any more
            self.version += 1
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 0)
        self._on_shown(self.view.shown)

    def _on_shown(self, _index: int | None) -> None:
        if not self.slider.isSliderDown() and self.slider.value() != self.current:  # not under the user's hand
            self.slider.blockSignals(True)
            self.slider.setValue(self.current)
            self.slider.blockSignals(False)
        self._update_label()
        self.strip.update()

    def _on_following(self, on: bool) -> None:
        self.follow.blockSignals(True)
        self.follow.setChecked(on)
        self.follow.blockSignals(False)

    # -- the user's choices -----------------------------------------------------------------------
    def _on_user_pick(self, index: int) -> None:
        if index != self.count - 1:
            self.view.following = False  # the user looks at the past: stop jumping away from it
        self._pending = index
        if self._emit_timer.isActive():
            return
        if not self._since_emit.isValid() or self._since_emit.elapsed() >= EMIT_MS:
            self._on_emit_pending()
        else:
            self._emit_timer.start(EMIT_MS - self._since_emit.elapsed())

    def _on_emit_pending(self) -> None:
        if self._pending is None:
            return
        index, self._pending = self._pending, None
        self._since_emit.start()
        self.sig_selected.emit(index)

    def _on_follow_box(self, on: bool) -> None:
        self.view.following = on

    def _update_label(self) -> None:
        current, count = self.current, self.count
        if not count:
            text, flags = self.tr("no iterations"), ""
        else:
            names = []
            if self.is_full(current):
                names.append(self.tr("full detail"))
            if self.marks.changed_at(current):
                names.append(self.tr("graph changed"))
            if current in self.view.bare:
                names.append(self.tr("loss only: no graph kept (recorded by an older version)"))
            text = self.tr("iteration {index} / {last}").format(index=current, last=count - 1)
            flags = " · ".join(names)
        if (text, flags) != self._texts:  # setText relayouts: only when something changed
            self._texts = (text, flags)
            self.label.setText(text)
            self.flags.setText(flags)

    def _fit_label(self) -> None:
        """Room for the longest label so the slider does not jump as numbers grow."""
        metrics = self.label.fontMetrics()
        self.label.setMinimumWidth(max(
            metrics.horizontalAdvance(self.tr("iteration {index} / {last}").format(index="000000", last="000000")),
            metrics.horizontalAdvance(self.tr("full detail") + " · " + self.tr("graph changed"))))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.type() in (event.Type.FontChange, event.Type.ApplicationFontChange):
            self._fit_label()
        super().changeEvent(event)
