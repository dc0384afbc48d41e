"""core/view_state.py: what the views show, kept in one place."""

import networkx as nx

from backprop_studio.core.iteration import Iteration
from backprop_studio.core.view_state import ViewState


def test_last_graph_skips_iterations_without_one_and_begin_forgets_them():
    v = ViewState()
    v.begin("replay", "paused")
    for i, detail in enumerate(["full", "light", "loss", "loss", "light"]):
        v.mark(i, detail)
    assert v.count == 5 and v.bare == {2, 3}
    assert [v.last_graph(i) for i in range(5)] == [0, 1, 1, 1, 4]
    assert v.last_graph(99) == 4  # beyond the known iterations: the newest with a graph
    v.mark(2, "light")  # re-marked with a graph (a live run restarted over the same file)
    assert v.last_graph(3) == 2
    v.begin("live", "running")
    assert (v.count, v.bare, v.shown, v.following, v.mode) == (0, set(), None, True, "live")
    assert v.last_graph(3) is None
    assert v.status(2.5) == {"mode": "live", "state": "running", "iteration": None, "count": 0, "phase": "",
                             "following": True, "optimizer_steps": 0, "it_per_s": 2.5}


def test_a_change_is_announced_once_to_every_subscriber_and_no_change_is_silent():
    v = ViewState()
    heard: list[tuple[str, object]] = []
    for name in ("count", "shown", "following", "selection", "iteration", "state"):
        for who in ("timeline", "window"):
            getattr(v.events, name).connect(lambda value, name=name, who=who: heard.append((who, name, value)))
    v.shown = 3
    v.shown = 3  # the same value: nothing to tell
    v.following = False
    v.selection = "n4"
    it = Iteration(3, 0.5, 0, "s", nx.DiGraph())
    v.iteration = it
    v.iteration = it  # the same object: silent (Iterations are compared by identity, not by graph)
    v.iteration = Iteration(3, 0.5, 0, "s", nx.DiGraph())  # an equal one read again: a new object to draw
    v.mark(4, "light")  # a new iteration: count announced
    v.state = "paused"
    names = [n for who, n, _ in heard if who == "timeline"]
    assert names == ["shown", "following", "selection", "iteration", "iteration", "count", "state"]
    assert [(w, n) for w, n, _ in heard[:2]] == [("timeline", "shown"), ("window", "shown")]  # in connect order
    assert heard[-4] == ("timeline", "count", 5)
    heard.clear()
    v.begin("live", "running")  # a new run: every changed field announced, the graph on screen gone
    assert {n for _, n, _ in heard} == {"count", "shown", "following", "iteration", "state"}
    assert v.iteration is None and v.count == 0


def test_a_disconnected_callback_hears_nothing():
    v = ViewState()
    heard: list = []
    v.events.shown.connect(heard.append)
    v.shown = 1
    v.events.shown.disconnect(heard.append)
    v.shown = 2
    assert heard == [1]
