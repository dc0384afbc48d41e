"""What a notebook shows of a run, read from its recording: the same file `record` writes, read as it
grows (like the app does), so tracing in a notebook costs what `record` costs.

`Board.update()` reads what was committed since the last call; `Board.state()` is the view's data:
{path, status, error, count, losses, grad_norms, structure (per iteration: an index into graphs),
graphs [{index, svg}] (one per structure, drawn at its first iteration), shown {index, svg} (one
iteration drawn with its own numbers), findings, loss_plot, grad_plot}.
"""

from __future__ import annotations

import time

from ..doctor.diagnose import Run as DoctorRun
from ..doctor.diagnose import diagnose_recording
from ..iteration import total_grad_norm
from ..recording.store import Recording, RecordingError
from ..render.export import svg_of
from .figures import line_plot


class Board:
    """A run's data for the notebook views, brought up to date from its recording by `update`."""

    def __init__(self, path: str):
        self.path = path
        self.status, self.error = "running", None
        self.losses: list[float | None] = []
        self.grad_norms: list[float | None] = []
        self.structure: list[int] = []
        self.graphs: list[dict] = []
        self.shown: dict | None = None
        self.findings: list[dict] = []
        self._graph_of: dict[str, int] = {}  # signature -> index into graphs
        self._doctor: DoctorRun | None = None
        self.doctor_time = 0.0  # seconds the last diagnosis took

    def update(self, doctor: bool = True) -> bool:
        """Read what was committed since the last update (and the doctor's findings); whether anything
        was new."""
        try:
            rec = Recording(self.path)
        except RecordingError:
            return False  # not created or committed yet
        try:
            return self._read(rec, doctor)
        finally:
            rec.close()

    def _read(self, rec: Recording, doctor: bool) -> bool:
        last = len(self.losses) - 1
        rows = rec.scalars(after=last)
        params = rec.params(after=last)
        for r in rows:
            self.losses.append(r["loss"])
            self.grad_norms.append(total_grad_norm(params.get(r["index"], {})))
            sig = r["signature"]
            if sig not in self._graph_of:
                self._graph_of[sig] = len(self.graphs)
                it = rec.iteration(r["index"])
                self.graphs.append({"index": r["index"], "svg": svg_of(it.graph, f"iteration {r['index']}")})
            self.structure.append(self._graph_of[sig])
        changed = bool(rows) or rec.status != self.status
        self.status, self.error = rec.status, rec.meta.get("error")
        if doctor and (rows or self._doctor is None):
            started = time.perf_counter()
            self._doctor = self._doctor or DoctorRun()
            self.findings = diagnose_recording(rec, self._doctor)
            self.doctor_time = time.perf_counter() - started
        return changed

    def show(self, index: int) -> dict | None:
        """Draw iteration `index` with its own numbers (values and gradients of that iteration)."""
        if not 0 <= index < len(self.losses):
            return None
        rec = Recording(self.path)
        try:
            self.shown = {"index": index, "svg": svg_of(rec.iteration(index).graph, f"iteration {index}")}
        finally:
            rec.close()
        return self.shown

    def state(self) -> dict:
        return {"path": self.path, "status": self.status, "error": self.error, "count": len(self.losses),
                "losses": self.losses, "grad_norms": self.grad_norms, "structure": self.structure,
                "graphs": self.graphs, "shown": self.shown, "findings": self.findings,
                "loss_plot": line_plot(self.losses, "loss", "#1565c0"),
                "grad_plot": line_plot(self.grad_norms, "gradient norm", "#2e7d32")}
