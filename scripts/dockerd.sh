#!/usr/bin/env bash
# Start (idempotently) or stop a Docker daemon for steadyhand's docker tier.
#
#   bash scripts/dockerd.sh          # start if nothing answers on the socket; wait until ready
#   bash scripts/dockerd.sh start    # same
#   bash scripts/dockerd.sh stop     # stop the daemon this script started (by its PID file)
#   bash scripts/dockerd.sh status   # say whether a daemon answers
#
# The daemon leaves the host's network configuration alone: no bridge, no iptables or
# ip6tables rules, no masquerading. Containers get either no network or the host's
# network (steadyhand binds services to 127.0.0.1). State (PID file, log) lives under
# STEADYHAND_DOCKERD_STATE (default /var/lib/steadyhand/dockerd); the storage driver is
# overlay2 where the kernel allows it, vfs otherwise (STEADYHAND_DOCKERD_STORAGE forces one).
# STEADYHAND_DOCKERD_SOCKET and STEADYHAND_DOCKERD_DATA_ROOT run a separate daemon.
set -euo pipefail

STATE=${STEADYHAND_DOCKERD_STATE:-/var/lib/steadyhand/dockerd}
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
SOCK=${STEADYHAND_DOCKERD_SOCKET:-/var/run/docker.sock}
WAIT_S=${STEADYHAND_DOCKERD_WAIT_S:-60}
# A second, separate daemon (tests of this script) needs its own data and exec roots.
EXTRA=()
[ -n "${STEADYHAND_DOCKERD_DATA_ROOT:-}" ] && EXTRA+=(--data-root "$STEADYHAND_DOCKERD_DATA_ROOT" --exec-root "$STATE/exec")
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker || true)

answers() { [ -n "$DOCKER" ] && "$DOCKER" -H "unix://$SOCK" info >/dev/null 2>&1; }

our_pid() {
  # The PID in our PID file, if that process is still a dockerd.
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

storage_driver() {
  if [ -n "${STEADYHAND_DOCKERD_STORAGE:-}" ]; then echo "$STEADYHAND_DOCKERD_STORAGE"; return; fi
  # overlay2 needs overlayfs mountable here; probe it in a scratch directory.
  local probe
  probe=$(mktemp -d)
  mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
    umount "$probe/m"; rm -rf "$probe"; echo overlay2
  else
    rm -rf "$probe"; echo vfs
  fi
}

start() {
  if answers; then echo "dockerd: a daemon already answers on $SOCK"; return 0; fi
  command -v dockerd >/dev/null || { echo "dockerd: not installed (apt-get install docker.io)" >&2; exit 1; }
  mkdir -p "$STATE"
  local pid driver
  if pid=$(our_pid); then
    echo "dockerd: PID $pid is starting; waiting"
  else
    driver=$(storage_driver)
    echo "dockerd: starting (storage driver $driver, log $LOG)"
    # setsid: the daemon must not share the caller's session or die with its terminal.
    setsid dockerd \
      --host "unix://$SOCK" \
      --pidfile "$STATE/dockerd.self.pid" \
      --storage-driver "$driver" \
      --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
      --userland-proxy=false ${EXTRA[@]+"${EXTRA[@]}"} \
      >>"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$PIDFILE"
  fi
  for _ in $(seq 1 "$((WAIT_S * 4))"); do
    if answers; then echo "dockerd: ready (PID $pid)"; return 0; fi
    if ! [ -d "/proc/$pid" ]; then
      echo "dockerd: exited during start-up; last lines of $LOG:" >&2; tail -20 "$LOG" >&2; rm -f "$PIDFILE"; exit 1
    fi
    sleep 0.25
  done
  echo "dockerd: no answer after ${WAIT_S}s; see $LOG" >&2
  exit 1
}

stop() {
  local pid
  if ! pid=$(our_pid); then echo "dockerd: none started by this script is running"; rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 120); do
    [ -d "/proc/$pid" ] || { rm -f "$PIDFILE"; echo "dockerd: stopped (PID $pid)"; return 0; }
    sleep 0.25
  done
  echo "dockerd: PID $pid ignored SIGTERM for 30s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if answers; then echo "dockerd: answering on $SOCK"; else echo "dockerd: no answer on $SOCK"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
