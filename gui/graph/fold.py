"""Folding a tall top-to-bottom drawing into side-by-side columns, so a long chain fills a wide view
instead of a thin strip (read like a newspaper: down the first column, then down the next).

Pure Python on centres and sizes (points, y down); the layout's rows are never cut through.
"""

from __future__ import annotations

from bisect import bisect_right

COLUMN_GAP = 40.0  # points between columns: room for the edges running from one column to the next
MAX_COLUMNS = 12
# a connector to another column leaves its box's bottom LEAVE down (within the view's margin below the
# drawing), and enters its target from ENTRY above: ROOM_ABOVE is kept above a folded drawing's first row
LEAVE, ENTRY = 8.0, 9.0
ROOM_ABOVE = ENTRY + 2

Centres = dict[str, tuple[float, float]]
Sizes = dict[str, tuple[float, float]]


def bands(centres: Centres, sizes: Sizes) -> list[tuple[float, float]]:
    """The drawing's rows as vertical extents (overlapping boxes merged), top to bottom."""
    spans = sorted((y - sizes[b][1] / 2, y + sizes[b][1] / 2) for b, (_, y) in centres.items())
    out: list[tuple[float, float]] = []
    for top, bottom in spans:
        if out and top <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], bottom))
        else:
            out.append((top, bottom))
    return out


def _starts(rows: list[tuple[float, float]], k: int) -> list[int]:
    """Indices of the rows that begin each of at most `k` columns, the tallest column as short as it can be."""
    def greedy(height: float) -> list[int]:
        starts = [0]
        for i in range(1, len(rows)):
            if rows[i][1] - rows[starts[-1]][0] > height:
                starts.append(i)
        return starts

    lo = max(b - t for t, b in rows)
    hi = rows[-1][1] - rows[0][0]
    for _ in range(40):  # bisect the tallest column's height
        mid = (lo + hi) / 2
        if len(greedy(mid)) <= k:
            hi = mid
        else:
            lo = mid
    return greedy(hi)


def fold(centres: Centres, sizes: Sizes, k: int) -> tuple[Centres, dict[str, int]]:
    """Centres with the drawing cut into (at most) `k` columns side by side, and each box's column."""
    rows = bands(centres, sizes)
    if k <= 1 or len(rows) < 2:
        return dict(centres), dict.fromkeys(centres, 0)
    tops = [rows[i][0] for i in _starts(rows, k)]
    column = {b: bisect_right(tops, y) - 1 for b, (_, y) in centres.items()}
    left: dict[int, float] = {}
    right: dict[int, float] = {}
    for b, (x, _) in centres.items():
        c, half = column[b], sizes[b][0] / 2
        left[c] = min(left.get(c, x - half), x - half)
        right[c] = max(right.get(c, x + half), x + half)
    shift, at = {}, 0.0
    for c in sorted(left):
        shift[c] = at - left[c]
        at += right[c] - left[c] + COLUMN_GAP
    out = {b: (x + shift[column[b]], y - tops[column[b]] + tops[0]) for b, (x, y) in centres.items()}
    return out, column


def extent(centres: Centres, sizes: Sizes) -> tuple[float, float]:
    """Width and height of the drawing."""
    xs = [(x - sizes[b][0] / 2, x + sizes[b][0] / 2) for b, (x, _) in centres.items()]
    ys = [(y - sizes[b][1] / 2, y + sizes[b][1] / 2) for b, (_, y) in centres.items()]
    return max(r for _, r in xs) - min(left for left, _ in xs), max(b for _, b in ys) - min(t for t, _ in ys)


def best_columns(centres: Centres, sizes: Sizes, view: tuple[float, float], most: float) -> tuple[int, float]:
    """How many columns show the drawing largest in a `view` (w, h in pixels; scales above `most` count as
    `most`: no gain), and the scale that fits it; the fewest columns among near-equals."""
    if not centres:
        return 1, most
    found = []
    for k in range(1, min(MAX_COLUMNS, len(bands(centres, sizes))) + 1):
        w, h = extent(fold(centres, sizes, k)[0], sizes)
        h += ROOM_ABOVE if k > 1 else 0.0
        found.append((k, min(view[0] / max(w, 1.0), view[1] / max(h, 1.0), most)))
    top = max(s for _, s in found)
    return next((k, s) for k, s in found if s >= 0.97 * top)
