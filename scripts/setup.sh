#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, venv, pinned Python packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# BPS_APT replaces apt-get (tests point it at a fake that records its calls).
APT="${BPS_APT:-apt-get}"

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
# Outputs are captured before matching: `producer | grep -q` under pipefail fails when grep exits first (SIGPIPE).
fonts="$(fc-list :lang=zh family 2>/dev/null || true)"
[ -n "$fonts" ] || need_apt+=(fonts-wqy-microhei fontconfig)
command -v xvfb-run >/dev/null 2>&1 || need_apt+=(xvfb xauth)
command -v tesseract >/dev/null 2>&1 || need_apt+=(tesseract-ocr)  # OCR of screenshots (tests/test_ocr.py)
libs="$(ldconfig -p 2>/dev/null || true)"
# Shared libraries Qt needs (offscreen, and the xcb platform under Xvfb): library -> Debian package.
for pair in libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0 \
    libxkbcommon-x11.so.0:libxkbcommon-x11-0 libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 \
    libxcb-cursor.so.0:libxcb-cursor0 libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 \
    libxcb-shape.so.0:libxcb-shape0 libxcb-xinerama.so.0:libxcb-xinerama0 libxcb-randr.so.0:libxcb-randr0 \
    libxcb-render-util.so.0:libxcb-render-util0 libxcb-image.so.0:libxcb-image0 libxcb-xkb.so.1:libxcb-xkb1; do
  [[ "$libs" == *"${pair%%:*}"* ]] || need_apt+=("${pair##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  fi
  if [ "$SUDO" = "none" ]; then
    echo "setup: missing system packages; as root run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${need_apt[*]}" >&2
    echo "setup: carrying on without them" >&2
  else
    echo "setup: apt-get install ${need_apt[*]}" >&2
    $SUDO "$APT" update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO "$APT" install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
fi

stamp="$VENV/.requirements.sha"
want="$(sha256sum "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-64)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating $VENV and installing pinned packages" >&2
  rm -rf "$VENV"  # a fresh venv: upgrading pinned packages in place can leave broken files
  python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt" 2>&1 | grep -v "^WARNING: Location" || true
  "$VENV/bin/python" -c "import torch, PySide6, pyqtgraph, networkx, graphviz, msgpack, transformers, pytorch_lightning" \
    || { echo "setup: installing the pinned packages failed" >&2; exit 1; }
  "$VENV/bin/pip" install -q --no-deps -e "$ROOT" >/dev/null 2>&1 \
    || { echo "setup: installing backprop-studio failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
