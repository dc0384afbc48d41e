#!/usr/bin/env bash
# Set up everything (idempotent), then open the app (default lesson, or the arguments given).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/main.py" "$@"
