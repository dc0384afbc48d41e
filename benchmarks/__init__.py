"""Benchmarks for issue 8 (performance): run `python benchmarks/run.py`."""
