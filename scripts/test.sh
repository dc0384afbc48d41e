#!/usr/bin/env bash
# Set up everything (idempotent), then run the whole test suite offscreen.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
# Byte-code caches on: the suite starts ~200 interpreters (traced children, torchrun ranks), each would
# compile this package's modules again (~0.2 s of CPU each)
unset PYTHONDONTWRITEBYTECODE
# One intra-op thread per process: the tests' tensors are small, and on 2 cores the test process and the
# children it starts would otherwise spin against each other
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# Two workers (pytest-xdist), a test file each at a time: module fixtures stay shared, and the scripts that
# several files record are recorded once for both (tests/util.py Recordings). `-n 0` runs in this process.
exec "$ROOT/.venv/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
