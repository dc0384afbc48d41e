"""core/view_state.py: what the views show, kept in one place."""

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
