"""The graph view's context menu: fold or unfold the module under the mouse, fit, animate."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from ..i18n import translate
from . import model as gm
from .items import NodeItem


def node_menu(view, item) -> QMenu:
    """The menu for a right click on `item` (a NodeItem, or anything else) in `view` (a GraphView)."""
    menu = QMenu(view)
    if isinstance(item, NodeItem) and item.kind == "module":
        menu.addAction(translate("GraphView", "Expand {module}").format(module=item.head),
                       lambda: view.expand_module(item.head))
    elif isinstance(item, NodeItem) and gm.module_of(item.attrs):
        parts = gm.module_of(item.attrs).split(".")
        for depth in range(len(parts), 0, -1):
            path = ".".join(parts[:depth])
            menu.addAction(translate("GraphView", "Collapse {module}").format(module=path),
                           lambda p=path: view.collapse_module(p))
    menu.addSeparator()
    for text, slot in ((translate("GraphView", "Fit to view"), view.fit),
                       (translate("GraphView", "Collapse all modules"), view.collapse_all),
                       (translate("GraphView", "Expand all modules"), view.expand_all),
                       (translate("GraphView", "Animate backward"), view.animate_backward)):
        menu.addAction(text, slot)
    return menu
