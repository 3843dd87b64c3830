#!/usr/bin/env bash
# Refresh constraints.txt: resolve the project's `test` extra afresh in a clean, throwaway virtualenv
# and freeze it. Review the diff, run scripts/test.sh (which then reinstalls .venv/), and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
{
  echo "# Exact versions scripts/test.sh installs (pip install -c constraints.txt -e '.[test]')."
  echo "# Refresh: bash scripts/lock.sh (clean venv, pip install -e '.[test]', pip freeze --exclude-editable)."
  "$tmp/venv/bin/python" -m pip freeze --disable-pip-version-check --exclude-editable
} >constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
