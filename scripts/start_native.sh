#!/usr/bin/env bash
# Starts LEXO natively, as LEXO native did: the services its settings point at on this machine
# (PostgreSQL, Redis), the schema migration, the API, LEXO_WORKERS workers and, when
# configured, the language-model server on 127.0.0.1:8004. Waits until each is healthy, then
# prints the URLs, PIDs and log files. Idempotent: what already runs is reported, not started
# twice. scripts/stop_native.sh stops everything in reverse order.
#
# Honours the usual settings (environment or .env): LEXO_PORT, LEXO_HOST, LEXO_DATA_DIR,
# LEXO_INBOX_DIR, LEXO_DATABASE_URL, LEXO_QUEUE, LEXO_BROKER_URL, LEXO_LLM, LEXO_LLM_URL, so
# that two stacks can run side by side (another port and data folder). Also:
#   LEXO_WORKERS      separate worker processes (default 1; with SQLite the API's own worker
#                     does the work and this is ignored: one process writes SQLite)
#   LEXO_NATIVE_LLM   auto (default: start the server when LEXO_LLM=openai points at a
#                     loopback port and a model is there), on, off
#   LEXO_MLX_MODEL    on macOS with mlx_lm installed: the MLX model mlx_lm.server serves
#   LEXO_BIN          the folder with LEXO's `lexo` and `python` (default .venv/bin)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LEXO_BIN:-$ROOT/.venv/bin}
cd "$ROOT"
[ -x "$BIN/lexo" ] || { echo "LEXO is not installed in $BIN: run 'make setup' first" >&2; exit 1; }

started=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

# What LEXO itself resolves from the environment and .env (defaults included).
settings="$("$BIN/python" - <<'PY'
import shlex
from urllib.parse import urlsplit

from lexo.settings import Settings

s = Settings()
db = urlsplit(s.database_url.replace("postgresql+psycopg", "postgresql"))
broker = getattr(s, "broker_url", "") or ""
llm_url = urlsplit(s.llm_url)
values = {
    "DATA_DIR": s.data_dir,
    "HOST": s.host,
    "PORT": s.port,
    "MODELS_DIR": s.models_dir,
    "DB_KIND": "sqlite" if s.is_sqlite else "postgresql",
    "DB_HOST": db.hostname or "",
    "DB_PORT": db.port or 5432,
    "QUEUE": getattr(s, "queue", "embedded"),
    "BROKER_URL": broker,
    "LLM": s.llm,
    "LLM_HOST": llm_url.hostname or "",
    "LLM_PORT": llm_url.port or 80,
    "LLM_CHAT_FORMAT": s.llm_chat_format,
    "LLM_MODEL": s.llm_model,
}
for key, value in values.items():
    print(f"{key}={shlex.quote(str(value))}")
PY
)" || { echo "LEXO's settings are not valid (above)" >&2; exit 1; }
eval "$settings"

RUN="$DATA_DIR/run"
LOGS="$DATA_DIR/logs"
mkdir -p "$RUN" "$LOGS"
WORKERS=${LEXO_WORKERS:-1}
local_host() { case "$1" in ""|127.0.0.1|localhost|::1) return 0 ;; *) return 1 ;; esac; }
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
api_host() { case "$HOST" in 0.0.0.0|"") echo 127.0.0.1 ;; ::) echo "[::1]" ;; *) echo "$HOST" ;; esac; }
API="http://$(api_host):$PORT"

