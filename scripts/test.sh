#!/usr/bin/env bash
# Set up (idempotently) and run the whole test suite, tier by tier.
#
#   bash scripts/test.sh           # every tier this machine supports
#   bash scripts/test.sh unit      # only the fast default tier
#
# Each tier's fixtures start the services it needs (PostgreSQL, X servers, dockerd)
# and stop them by PID afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
tier=${1:-all}

run() { echo "== pytest $*"; python -m pytest "$@"; }

if [ "$tier" = "unit" ]; then
  run -m "not slow and not model and not docker and not desktop" -q
  exit 0
fi
run -q -p no:cacheprovider
