#!/usr/bin/env bash
# Python 3.11 virtualenv (.venv) with the locked dependencies; re-runs only when the lock file changes.
source "$(dirname "$0")/lib.sh"
cd "$LANTERN_ROOT"

find_python() {
  local candidate
  for candidate in "${LANTERN_PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

PYTHON_BIN="$(find_python || true)"
if [ -z "$PYTHON_BIN" ]; then
  apt_install python3 python3-venv python3-dev || true
  PYTHON_BIN="$(find_python || true)"
fi
if [ -z "$PYTHON_BIN" ]; then
  echo "lantern: Python 3.11 with venv is required; install it (Debian 12: apt-get install python3 python3-venv)" \
       "or set LANTERN_PYTHON=/path/to/python3.11" >&2
  exit 1
fi

stamp=.venv/.lantern-lock
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  rm -rf .venv
  echo "lantern: creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "lantern: installing Python packages (requirements.lock)"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.lock
  cp requirements.lock "$stamp"
fi