wait_for() {  # name, seconds, command...
  local name=$1 seconds=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "  $name did not become healthy within ${seconds} s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# -- PostgreSQL ------------------------------------------------------------------------------
if [ "$DB_KIND" = postgresql ] && local_host "$DB_HOST"; then
  if pg_isready -q -h "${DB_HOST:-127.0.0.1}" -p "$DB_PORT" 2>/dev/null; then
    echo "PostgreSQL: already running on ${DB_HOST:-127.0.0.1}:$DB_PORT"
  else
    echo "PostgreSQL: starting"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      # The Debian cluster that listens on the URL's port (e.g. "15 main").
      read -r version cluster < <(pg_lsclusters -h | awk -v p="$DB_PORT" '$3 == p { print $1, $2; exit }')
      [ -n "${cluster:-}" ] || { echo "No PostgreSQL cluster on port $DB_PORT (pg_lsclusters)" >&2; exit 1; }
      pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
      echo "pg_ctlcluster $version $cluster" > "$RUN/postgresql.started"
    elif command -v brew >/dev/null 2>&1; then
      formula=$(brew services list | awk '/^postgresql/ { print $1; exit }')
      brew services start "${formula:-postgresql@16}"
      echo "brew ${formula:-postgresql@16}" > "$RUN/postgresql.started"
    else
      echo "PostgreSQL is not running and this script cannot start it here" >&2; exit 1
    fi
    wait_for PostgreSQL 30 pg_isready -q -h "${DB_HOST:-127.0.0.1}" -p "$DB_PORT"
    echo "  ready ($(elapsed))"
  fi
fi

# -- Redis -----------------------------------------------------------------------------------
if [ "$QUEUE" = celery ] && [[ "$BROKER_URL" == redis://* ]]; then
  rest=${BROKER_URL#redis://}; rest=${rest#*@}; hostport=${rest%%/*}
  REDIS_HOST=${hostport%%:*}; REDIS_PORT=${hostport##*:}
  [ "$REDIS_PORT" = "$hostport" ] && REDIS_PORT=6379
  if redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "Redis: already running on $REDIS_HOST:$REDIS_PORT"
  elif local_host "$REDIS_HOST"; then
    echo "Redis: starting"
    if command -v redis-server >/dev/null 2>&1; then
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
        --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" --dir "$RUN"
      echo "redis-server" > "$RUN/redis.started"
    elif command -v brew >/dev/null 2>&1; then
      brew services start redis
      echo "brew redis" > "$RUN/redis.started"
    else
      echo "Redis is not running and this script cannot start it here" >&2; exit 1
    fi
    wait_for Redis 10 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping
    echo "  ready ($(elapsed))"
  else
    echo "Redis at $REDIS_HOST:$REDIS_PORT is not answering (another machine: start it there)" >&2
    exit 1
  fi
fi

llm_waiting=false
# -- The language-model server (OpenAI-compatible, 127.0.0.1:8004), started first ------------
want=${LEXO_NATIVE_LLM:-auto}
if [ "$want" = auto ]; then
  want=off
  [ "$LLM" = openai ] && local_host "$LLM_HOST" && want=on
fi
if [ "$want" = on ]; then
  models="http://127.0.0.1:$LLM_PORT/v1/models"
  if curl -fsS "$models" >/dev/null 2>&1; then
    echo "LLM server: already answering at http://127.0.0.1:$LLM_PORT/v1"
  else
    if [ "$(uname -s)" = Darwin ] && [ -n "${LEXO_MLX_MODEL:-}" ] && command -v mlx_lm.server >/dev/null; then
      nohup mlx_lm.server --model "$LEXO_MLX_MODEL" --host 127.0.0.1 --port "$LLM_PORT" \
        >> "$LOGS/llm.log" 2>&1 &
    else
      gguf=$MODELS_DIR/gguf/$LLM_MODEL
      [ -f "$gguf" ] || gguf=$(ls "$MODELS_DIR"/gguf/*.gguf 2>/dev/null | head -n 1)
      [ -n "$gguf" ] && [ -f "$gguf" ] || { echo "No GGUF in $MODELS_DIR/gguf for the LLM server" >&2; exit 1; }
      format=()  # 'auto': the GGUF's own template; base Gemma files have none (LEXO's own
      [ "$LLM_CHAT_FORMAT" != auto ] && format=(--chat_format "$LLM_CHAT_FORMAT")  # rule)
      [ "$LLM_CHAT_FORMAT" = auto ] && [[ "$(basename "$gguf")" == gemma* ]] && format=(--chat_format gemma)
      nohup "$BIN/python" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 \
        --port "$LLM_PORT" "${format[@]}" --n_threads "${LEXO_LLM_THREADS:-1}" \
        >> "$LOGS/llm.log" 2>&1 &
    fi
    echo $! > "$RUN/llm.pid"
    llm_waiting=true  # it loads while the API starts; waited for below
  fi
fi


# -- API (and the schema), workers -----------------------------------------------------
# The API migrates the schema as it starts (workers start once it is healthy); with
# PostgreSQL, concurrent starts are serialised by Alembic's transaction.
own_worker=false
if [ "$DB_KIND" = sqlite ] && [ "$QUEUE" != celery ]; then
  own_worker=true  # one process writes SQLite: the API's embedded worker does the work
fi

if alive api; then
  echo "API: already running (pid $(cat "$RUN/api.pid")) at $API"
else
  flags=(--host "$HOST" --port "$PORT")
  # Embedded queue on PostgreSQL: the workers below take the jobs. (With Celery the API
  # takes none anyway, and still writes titles and summaries.)
  ! $own_worker && [ "$QUEUE" != celery ] && flags+=(--no-worker)
  nohup "$BIN/lexo" serve "${flags[@]}" >> "$LOGS/api.log" 2>&1 &
  echo $! > "$RUN/api.pid"
  wait_for API 30 curl -fsS "$API/api/v1/health" || { tail -n 20 "$LOGS/api.log" >&2; exit 1; }
  echo "API: started (pid $(cat "$RUN/api.pid")) at $API, healthy after $(elapsed)"
fi

if $own_worker; then
  [ "$WORKERS" -gt 0 ] && echo "Workers: the API's own (SQLite has one writer; LEXO_WORKERS ignored)"
else
  for n in $(seq 1 "$WORKERS"); do
    if alive "worker-$n"; then
      echo "Worker $n: already running (pid $(cat "$RUN/worker-$n.pid"))"
      continue
    fi
    nohup "$BIN/lexo" worker >> "$LOGS/worker-$n.log" 2>&1 &
    echo $! > "$RUN/worker-$n.pid"
  done
  sleep 0.5
  for n in $(seq 1 "$WORKERS"); do
    alive "worker-$n" || { tail -n 20 "$LOGS/worker-$n.log" >&2; echo "Worker $n died" >&2; exit 1; }
  done
  echo "Workers: $WORKERS running (pids $(cat "$RUN"/worker-*.pid | tr '\n' ' '))"
fi

if $llm_waiting; then
  wait_for "LLM server" 120 curl -fsS "$models" || { tail -n 20 "$LOGS/llm.log" >&2; exit 1; }
  echo "LLM server: started (pid $(cat "$RUN/llm.pid")) at http://127.0.0.1:$LLM_PORT/v1," \
    "healthy after $(elapsed)"
fi

echo
echo "LEXO is up ($(elapsed)): $API  (page: $API/ , API docs: $API/docs)"
echo "Logs: $LOGS   PIDs: $RUN   Stop: scripts/stop_native.sh"
