#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's Chromium and espeak-ng, axe-core), then run them.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi

if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "Installing Debian's espeak-ng for the transcription tests (a spoken clip)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq espeak-ng >/dev/null
fi

if [ ! -f .cache/npm/node_modules/axe-core/axe.min.js ]; then
  echo "Installing axe-core for the accessibility checks..."
  npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4 >/dev/null
fi

exec python3 -m pytest -n 2 "$@"
