"""How a graph is drawn when the user has not chosen: the choices the view tries in order, the first that
shows the whole graph readable winning (pure Python: no Qt).

A choice is (the modules shown folded, compact boxes). Compact boxes have no value/gradient lines (the colour
and the inspector tell them); a module tree has one box per top-level module (model.module_tree).
"""

from __future__ import annotations

import networkx as nx

from . import model as gm

# From TREE_FROM nodes a graph may open as its module tree when it is not readable whole (LeNet-5, 27 nodes);
# below, its modules are folded only last (a small MLP, DynamicNet: their parameters are what a lesson points
# at); above TREE_ABOVE, never readable whole (300 nodes need ~10 times the boxes a 1600x1000 window holds at
# 12 px), so no layout of the whole graph is made first.
TREE_FROM, TREE_ABOVE = 25, 300
BOXES_AT_MOST = 300  # a drawing of more boxes reads whole in no window, compact or not: full boxes, one layout

Choice = tuple[frozenset, bool]


def ladder(g: nx.DiGraph, presentation: bool) -> list[Choice]:
    """The choices for `g`, in the order tried: the whole graph, then its module tree, each with full boxes
    and then compact ones (presentation mode: a compact tree at once, larger on the screen; a tree of more than
    BOXES_AT_MOST boxes: full boxes only). A small graph's modules come last, those alone whose boxes make no
    cycle."""
    whole: list[Choice] = [(frozenset(), False), (frozenset(), True)]
    if g.number_of_nodes() < TREE_FROM:
        tree = gm.acyclic_boxes(g, gm.module_tree(g))
        return [*whole, (tree, True)] if tree else whole
    tree = gm.module_tree(g)
    boxes = len(tree) + sum(1 for _, a in g.nodes(data=True) if gm.group_of(gm.module_of(a), tree) is None)
    if boxes > BOXES_AT_MOST:
        trees: list[Choice] = [(tree, False)]
    else:
        trees = [(tree, True)] if presentation else [(tree, False), (tree, True)]
    return trees if g.number_of_nodes() > TREE_ABOVE else [whole[0], *trees]
