"""Growable numpy buffers behind the plots (no Qt): a million points append in amortised O(1)."""

from __future__ import annotations

import math
import warnings

import numpy as np

START = 1024


def grow(a: np.ndarray, size: int, fill, axis: int = 0) -> np.ndarray:
    """`a` reallocated with length >= size along `axis` (doubling), new room filled with `fill`."""
    old = a.shape[axis]
    if size <= old:
        return a
    new = max(size, 2 * old, START)
    shape = list(a.shape)
    shape[axis] = new
    out = np.full(shape, fill, dtype=a.dtype)
    index = [slice(None)] * a.ndim
    index[axis] = slice(0, old)
    out[tuple(index)] = a
    return out


def finite_or_nan(v) -> float:
    """v as a float, NaN for None, non-numbers and +-Inf (the display value)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


class Series:
    """x/y pairs with increasing x, plus `shown`: y with NaN/Inf replaced by NaN (what is drawn, so
    the line breaks there). Appending an x <= the last one first drops the points from x on (a
    re-run or restart writes over what it replaces)."""

    def __init__(self) -> None:
        self.x = np.empty(START)
        self.y = np.empty(START)
        self.shown = np.empty(START)
        self.n = 0
        self.last = -math.inf  # a Python float: cheaper to compare than a numpy element

    def append(self, x: float, y: float) -> None:
        if x <= self.last:
            self.truncate_from(x)
        n = self.n
        if n == len(self.x):
            self._reserve(n + 1)
        self.x[n] = x
        self.y[n] = y
        self.shown[n] = y if y - y == 0 else math.nan  # y - y is 0 only for finite y
        self.n = n + 1
        self.last = x

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Bulk append (xs increasing and after the current data)."""
        m = len(xs)
        if not m:
            return
        self._reserve(self.n + m)
        self.x[self.n:self.n + m] = xs
        self.y[self.n:self.n + m] = ys
        self.shown[self.n:self.n + m] = np.where(np.isfinite(ys), ys, np.nan)
        self.n += m
        self.last = float(xs[-1])

    def _reserve(self, size: int) -> None:
        self.x = grow(self.x, size, np.nan)
        self.y = grow(self.y, size, np.nan)
        self.shown = grow(self.shown, size, np.nan)

    def truncate_from(self, x: float) -> None:
        self.n = int(np.searchsorted(self.x[:self.n], x, side="left"))
        self.last = float(self.x[self.n - 1]) if self.n else -math.inf

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Views of the filled part (valid until the next append)."""
        return self.x[:self.n], self.y[:self.n]

    def shown_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[:self.n], self.shown[:self.n]


class ParamTable:
    """One value per (iteration row, parameter column), NaN where missing.

    Stored column-major (one contiguous float32 row per parameter) so a curve is a view, not a copy.
    """

    def __init__(self) -> None:
        self.x = np.empty(START)
        self.values = np.full((8, START), np.nan, dtype=np.float32)
        self.n = 0
        self.names: list[str] = []
        self.column: dict[str, int] = {}
        self.generation = 0  # bumped when rows are dropped, so cached derived curves are rebuilt

    def _col(self, name: str) -> int:
        c = self.column.get(name)
        if c is None:
            c = self.column[name] = len(self.names)
            self.names.append(name)
            self.values = grow(self.values, c + 1, np.nan, axis=0)
        return c

    def add_row(self, index: int, row: dict[str, float]) -> None:
        """Values of iteration `index`; a repeated index merges into its row."""
        if not (self.n and index == self.x[self.n - 1]):
            if self.n and index < self.x[self.n - 1]:
                self.truncate_from(index)
            if self.n == len(self.x):
                self.x = grow(self.x, self.n + 1, np.nan)
                self.values = grow(self.values, self.n + 1, np.nan, axis=1)
            self.x[self.n] = index
            self.n += 1
        for name, v in row.items():
            c = self._col(name)  # may reallocate self.values: look it up first
            self.values[c, self.n - 1] = finite_or_nan(v)

    def load(self, per_name: dict[str, list[tuple[int, float]]]) -> None:
        """Replace everything with name -> [(index, value)] histories."""
        self.__init__()
        xs = np.unique(np.fromiter((i for pts in per_name.values() for i, _ in pts), dtype=np.float64))
        self.x = grow(self.x, len(xs), np.nan)
        self.x[:len(xs)] = xs
        self.n = len(xs)
        self.values = grow(self.values, self.n, np.nan, axis=1)
        for name, pts in per_name.items():
            if not pts:
                continue
            idx = np.searchsorted(xs, np.array([i for i, _ in pts], dtype=np.float64))
            c = self._col(name)
            self.values[c, idx] = [finite_or_nan(v) for _, v in pts]

    def truncate_from(self, index: float) -> None:
        cut = int(np.searchsorted(self.x[:self.n], index, side="left"))
        self.values[:, cut:self.n] = np.nan
        self.n = cut
        self.generation += 1

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        c = self.column[name]
        return self.x[:self.n], self.values[c, :self.n]

    def ranked(self, recent: int = 64) -> list[str]:
        """Names, largest recent value first (the max over the last `recent` rows; all-NaN last)."""
        if not self.names or not self.n:
            return list(self.names)
        tail = self.values[:len(self.names), max(0, self.n - recent):self.n]
        with np.errstate(invalid="ignore"):
            top = np.where(np.isnan(tail), -np.inf, tail).max(axis=1)
        order = sorted(range(len(self.names)), key=lambda c: (-top[c], c))
        return [self.names[c] for c in order]

    def combined(self, names: list[str], how: str, start: int = 0) -> np.ndarray:
        """Rows start..n of the named columns folded into one curve: "norm" = sqrt of the sum of
        squares (the norm of all those gradients together), "median" = the median."""
        cols = [self.column[n] for n in names]
        block = self.values[cols, start:self.n].astype(np.float64)
        if how == "norm":
            with np.errstate(invalid="ignore"):
                out = np.sqrt(np.nansum(block * block, axis=0))
            out[np.all(np.isnan(block), axis=0)] = np.nan
            return out
        if np.all(np.isnan(block)):
            return np.full(block.shape[1], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as wanted
            return np.nanmedian(block, axis=0)
