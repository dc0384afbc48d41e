"""A real Jupyter kernel for the notebook tests: this venv's python running ipykernel, from a kernel spec
written in a temporary folder (nothing installed in the user's Jupyter paths), importing THIS checkout as
`backprop_studio` (a link to it on the kernel's PYTHONPATH, ahead of any installed copy)."""

from __future__ import annotations

import json
import os
import sys
import tempfile

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.util import ROOT

KERNEL = "backprop-studio-test"
WIDGET = "application/vnd.jupyter.widget-view+json"


def kernel_manager(folder: str) -> KernelManager:
    """A KernelManager for a kernel spec written under `folder`."""
    os.symlink(ROOT, os.path.join(folder, "backprop_studio"))
    spec = os.path.join(folder, "kernels", KERNEL)
    os.makedirs(spec)
    env = {"PYTHONPATH": folder, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    with open(os.path.join(spec, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump({"argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": "Backprop Studio tests", "language": "python", "env": env}, f)
    return KernelManager(kernel_name=KERNEL,
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[os.path.join(folder, "kernels")]))


class Kernel:
    """One kernel kept for many notebooks: `run(*cells)` executes a new notebook of those cells in it."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="bps-kernel-")
        self.client = NotebookClient(nbformat.v4.new_notebook(), km=kernel_manager(self.folder), timeout=180,
                                     allow_errors=True)
        self.client.start_new_kernel(cwd=self.folder)
        self.client.start_new_kernel_client()
        self.counts: dict[str, list[int]] = {}  # widget -> every iteration count it was sent, in order
        handle = self.client.handle_comm_msg

        def count_updates(outs, msg, cell_index):
            state = msg["content"].get("data", {}).get("state", {})
            if "count" in state:
                self.counts.setdefault(msg["content"]["comm_id"], []).append(state["count"])
            handle(outs, msg, cell_index)

        self.client.handle_comm_msg = count_updates

    def run(self, *sources: str) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
        self.client.nb = nb
        for i, cell in enumerate(nb.cells):
            self.client.execute_cell(cell, i)
        return nb

    def widget(self, model_id: str) -> dict:
        """A widget's state as the kernel last sent it."""
        return self.client.widget_state[model_id]

    def interrupt(self) -> None:
        self.client.km.interrupt_kernel()

    def close(self) -> None:
        self.client._cleanup_kernel()


def text(cell) -> str:
    """A cell's stdout."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def errors(cell) -> list[str]:
    """Names of the exceptions a cell ended with."""
    return [o.ename for o in cell.outputs if o.output_type == "error"]


def widget_ids(cell) -> list[str]:
    return [o.data[WIDGET]["model_id"] for o in cell.outputs if WIDGET in o.get("data", {})]


def run_notebook(path: str) -> nbformat.NotebookNode:
    """Execute the notebook at `path` top to bottom in a fresh kernel, in a folder of its own; errors raise."""
    folder = tempfile.mkdtemp(prefix="bps-notebook-")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, km=kernel_manager(folder), timeout=300, resources={"metadata": {"path": folder}}).execute()
    return nb
