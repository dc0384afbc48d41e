"""Backprop Studio: watch and step through PyTorch training (the app: `backprop-studio`, main.py).

In Python or a Jupyter notebook:

    import backprop_studio
    with backprop_studio.trace() as run:   # or `%load_ext backprop_studio` and a `%%trace` cell
        ...training loop...
    run.path    # the .bps recording; run.open() opens it in the app

Importing the package imports nothing else (no torch, no Qt): `trace` loads the tracer when called.
"""


def trace(path=None, detail="auto", overhead=0.10, break_on=(), show=True):
    """Record every backward pass of a `with` block into a .bps file (see core/notebook/trace.py)."""
    from .core.notebook.trace import trace as start

    return start(path, detail=detail, overhead=overhead, break_on=break_on, show=show)


def load_ipython_extension(shell):
    """`%load_ext backprop_studio`: the `%%trace` cell magic."""
    from .core.notebook.magic import load_ipython_extension as load

    load(shell)
