"""What a notebook shows of a run, as plain SVG and HTML: loss and gradient-norm plots, the findings,
and the whole view as one static page (the fallback where widgets are not available)."""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

PLOT_W, PLOT_H = 380.0, 150.0
LEFT, RIGHT, TOP, BOTTOM = 48.0, 10.0, 22.0, 20.0  # plot area margins (the widget's marker uses them)
MAX_POINTS = 800  # more iterations are drawn as each bin's lowest and highest value
LEVEL_COLOURS = {"error": "#c62828", "warning": "#b26a00", "info": "#1565c0"}


def _bins(values: list[float | None]) -> list[tuple[int, float]]:
    """(index, value) of the finite values; above MAX_POINTS, each bin's min and max in index order."""
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if len(points) <= MAX_POINTS:
        return points
    size = len(points) / (MAX_POINTS / 2)
    out = []
    for b in range(MAX_POINTS // 2):
        chunk = points[int(b * size):int((b + 1) * size)]
        if chunk:
            lo, hi = min(chunk, key=lambda p: p[1]), max(chunk, key=lambda p: p[1])
            out.extend(sorted({lo, hi}))
    return out


def line_plot(values: list[float | None], title: str, colour: str) -> str:
    """An SVG line plot of one value per iteration (log scale when positive over two decades or more);
    `data-*` attributes give the plot area, for the widget's iteration marker."""
    n = len(values)
    points = _bins(values)
    ys = [v for _, v in points]
    log = bool(ys) and min(ys) > 0 and max(ys) / min(ys) >= 100
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo, hi = (scale(min(ys)), scale(max(ys))) if ys else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    x0, x1, y0, y1 = LEFT, PLOT_W - RIGHT, TOP, PLOT_H - BOTTOM

    def x(i: int) -> float:
        return x0 + (x1 - x0) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return y1 - (y1 - y0) * (scale(v) - lo) / (hi - lo)

    fmt = (lambda v: f"{10 ** v:.3g}") if log else (lambda v: f"{v:.3g}")
    path = " ".join(f"{'M' if k == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for k, (i, v) in enumerate(points))
    bad = [i for i, v in enumerate(values) if v is not None and not math.isfinite(v)]
    marks = "".join(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y0}" y2="{y1}" stroke="#e53935" '
                    f'stroke-width="1"/>' for i in bad[:50])  # NaN/Inf: red ticks
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="bps-plot" width="{PLOT_W:.0f}" height="{PLOT_H:.0f}" '
            f'viewBox="0 0 {PLOT_W:.0f} {PLOT_H:.0f}" font-family="sans-serif" font-size="10" '
            f'data-x0="{x0}" data-x1="{x1}" data-y0="{y0}" data-y1="{y1}" data-n="{n}">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text x="{x0}" y="13" font-size="12" font-weight="bold">{escape(title)}{" (log)" if log else ""}</text>'
            f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#bbb"/>'
            f'<text x="{x0 - 4}" y="{y0 + 8}" text-anchor="end">{fmt(hi) if ys else ""}</text>'
            f'<text x="{x0 - 4}" y="{y1}" text-anchor="end">{fmt(lo) if ys else ""}</text>'
            f'<text x="{x0}" y="{PLOT_H - 6}">0</text>'
            f'<text x="{x1}" y="{PLOT_H - 6}" text-anchor="end">{max(n - 1, 0)}</text>'
            f'{marks}<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/></svg>')


def findings_html(findings: list[dict]) -> str:
    """The doctor's findings as a list (a line saying there are none when there are none)."""
    if not findings:
        return '<p class="bps-none">The doctor found nothing to report.</p>'
    items = "".join(
        f'<li data-iteration="{f["iteration"] if f["iteration"] is not None else ""}">'
        f'<b style="color:{LEVEL_COLOURS.get(f["level"], "#333")}">{escape(f["level"].upper())}</b> '
        f'<code>{escape(f["code"])}</code> iteration {f["iteration"]} <b>{escape(str(f["subject"]))}</b>: '
        f'{escape(f["message"])}<br><small>{escape(f.get("hint") or "")}</small></li>' for f in findings)
    return f'<ul class="bps-findings">{items}</ul>'


def headline(state: dict) -> str:
    """One line: status, iterations, file (and the error, if any)."""
    error = state.get("error")
    why = f" — {error['type']}: {error['message']}" if error else ""
    return (f"{state['status']}: {state['count']} iteration{'s' if state['count'] != 1 else ''}{why} · "
            f"{state['path']}")


def page(state: dict) -> str:
    """The run as static HTML: headline, the last iteration's graph, the plots, the findings."""
    last = state["count"] - 1
    if state["shown"] is not None:
        graph, shown = state["shown"]["svg"], f"iteration {state['shown']['index']}"
    elif last >= 0:
        first = state["graphs"][state["structure"][last]]["index"]
        graph, shown = state["graphs"][state["structure"][last]]["svg"], f"iteration {last} (drawn at {first})"
    else:
        graph, shown = "", "no iteration yet"
    return (f'<div class="bps-static" style="font-family:sans-serif;font-size:13px">'
            '<style>.bps-static .bps-graph svg {max-width:100%; height:auto}</style>'
            f'<div><b>Backprop Studio</b> — {escape(headline(state))}</div>'
            f'<div style="display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap">'
            f'<div class="bps-graph" style="width:520px;max-height:620px;overflow:auto;border:1px solid #ddd">'
            f'<div style="font-size:12px;padding:2px 4px">{shown}</div>{graph[graph.find("<svg"):]}</div>'
            f'<div>{state["loss_plot"]}<br>{state["grad_plot"]}</div></div>'
            f'{findings_html(state["findings"])}</div>')
