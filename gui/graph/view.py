"""The graph view: an iteration's autograd graph, top to bottom, in one QGraphicsScene (graph_scene.py).

Layouts run in a worker (gui/graph/layout.py) and are cached by (signature, collapsed modules,
detail, font size), so an unchanged graph only gets new numbers: no re-layout, no flicker.
"""

from __future__ import annotations

import math

import networkx as nx
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QToolTip, QWidget

from ...core.iteration import PENDING, Iteration, node_number
from ...core.view_state import ViewState
from . import model as gm
from .animation import BackwardAnimation
from .choices import Choice, ladder
from .fold import best_columns
from .items import NodeItem, Style
from .layout import Layouts, Placed
from .menu import node_menu
from .overlays import Banner, Breadcrumb, Legend, banner_text, place_overlays
from .scene import GraphScene

READABLE_PX = 12.0  # node text at least this tall (px) at the default zoom (x PRESENTATION_TEXT in presentation)
LARGEST_PX = 17.0  # and no taller: a small graph is not blown up
PRESENTATION_SCALE = 1.6  # node font size in presentation mode
PRESENTATION_TEXT = 1.5  # node text on screen in presentation mode, against normal mode
FOLD_UP_TO = 600  # boxes; bigger drawings are not folded into columns (never readable whole anyway)


