"""Light / dark / presentation themes, fonts with a CJK fallback, and the colours views share.

`apply_theme` sets the application palette, font and style sheet; widgets that draw with
pyqtgraph restyle themselves on the resulting PaletteChange event. `node_colours`, `grad_colour`
and `legend_stops` give the graph view its colours so the legend and the nodes agree.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("light", "dark")
QSS_DIR = Path(__file__).resolve().parent.parent / "resources" / "qss"

# Latin faces first, then CJK faces so Chinese text in scripts and names renders.
FONT_FAMILIES = ["Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial",
                 "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "sans-serif"]
MONO_FAMILIES = ["DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", "Consolas",
                 "WenQuanYi Micro Hei Mono", "Noto Sans Mono CJK SC", "monospace"]
BASE_POINT_SIZE = 10
PRESENTATION_POINT_SIZE = 18

# Window, base, text, alternate base, highlight, highlighted text, link, muted text.
_PALETTES = {
    ("light", False): ("#f3f3f3", "#ffffff", "#1e1e1e", "#f7f7f7", "#2f6fcf", "#ffffff", "#1a5fb4", "#6b6b6b"),
    ("dark", False): ("#25272b", "#1c1d20", "#e4e4e4", "#24262a", "#3d7fd9", "#ffffff", "#7fb2ff", "#9a9a9a"),
    ("light", True): ("#ffffff", "#ffffff", "#000000", "#f0f0f0", "#0040c0", "#ffffff", "#0030a0", "#303030"),
    ("dark", True): ("#000000", "#000000", "#ffffff", "#141414", "#ffd000", "#000000", "#8fc8ff", "#d0d0d0"),
}

_NODE_COLOURS = {
    "light": {"param": "#f6c667", "leaf": "#8fd19e", "op": "#dde3ea", "custom": "#c9a7f0",
              "nonfinite": "#e0002a", "edge": "#7a8594", "module": "#bcc5d1", "text": "#111111", "added": "#ff8c00",
              "selected": "#2f6fcf", "background": "#ffffff", "origin": "#a000c8",
              "error": "#c62828", "warning": "#b86e00", "info": "#00838f"},  # the doctor's finding levels
    "dark": {"param": "#b8862b", "leaf": "#3f8f55", "op": "#3a414b", "custom": "#7a55b3",
             "nonfinite": "#ff2d55", "edge": "#8a94a3", "module": "#5b6675", "text": "#f0f0f0", "added": "#ffa533",
             "selected": "#6fa8ff", "background": "#1c1d20", "origin": "#e060ff",
             "error": "#ff5c5c", "warning": "#ffb84d", "info": "#4dd0e1"},
}

# Sequential maps for gradient magnitude, small -> large (small recedes into the background).
_GRAD_MAPS = {
    "light": ["#f2f7fb", "#c6dbef", "#6baed6", "#2171b5", "#08306b"],
    "dark": ["#23303d", "#24597f", "#2f8fc6", "#6cc6f0", "#d6f3ff"],
}
_NO_GRAD = {"light": "#e6e6e6", "dark": "#34373c"}


def _check(name: str) -> str:
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; choose one of: {', '.join(THEMES)}")
    return name


def ui_font(point_size: int = BASE_POINT_SIZE) -> QFont:
    """The UI font with the family fallback list (CJK included)."""
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    font.setPointSize(point_size)
    return font


def mono_font(point_size: int | None = None) -> QFont:
    """A monospace font with a CJK fallback, at the application's current size by default."""
    app = QApplication.instance()
    size = point_size or (app.font().pointSize() if app else BASE_POINT_SIZE)
    font = QFont()
    font.setFamilies(MONO_FAMILIES)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    font.setPointSize(max(size, 1))
    return font


def make_palette(name: str = "light", presentation: bool = False) -> QPalette:
    """The QPalette of a theme."""
    window, base, text, alt, high, high_text, link, muted = (
        QColor(c) for c in _PALETTES[(_check(name), bool(presentation))])
    pal = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, window), (roles.Base, base), (roles.AlternateBase, alt),
                         (roles.WindowText, text), (roles.Text, text), (roles.ButtonText, text),
                         (roles.ToolTipText, text), (roles.Button, window), (roles.ToolTipBase, base),
                         (roles.Highlight, high), (roles.HighlightedText, high_text),
                         (roles.Link, link), (roles.PlaceholderText, muted), (roles.BrightText, QColor("#ff3030"))):
        pal.setColor(role, colour)
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, muted)
    return pal


