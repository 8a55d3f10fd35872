#!/usr/bin/env bash
# Create the project's virtual environment from requirements/lock.txt, once.
# Re-runs only when the lock file changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
LOCK=requirements/lock.txt
STAMP="$VENV/.installed-lock"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && cmp -s "$LOCK" "$STAMP"; then
  exit 0
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$candidate"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "Python 3.11 is needed (the pinned torch and Rasa wheels are for 3.11)." >&2
  exit 1
fi

echo "Creating $VENV with $("$PY" --version) from $LOCK ..."
start=$(date +%s)
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-deps --ignore-requires-python -r "$LOCK"
cp "$LOCK" "$STAMP"
echo "Environment ready in $(( $(date +%s) - start )) s."
