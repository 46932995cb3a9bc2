#!/usr/bin/env bash
# Build (or reuse) steadyhand's offline Docker images, starting dockerd first if needed.
#
#   bash scripts/images.sh                    # python and postgres (what the docker test tier uses)
#   bash scripts/images.sh desktop            # any of: python postgres desktop
#
# The debootstrap base is cached under ~/.cache/steadyhand/images; an image whose
# definition is unchanged is reused, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/dockerd.sh start
[ $# -gt 0 ] || set -- python postgres
exec "$VENV/bin/python" -m steadyhand.sandboxes.images "$@"