def apply_theme(app: QApplication, name: str = "light", presentation: bool = False) -> None:
    """Apply a theme (light or dark; presentation = high contrast, large fonts) to the whole app."""
    _check(name)
    # Properties first: widgets read current_theme() when the palette change reaches them.
    app.setProperty("bps_theme", name)
    app.setProperty("bps_presentation", bool(presentation))
    app.setStyle("Fusion")  # the only built-in style that honours palettes on every platform
    app.setPalette(make_palette(name, presentation))
    app.setFont(ui_font(PRESENTATION_POINT_SIZE if presentation else BASE_POINT_SIZE))
    app.setStyleSheet(_style_sheet(name, presentation))  # last: palette(...) in it reads the new palette


def current_theme(app: QApplication | None = None) -> tuple[str, bool]:
    """(name, presentation) last applied with apply_theme; ("light", False) before that."""
    app = app or QApplication.instance()
    name = app.property("bps_theme") if app else None
    return (name if name in THEMES else "light", bool(app.property("bps_presentation")) if app else False)


def _style_sheet(name: str, presentation: bool) -> str:
    parts = [QSS_DIR / f"{name}.qss"] + ([QSS_DIR / "presentation.qss"] if presentation else [])
    return "\n".join(p.read_text(encoding="utf-8") for p in parts if p.is_file())


def node_colours(name: str = "light") -> dict[str, QColor]:
    """Fill colours by node kind (param, leaf, op, custom, nonfinite) plus edge/text/added/selected, and the
    doctor's finding levels (error, warning, info)."""
    return {k: QColor(v) for k, v in _NODE_COLOURS[_check(name)].items()}


def grad_colour(norm: float | None, lo: float, hi: float, name: str = "light") -> QColor:
    """Colour of a gradient norm on a log scale between lo and hi (non-finite -> the alarm colour)."""
    _check(name)
    if norm is None:
        return QColor(_NO_GRAD[name])
    if not math.isfinite(norm):
        return QColor(_NODE_COLOURS[name]["nonfinite"])
    if norm <= 0:
        return QColor(_NO_GRAD[name])
    return _interpolate(_GRAD_MAPS[name], _log_position(norm, lo, hi))


def legend_stops(lo: float, hi: float, name: str = "light", count: int = 5) -> list[tuple[float, QColor]]:
    """`count` log-spaced (norm, colour) pairs from lo to hi for the graph view's legend."""
    lo, hi = _log_bounds(lo, hi)
    count = max(2, count)
    a, b = math.log10(lo), math.log10(hi)
    norms = [10 ** (a + (b - a) * i / (count - 1)) for i in range(count)]
    return [(n, grad_colour(n, lo, hi, name)) for n in norms]


def _log_bounds(lo: float, hi: float) -> tuple[float, float]:
    """Positive, finite, increasing bounds (a degenerate range becomes one decade around it)."""
    lo = lo if lo and math.isfinite(lo) and lo > 0 else 1e-8
    hi = hi if hi and math.isfinite(hi) and hi > 0 else lo * 10
    if hi <= lo:
        lo, hi = min(lo, hi) / math.sqrt(10), max(lo, hi) * math.sqrt(10)
    return lo, hi


def _log_position(norm: float, lo: float, hi: float) -> float:
    lo, hi = _log_bounds(lo, hi)
    t = (math.log10(norm) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    return min(1.0, max(0.0, t))


def _interpolate(stops: list[str], t: float) -> QColor:
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a, b = QColor(stops[i]), QColor(stops[i + 1])
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * f, a.greenF() + (b.greenF() - a.greenF()) * f,
                           a.blueF() + (b.blueF() - a.blueF()) * f)


def text_colour_on(fill: QColor) -> QColor:
    """Black or white, whichever reads better on `fill` (for labels on coloured nodes)."""
    luminance = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF()
    return QColor("#000000") if luminance > 0.5 else QColor("#ffffff")


def pen_colours(widget_palette: QPalette) -> tuple[QColor, QColor]:
    """(background, foreground) for pyqtgraph plots, taken from a widget's palette."""
    return widget_palette.color(QPalette.ColorRole.Base), widget_palette.color(QPalette.ColorRole.Text)
