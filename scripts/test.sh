#!/usr/bin/env bash
# Set up (idempotently) and run the whole test suite, tier by tier.
#
#   bash scripts/test.sh           # every tier
#   bash scripts/test.sh unit      # only the fast default tier
#
# Tiers are pytest markers. Fixtures start what a tier needs and stop it by PID
# (PostgreSQL, Xvfb desktops, simulated devices); the Docker daemon is started here,
# once, because images outlive a test session, and stopped at the end if we started it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
tier=${1:-all}

run() { echo "== pytest $*"; python -m pytest -p no:cacheprovider "$@"; }

echo "== lint"
ruff check src tests benchmarks scripts examples
mypy

if [ "$tier" = "unit" ]; then
  run -q -m "not slow and not model and not docker and not desktop"
  exit 0
fi

started_dockerd=""
if ! bash scripts/dockerd.sh status >/dev/null 2>&1; then
  bash scripts/dockerd.sh start
  started_dockerd=1
fi
cleanup() { [ -n "$started_dockerd" ] && bash scripts/dockerd.sh stop || true; }
trap cleanup EXIT

# The images the docker tier needs (built offline; a second build reuses them).
steadyhand images build python
steadyhand images build postgres
steadyhand images build desktop

# One session for every tier: the summary line counts them all.
run -q -rs
