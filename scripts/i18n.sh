#!/usr/bin/env bash
# Collect the interface's strings (self.tr / translate / QT_TRANSLATE_NOOP in gui/) into
# resources/i18n/backprop_studio_<locale>.ts with pyside6-lupdate, and compile each .ts to the .qm
# the app loads (pyside6-lrelease). New strings arrive as type="unfinished": translate them (Qt
# Linguist, or fill <translation> by hand and drop the attribute), then run this again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
# the tools ship inside the PySide6 wheel
TOOLS="$("$PY" -c 'import os, PySide6; print(os.path.dirname(PySide6.__file__))')"
cd "$ROOT"
shopt -s nullglob
sources=(gui/*.py gui/*/*.py)
for locale in zh_CN; do
  ts="resources/i18n/backprop_studio_$locale.ts"
  # no line numbers: the file changes only when strings do
  "$TOOLS/lupdate" -silent -no-obsolete -locations none -target-language "$locale" "${sources[@]}" -ts "$ts"
  "$TOOLS/lrelease" -silent "$ts" -qm "${ts%.ts}.qm"
done
