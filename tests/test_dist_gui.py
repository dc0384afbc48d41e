"""A live distributed run in the window (offscreen): the rank selector switches the rank the graph,
plots and timeline show, the plots draw one curve per rank, the status bar says the ranks agree."""

import pytest

from backprop_studio.core.recording.store import Recording
from tests.test_dist_live import DDP, START
from tests.util import write_script

pytestmark = pytest.mark.e2e


def losses(path: str) -> list[float]:
    rec = Recording(path)
    try:
        return [row["loss"] for row in rec.scalars()]
    finally:
        rec.close()


def test_rank_selector_and_one_curve_per_rank(make_main_window, qtbot, tmp_path):
    script = write_script(tmp_path, DDP, "ddp.py")
    w = make_main_window()
    assert w.open_script(script, [], first=True, nproc=2)  # paused after the first backward, every rank
    session = w.bridge.session
    qtbot.waitUntil(lambda: session.where() == {0: ("paused", 0), 1: ("paused", 0)} and w.iteration is not None,
                    timeout=START * 1000)
    w.bridge.step("step_iteration")
    qtbot.waitUntil(lambda: session.where() == {0: ("paused", 1), 1: ("paused", 1)}
                    and w.iteration.index == 1, timeout=START * 1000)
    by_rank = {r: losses(session.rank_record(r)) for r in (0, 1)}
    assert len(by_rank[0]) == len(by_rank[1]) == 2 and by_rank[0] != by_rank[1]

    bar = w.ranks.bar
    assert bar.toolbar.isVisibleTo(w) and bar.combo.count() == 2 and bar.combo.currentIndex() == 0
    assert w.iteration.loss == by_rank[0][1]  # the graph and inspector show rank 0
    w.ranks.curves.redraw()
    for which in ("loss", "grad"):
        assert set(w.ranks.curves.curves[which]) == {0, 1}  # one curve per rank
    for r in (0, 1):
        x, y = w.ranks.curves.curves["loss"][r].getData()
        assert list(x) == [0, 1] and list(y) == by_rank[r]
    # each rank's update ratios reach the window on their own socket: compared once both are in
    qtbot.waitUntil(lambda: w.ranks.agreement.text().startswith("ranks agree"), timeout=START * 1000)

    bar.combo.activated.emit(1)  # the user picks rank 1
    qtbot.waitUntil(lambda: w.iteration.loss == by_rank[1][1], timeout=START * 1000)
    assert session.focus == 1 and w.bridge.record_path == session.rank_record(1)
    assert bar.combo.currentIndex() == 1
    w.plots.flush()
    assert list(w.plots.loss.data()[1]) == by_rank[1]  # the plots' own curve follows the rank shown
    assert w.timeline.count == 2

    w.bridge.step("step_phase")  # a finer step: rank 1 only, rank 0 waits where it is
    qtbot.waitUntil(lambda: session.where()[1] == ("paused", 1) and session.ranks[1].last_pause[0] == "optimizer_pre",
                    timeout=START * 1000)
    assert session.where()[0] == ("paused", 1) and session.ranks[0].last_pause[0] == "backward_end"

    w.ranks.bar.overlay.setChecked(False)
    assert not any(c.isVisible() for curves in w.ranks.curves.curves.values() for c in curves.values())
