#!/usr/bin/env bash
# Stops what scripts/start_native.sh started, in reverse order: the LLM server, the workers
# (each finishes or hands back its current document: SIGTERM, then SIGKILL after
# LEXO_STOP_SECONDS, default 30), the API, then Redis and PostgreSQL only if that script
# started them. Same settings as the start script (LEXO_DATA_DIR chooses the stack).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LEXO_BIN:-$ROOT/.venv/bin}
cd "$ROOT"
DATA_DIR=$("$BIN/python" -c 'from lexo.settings import Settings; print(Settings().data_dir)')
RUN="$DATA_DIR/run"
GRACE=${LEXO_STOP_SECONDS:-30}

stop() {  # name
  local pidfile="$RUN/$1.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(( $(date +%s) + GRACE ))
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "$1 (pid $pid) still running after ${GRACE} s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
    echo "$1: stopped (pid $pid)"
  else
    echo "$1: was not running"
  fi
  rm -f "$pidfile"
}

[ -d "$RUN" ] || { echo "Nothing started from $DATA_DIR"; exit 0; }

stop llm
for pidfile in "$RUN"/worker-*.pid; do
  [ -e "$pidfile" ] || continue
  name=$(basename "$pidfile" .pid)
  stop "$name" &
done
wait
stop api

if [ -f "$RUN/redis.started" ]; then
  how=$(cat "$RUN/redis.started")
  case "$how" in
    "brew redis") brew services stop redis ;;
    *) stop redis ;;
  esac
  rm -f "$RUN/redis.started"
  echo "Redis: stopped (it was started by start_native.sh)"
fi
if [ -f "$RUN/postgresql.started" ]; then
  read -r how a b < "$RUN/postgresql.started"
  case "$how" in
    pg_ctlcluster) pg_ctlcluster --skip-systemctl-redirect "$a" "$b" stop ;;
    brew) brew services stop "$a" ;;
  esac
  rm -f "$RUN/postgresql.started"
  echo "PostgreSQL: stopped (it was started by start_native.sh)"
fi
