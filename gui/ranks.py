"""A distributed run in the window: the rank selector (toolbar), the ranks' agreement (status bar),
the plots' one curve per rank, and File › Run distributed…

Everything comes from the bridge's sig_ranks (core.ranks.LiveRanks' status and where each rank is)
and sig_rank_scalars; choosing a rank calls Bridge.select_rank.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolBar,
    QWidget,
)

from .i18n import translate
from .plots.ranks import RankCurves

if TYPE_CHECKING:
    from .main_window import MainWindow

DIVERGED = "#d62728"


class RankBar(QWidget):
    """Toolbar part of a distributed run: which rank is shown, where every rank is, and whether the
    plots draw one curve per rank. Hidden for any other run."""

    sig_rank = Signal(int)
    sig_overlay = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox(self)
        self.combo.setToolTip(self.tr("The rank the graph, inspector and timeline show; finer steps (phase, "
                                      "backward node, forward op) act on it while the other ranks wait"))
        self.combo.activated.connect(lambda i: self.sig_rank.emit(i))
        self.overlay = QCheckBox(self.tr("all ranks in plots"), self)
        self.overlay.setToolTip(self.tr("Loss and gradient norm: one curve per rank"))
        self.overlay.setChecked(True)
        self.overlay.toggled.connect(self.sig_overlay)
        self.where = QLabel(self)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 0, 0)
        row.addWidget(QLabel(self.tr("Rank"), self))
        row.addWidget(self.combo)
        row.addWidget(self.overlay)
        row.addWidget(self.where)
        self.toolbar: QToolBar | None = None  # shown for a distributed run only

    def set_status(self, status: dict) -> None:
        """Bridge.sig_ranks: {} hides the bar."""
        if self.toolbar is not None:
            self.toolbar.setVisible(bool(status))
        if not status:
            return
        if self.combo.count() != status["ranks"]:
            self.combo.clear()
            self.combo.addItems([self.tr("rank {rank}").format(rank=r) for r in range(status["ranks"])])
        self.combo.setCurrentIndex(status["focus"])
        words = {"paused": self.tr("paused"), "running": self.tr("running"), "finished": self.tr("finished"),
                 "failed": self.tr("failed"), "stopped": self.tr("stopped")}
        self.where.setText(" · ".join(
            self.tr("{rank}: {state} {index}").format(rank=r, state=words.get(state, state),
                                                         index="–" if index is None else index)
            for r, (state, index) in (status.get("at") or {}).items()))


class AgreementLabel(QLabel):
    """Status bar: "ranks agree" while every compared step's norms match, in red from the first
    iteration and parameter where they do not."""

    def set_status(self, status: dict) -> None:
        self.setVisible(bool(status))
        if not status:
            return
        d = status.get("diverged")
        if d is None:
            self.setText(self.tr("ranks agree ({count} updates compared)").format(count=status["compared"]))
            self.setStyleSheet("")
            self.setToolTip(self.tr("Every rank's parameters got the same update in each compared optimizer step"))
            return
        self.setText(self.tr("ranks diverge at iteration {index}: {param}").format(index=d["iteration"],
                                                                                    param=d["parameter"]))
        self.setStyleSheet(f"color: {DIVERGED}; font-weight: bold;")
        norms = ", ".join(f"{r}: {v:.6g}" for r, v in sorted(d["update_norms"].items()))
        self.setToolTip(self.tr("Update norms by rank: {norms}. Under DDP every rank must apply the same "
                                "update (call the DDP-wrapped model, not model.module; no rank-dependent "
                                "learning rate; SyncBatchNorm).").format(norms=norms))


class RunDistributedDialog(QDialog):
    """Script, its arguments and the number of ranks for File › Run distributed…"""

    def __init__(self, parent: QWidget | None = None, script: str = ""):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Run distributed"))
        self.script = QLineEdit(script, self)
        browse = QPushButton(self.tr("Browse…"), self)
        browse.clicked.connect(self._browse)
        pick = QHBoxLayout()
        pick.addWidget(self.script, 1)
        pick.addWidget(browse)
        self.args = QLineEdit(self)
        self.args.setPlaceholderText(self.tr("--epochs 3 --lr 0.1"))
        self.nproc = QSpinBox(self)
        self.nproc.setRange(1, 64)
        self.nproc.setValue(2)
        form = QFormLayout(self)
        form.addRow(self.tr("Script"), pick)
        form.addRow(self.tr("Arguments"), self.args)
        form.addRow(self.tr("Ranks (torchrun --nproc-per-node)"), self.nproc)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open a training script"), "",
                                              self.tr("Python scripts (*.py)"))
        if path:
            self.script.setText(path)

    def values(self) -> tuple[str, list[str], int]:
        """(script, its arguments, ranks); ValueError for arguments that do not parse."""
        return self.script.text().strip(), shlex.split(self.args.text()), self.nproc.value()


def run_distributed(w: MainWindow) -> None:
    """File › Run distributed…: ask, then start the job paused after its first backward pass."""
    dialog = RunDistributedDialog(w, (w.target or {}).get("script", ""))
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    try:
        script, args, nproc = dialog.values()
    except ValueError as e:
        w.statusBar().showMessage(str(e))
        return
    w.open_script(script, args, first=True, nproc=nproc)


@dataclass
class RankViews:
    bar: RankBar
    agreement: AgreementLabel
    curves: RankCurves


def attach_ranks(w: MainWindow) -> RankViews:
    """The rank selector in the toolbar, the agreement in the status bar, per-rank curves in the plots."""
    bar = RankBar(w)
    toolbar = QToolBar(translate("RankBar", "Ranks"), w)  # beside the search bar: the controls' row is full
    toolbar.setObjectName("ranks")
    bar.toolbar = toolbar
    toolbar.addWidget(bar)
    w.addToolBar(toolbar)
    bar.set_status({})
    agreement = AgreementLabel(w)
    agreement.hide()
    w.statusBar().addPermanentWidget(agreement)
    curves = RankCurves(w.plots)
    bridge = w.bridge
    bridge.sig_ranks.connect(bar.set_status)
    bridge.sig_ranks.connect(agreement.set_status)
    bridge.sig_ranks.connect(lambda status: curves.clear() if not status else None)
    bridge.sig_rank_scalars.connect(curves.add)
    bridge.sig_reset.connect(lambda _info: curves.clear())
    bar.sig_rank.connect(bridge.select_rank)
    bar.sig_overlay.connect(curves.set_visible)
    return RankViews(bar, agreement, curves)