class GraphView(QGraphicsView):
    """Draws Iterations; emits the selected box id (a graph node id, "module:<path>", or None)."""

    sig_node_selected = Signal(object)
    sig_layout_done = Signal(int)  # number of boxes drawn
    sig_message = Signal(str)

    def __init__(self, parent: QWidget | None = None, view: ViewState | None = None):
        super().__init__(parent)
        self.graph_scene = GraphScene(self)
        self.setScene(self.graph_scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # pan by dragging
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._complete: Iteration | None = None  # the last complete (not forward-op) graph shown
        self._focus_after_layout: str | None = None  # a node to zoom to once the next layout is built
        self.iteration: Iteration | None = None
        self.shown_key = None
        self.wanted_key = None
        self.collapsed: frozenset[str] | None = None  # None: automatic (see _collapsed_now)
        self._auto: dict[tuple, Choice] = {}  # (signature, font) -> the automatic choice, once made
        self._ladders: dict[tuple, list[Choice]] = {}  # (signature, font) -> the choices tried, in order
        self._trying: dict[tuple, int] = {}  # (signature, font) -> the choice being laid out (undecided)
        self.opened: list[str] = []  # modules opened from the module tree, in order (the breadcrumb)
        self.presentation = False
        self.removed: list[str] = []
        self.matches: list[str] = []
        self._match_at = -1
        self.view_state = view or ViewState()  # the selection lives there (shared with the window)
        self._auto_fit = True
        self._structure_of: dict[str, nx.DiGraph] = {}  # a full-detail graph per signature (its modules)
        self.layouts = Layouts(self)
        self.layouts.sig_done.connect(self._on_layout_done)
        self.layouts.sig_failed.connect(self._on_layout_failed)
        self.animation = BackwardAnimation(self, self.light_node)
        self.legend = Legend(self)
        self.banner = Banner(self)
        self.breadcrumb = Breadcrumb(self)
        self.breadcrumb.linkActivated.connect(self._on_breadcrumb)
        self.placeholder = QLabel(self)  # what an empty view says (a script with no backward pass)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("role", "muted")
        self.placeholder.hide()
        self.graph_scene.sig_built.connect(self._on_built)
        self._refold_soon = QTimer(self, singleShot=True, interval=0)
        self._refold_soon.timeout.connect(self._refold)
        self.graph_scene.selectionChanged.connect(self._on_selection)

    # -- what is shown --------------------------------------------------------------------------
    @property
    def items(self) -> dict[str, NodeItem]:
        """The boxes drawn, by box id."""
        return self.graph_scene.items

    @property
    def added(self) -> set[str]:
        return self.graph_scene.added

    @property
    def edges(self):
        return self.graph_scene.edges

    @property
    def style_(self) -> Style:
        return self.graph_scene.style_

    @property
    def busy(self) -> bool:
        """True while a layout or an item build is under way."""
        return self.wanted_key != self.shown_key or self.graph_scene.building

    def show_placeholder(self, text: str) -> None:
        """A message in the middle of the empty view ("" hides it)."""
        self.placeholder.setText(text)
        self.placeholder.setVisible(bool(text))
        self._place_placeholder()

    def _place_placeholder(self) -> None:
        w = min(self.width() - 40, 640)
        self.placeholder.setFixedWidth(max(w, 100))
        self.placeholder.adjustSize()
        self.placeholder.move((self.width() - self.placeholder.width()) // 2,
                              (self.height() - self.placeholder.height()) // 2)

    def set_iteration(self, it: Iteration) -> None:
        """Show `it`: new numbers in place when its structure is already drawn, else lay it out."""
        self.placeholder.hide()
        old = self.iteration
        self.iteration = it
        scene = self.graph_scene
        if it.detail == "full":
            self._structure_of[it.signature] = it.graph
        if old is None or old.index != it.index:
            scene.lit_id = None
        if it.detail == "forward":  # stepping op by op: the graph grows, nothing was "removed"
            scene.added, self.removed = set(), []
        else:  # a complete graph against the last complete one (not against the partial graphs between)
            before, self._complete = self._complete, it
            if before is None or old is not None and old.detail == "forward" and before.signature == it.signature:
                scene.added, self.removed = set(), []  # the first graph; the complete one after forward steps
            elif before.signature != it.signature:
                scene.added, self.removed = gm.structural_diff(before.graph, it.graph)
        self.animation.stop()
        self._request()

    def shutdown(self) -> None:
        """No layout job outlives the view: queued ones dropped, a running one waited for (the window closes)."""
        self.layouts.shutdown()

    def clear(self) -> None:
        """Forget the shown graph (a new run)."""
        self.placeholder.hide()
        self.iteration = None
        self._complete = None
        self.collapsed = None
        self.opened = []
        self.removed = []
        self.graph_scene.added = set()
        self.graph_scene.iteration = None
        self.graph_scene.clear_boxes()
        self.shown_key = self.wanted_key = None
        self.banner.hide()
        self.breadcrumb.hide()

    def set_theme(self, theme: str, presentation: bool) -> None:
        """Restyle nodes (presentation mode: bigger text, so boxes are laid out again)."""
        self.presentation = presentation
        self.graph_scene.set_style(Style(theme, PRESENTATION_SCALE if presentation else 1.0))
        self.setBackgroundBrush(self.style_.colours["background"])
        self._request()
        self.viewport().update()

    # -- zoom ----------------------------------------------------------------------------------
    def text_scales(self) -> tuple[float, float]:
        """The zooms at which node text is READABLE_PX and LARGEST_PX tall (x PRESENTATION_TEXT there)."""
        px = self.style_.line_h / (PRESENTATION_TEXT if self.presentation else 1.0)
        return READABLE_PX / px, LARGEST_PX / px

    def view_size(self) -> tuple[float, float]:
        """The viewport's size in pixels once the overlay strip's margin applies (Qt resizes it later),
        less a margin."""
        frame = 2 * self.frameWidth()
        return (max(self.width() - frame - 20, 50.0),
                max(self.height() - frame - self.viewportMargins().top() - 20, 50.0))

    def fit(self) -> None:
        """Zoom to show the whole graph (never magnified beyond LARGEST_PX text). The legend and the banner
        sit in a strip above the viewport (_place_overlays), so they hide no node."""
        self._zoom_to(readable=False)

    def home(self) -> None:
        """The default view: the whole graph when its text is readable so, else readable text with the loss
        in view (the drawing's bottom right; the rest is a drag away)."""
        self._zoom_to(readable=True)

    def _zoom_to(self, readable: bool) -> None:
        rect = self.graph_scene.bounds()
        if rect.isEmpty():
            return
        self._place_overlays()
        vw, vh = self.view_size()
        lo, hi = self.text_scales()
        whole = min(vw / max(rect.width(), 1.0), vh / max(rect.height(), 1.0))
        s = max(min(whole, hi), lo if readable else 1e-4)
        self.resetTransform()
        self.scale(s, s)
        centre = rect.center()
        loss = self.graph_scene.item_of("n0")  # the walk's root: the loss
        if s > whole * 1.001 and loss is not None:
            half_w, half_h = vw / s / 2, vh / s / 2
            at = loss.sceneBoundingRect()
            if rect.width() > 2 * half_w:
                centre.setX(min(max(at.center().x(), rect.left() + half_w), rect.right() - half_w))
            if rect.height() > 2 * half_h:
                centre.setY(min(max(at.bottom() + 10 - half_h, rect.top() + half_h), rect.bottom() - half_h))
        self.centerOn(centre)
        self._auto_fit = True  # keep fitting on resize until the user zooms
        self._update_lod()

    def zoom(self, factor: float) -> None:
        self._auto_fit = False
        self.scale(factor, factor)
        self._update_lod()

    def visible_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def _update_lod(self, force: bool = False) -> None:
        self.graph_scene.set_overview(self.transform().m11() < self.style_.text_lod, force)

    # -- selection and search -------------------------------------------------------------------
    def selected_node(self) -> str | None:
        return self.view_state.selection

    def set_marks(self, marks: dict[str, str]) -> None:
        """Frame the nodes doctor findings name ({node id: level}); a layout under way gets them when built."""
        self.graph_scene.set_marks(marks, now=not self.busy)

    def select_node(self, node_id: str, centre: bool = True) -> bool:
        """Select a node (or the module box holding it) and centre on it."""
        item = self.graph_scene.item_of(node_id)
        if item is None:
            return False
        self.graph_scene.clearSelection()
        item.setSelected(True)
        if centre:
            self.centerOn(item)
        return True

    def search(self, text: str) -> int:
        """Highlight nodes whose name/op/module contains `text`; centre on the first. Returns the count."""
        for item in self.items.values():
            item.found = False
        self.matches = gm.matches(self.iteration.graph if self.iteration else nx.DiGraph(), text)
        self._match_at = -1
        for n in self.matches:
            item = self.graph_scene.item_of(n)
            if item is not None:
                item.found = True
        self.graph_scene.refresh_overview()
        self.viewport().update()
        if self.matches:
            self.search_next()
        return len(self.matches)

    def search_next(self) -> None:
        """Select the next match (the inspector shows it), zoomed in until its text is readable."""
        if self.matches:
            self._match_at = (self._match_at + 1) % len(self.matches)
            self.zoom_readable()
            self.select_node(self.matches[self._match_at])

    def zoom_readable(self) -> None:
        """Zoom in until node text is READABLE_PX tall (no change when it already is)."""
        want = self.text_scales()[0]
        now = self.transform().m11()
        if now < want:
            self._auto_fit = False
            self.scale(want / now, want / now)
            self._update_lod()

    # -- modules ---------------------------------------------------------------------------------
    def collapse_all(self) -> None:
        """Back to the module tree: one box per top-level module or repeated block."""
        self.opened = []
        self._set_collapsed(gm.module_tree(self._module_graph()))

    def expand_all(self) -> None:
        self.opened = []
        self._set_collapsed(frozenset())

    def collapse_module(self, prefix: str) -> None:
        self.opened = [p for p in self.opened if p != prefix and not p.startswith(prefix + ".")]
        base = self._collapsed_now()
        self._set_collapsed(frozenset(p for p in base if not p.startswith(prefix + ".")) | {prefix})

    def collapse_last(self) -> None:
        """Close the module opened last (the breadcrumb's "Collapse")."""
        if self.opened:
            self.collapse_module(self.opened[-1])

    def expand_module(self, prefix: str) -> None:
        """Open a module box in place; once laid out, its first member is shown at a readable zoom."""
        base = self._collapsed_now()
        g = self._module_graph()
        members = [n for n, a in g.nodes(data=True) if gm.module_of(a) == prefix
                   or (gm.module_of(a) or "").startswith(prefix + ".")]
        self._focus_after_layout = min(members, key=node_number) if members else None
        self.opened = [*self.opened, prefix]
        self._set_collapsed(gm.expand(base, prefix, g))

    def _module_graph(self) -> nx.DiGraph:
        """The graph whose module attribution counts: a full-detail one with the same structure."""
        if self.iteration is None:
            return nx.DiGraph()
        return self._structure_of.get(self.iteration.signature, self.iteration.graph)

    def _auto_key(self) -> tuple:
        return (self.iteration.signature, self.style_.font.pointSize())

    def _ladder(self) -> list[Choice]:
        """The automatic choices (choices.ladder), tried in order until one is readable whole in the view."""
        key = self._auto_key()
        if key not in self._ladders:
            self._ladders[key] = ladder(self._module_graph(), self.presentation)
        return self._ladders[key]

    def _choice(self) -> Choice:
        """The automatic choice once made; until then the one being tried. A graph growing op by op (forward
        stepping) is neither folded nor compact as it grows."""
        if self.iteration.detail == "forward":
            return frozenset(), False
        key = self._auto_key()
        return self._auto.get(key) or self._ladder()[self._trying.get(key, 0)]

    def _collapsed_now(self) -> frozenset[str]:
        """The modules shown folded: the user's choice, else the automatic one (_choice)."""
        return self.collapsed if self.collapsed is not None else self._choice()[0]

    def _undecided(self) -> bool:
        """True while the automatic choice waits for the layouts it compares (_ladder)."""
        return self.collapsed is None and self.iteration.detail != "forward" and self._auto_key() not in self._auto

    def _readable_whole(self, placed: Placed) -> bool:
        """True when `placed`, folded at its best for this view, shows all its text readable."""
        lo, hi = self.text_scales()
        return best_columns(placed.unfolded, placed.sizes, self.view_size(), hi)[1] >= lo * 0.999

    def _set_collapsed(self, collapsed: frozenset[str]) -> None:
        self.collapsed = frozenset(collapsed)
        self._request()

    def _on_breadcrumb(self, link: str) -> None:
        if link == "collapse":
            self.collapse_last()
        elif link == "top":
            self.collapse_all()
        elif link in self.opened:  # a module on the path: what was opened after it closes
            for p in reversed(self.opened[self.opened.index(link) + 1:]):
                self.collapse_module(p)

    # -- backward animation ----------------------------------------------------------------------
    def light_node(self, node_id: str, grad: dict | None) -> None:
        """Backward stepping/animation: `node_id` just received its gradient."""
        if self.iteration is None or node_id not in self.iteration.graph:
            return
        attrs = self.iteration.graph.nodes[node_id]
        attrs.pop(PENDING, None)
        if grad is not None:
            attrs["grad"] = grad
        self.graph_scene.lit_id = node_id
        if self.busy:
            return  # the layout being built shows it when done
        item = self.graph_scene.mark_lit()
        if item is None:
            return
        scene = self.graph_scene
        norm = gm.grad_norm(attrs)
        if item.kind == "module" or (norm is not None and 0 < norm < math.inf and (
                not scene.has_grads or not self.style_.lo <= norm <= self.style_.hi)):
            scene.apply_numbers()  # the colour scale widens: every box and the legend follow
            self._after_numbers()
        else:
            item.set_attrs(attrs)
        if not self.visible_rect().contains(item.sceneBoundingRect()):
            self.ensureVisible(item, 40, 40)  # only a node off screen moves the view (a fitted graph stays put)

    def animate_backward(self, within_ms: int | None = None) -> None:
        """Replay the shown iteration's backward: clear gradients, then light nodes loss-first
        (all within `within_ms` when given)."""
        if self.iteration is None:
            return
        for item in self.items.values():
            item.set_attrs({k: v for k, v in item.attrs.items() if k != "grad"} if item.kind != "module" else {})
        self.animation.start(self.iteration.graph, within_ms)

    # -- layout ----------------------------------------------------------------------------------
    def _key(self) -> tuple:
        return self._key_of((self._collapsed_now(), self._choice()[1]))

    def _key_of(self, choice: Choice) -> tuple:
        """The layout cache's key of the shown iteration drawn as `choice`."""
        it = self.iteration
        source = "full" if it.signature in self._structure_of else it.detail
        return (it.signature, choice[0], source, self.style_.font.pointSize(), choice[1])

    def _ladder_step(self, ladder: list[Choice]) -> tuple[int, bool]:
        """From the layouts cached: the index of the first choice of `ladder` readable whole in the view as it
        is now (True; the last when none is), or of the first one not laid out yet (False)."""
        for i, choice in enumerate(ladder):
            placed = self.layouts.cached(self._key_of(choice))
            if placed is None:
                return i, False
            if self._readable_whole(placed):
                return i, True
        return len(ladder) - 1, True

    def _request(self) -> None:
        if self.iteration is None:
            return
        scene = self.graph_scene
        scene.iteration = self.iteration
        key = self._key()
        self.wanted_key = key
        if key == self.shown_key:
            scene.apply_numbers()
            self._after_numbers()
            return
        placed = self.layouts.cached(key)
        if placed is not None:
            self._show(key, placed)
            return
        if not self.layouts.running(key):
            graph = self._module_graph()
            self.banner.show_text(self.tr("laying out {count} nodes…").format(count=graph.number_of_nodes()),
                                  self.width() // 2)
            self._place_overlays()
            self.layouts.start(key, graph, key[1], key[4], self.style_.char_w, self.style_.line_h)

    def _on_layout_done(self, key, placed: Placed) -> None:
        if key == self.wanted_key:
            self._show(key, placed)

    def _on_layout_failed(self, key, message: str) -> None:
        if key == self.wanted_key:
            self.banner.show_text(message, self.width() - 40)
            self._place_overlays()
            self.sig_message.emit(message)

    def _show(self, key, placed: Placed) -> None:
        if self._undecided():
            auto, ladder = self._auto_key(), self._ladder()
            at = self._trying.get(auto, 0)
            if at + 1 < len(ladder) and not self._readable_whole(placed):
                self._trying[auto] = at + 1
                self._request()
                return
            self._auto[auto] = ladder[at]
        if len(placed.graph.nodes) <= FOLD_UP_TO:
            columns = best_columns(placed.unfolded, placed.sizes, self.view_size(), self.text_scales()[1])[0]
            placed = self.layouts.folded(key, placed, columns)
        self.shown_key = key
        if len(placed.graph.nodes) > 800:
            self.banner.show_text(self.tr("drawing {count} boxes…").format(count=len(placed.graph.nodes)),
                                  self.width() // 2)
        self.graph_scene.show_placed(placed)

    def _on_built(self) -> None:
        self._after_numbers()  # first: the fit leaves room for the banner and the legend
        self.home()
        self._update_lod(force=True)
        focus, self._focus_after_layout = self._focus_after_layout, None
        if focus is not None and self.graph_scene.item_of(focus) is not None:
            self.zoom_readable()
            self.centerOn(self.graph_scene.item_of(focus))
        if self.view_state.selection is not None and not self.select_node(self.view_state.selection, centre=False):
            self.view_state.selection = None
            self.sig_node_selected.emit(None)
        self.sig_layout_done.emit(len(self.items))

    def _after_numbers(self) -> None:
        """Legend and banner follow the numbers just applied."""
        scene = self.graph_scene
        self.legend.set_range(self.style_.lo, self.style_.hi, scene.has_grads, self.style_.theme)
        text = banner_text(self.iteration, scene.added, self.removed, scene.nonfinite_count, scene.origin)
        self.banner.show_text(text, self.width() - 12)  # its width follows the legend's (place_overlays)
        self._place_overlays()
        self.viewport().update()

    # -- events ----------------------------------------------------------------------------------
    def _on_selection(self) -> None:
        sel = [i for i in self.graph_scene.selectedItems() if isinstance(i, NodeItem)]
        box = sel[0].box_id if sel else None
        self.graph_scene.refresh_overview()
        if box != self.view_state.selection:
            self.view_state.selection = box
            self.sig_node_selected.emit(box)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip:  # one tooltip on demand instead of 10k set up front
            item = self.itemAt(event.pos())
            if isinstance(item, NodeItem):
                QToolTip.showText(event.globalPos(), item.tooltip(), self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self.graph_scene.overview_on and event.button() == Qt.MouseButton.LeftButton:
            # an overview is too small to aim at: zoom in where the user clicked
            at = self.mapToScene(event.position().toPoint())
            self._auto_fit = False
            self.resetTransform()
            self.scale(0.8, 0.8)
            self.centerOn(at)
            self._update_lod()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, NodeItem) and item.kind == "module":
            self.expand_module(item.head)
            return
        super().mouseDoubleClickEvent(event)

    def _selected_module(self) -> str | None:
        """The module path of the selected box when it is a collapsed module."""
        item = self.items.get(self.view_state.selection or "")
        return item.head if item is not None and item.kind == "module" else None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(1.15 ** steps)  # anchored under the mouse (see the constructor)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.25)
        elif event.key() == Qt.Key.Key_Minus:
            self.zoom(0.8)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._selected_module():
            self.expand_module(self._selected_module())
        elif event.key() == Qt.Key.Key_Backspace and self.opened:
            self.collapse_last()
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        node_menu(self, self.itemAt(event.pos())).exec(event.globalPos())

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._refold_soon.start()  # after Qt's resize handling: the strip's margin and the items may change

    def _refold(self) -> None:
        """After a resize: the overlays placed again, and (until the user zooms) the default view again, in
        more or fewer columns when the new shape wants them (the boxes placed again)."""
        self._place_overlays()
        placed = self.graph_scene.placed
        if placed is None or self.busy or not self._auto_fit:
            return
        auto, ladder = self._auto_key(), self._ladder()
        choice = self._auto.get(auto) if self.collapsed is None else None
        step, known = self._ladder_step(ladder) if choice is not None else (0, True)
        if choice is not None and (not known or ladder[step] != choice):  # the new shape wants another choice
            del self._auto[auto]
            if known:
                self._auto[auto] = ladder[step]
            else:  # tried on from the first one not laid out yet
                self._trying[auto] = step
            self._request()
            return
        columns = best_columns(placed.unfolded, placed.sizes, self.view_size(), self.text_scales()[1])[0] \
            if len(placed.graph.nodes) <= FOLD_UP_TO else 1
        if columns != placed.columns:
            self.graph_scene.show_placed(self.layouts.folded(self.shown_key, placed, columns))
        else:
            self.home()

    def _place_overlays(self) -> None:
        self.breadcrumb.show_path(self.opened)
        place_overlays(self, self.legend, [self.breadcrumb, self.banner])
        if self.placeholder.isVisible():
            self._place_placeholder()
