#!/usr/bin/env bash
# Makes sure the services the tests use are running: PostgreSQL on 127.0.0.1:5432 and Redis on
# 127.0.0.1:6379 (the Celery queue's broker). The tests never skip them silently: if one
# cannot be started, this fails.
set -euo pipefail

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  echo "PostgreSQL is not running; starting it"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    conf=/etc/postgresql/$version/main
    # The tests connect as 'postgres' over TCP without a password (local, throw-away databases).
    if ! grep -q "lexo-tests" "$conf/pg_hba.conf"; then
      sed -i '1i host all all 127.0.0.1/32 trust # lexo-tests\nhost all all ::1/128 trust # lexo-tests' "$conf/pg_hba.conf"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  elif command -v brew >/dev/null 2>&1; then
    brew services start postgresql@16
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p 5432
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE test"
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return 0; fi
  echo "Redis is not running; starting it"
  if command -v brew >/dev/null 2>&1 && ! command -v redis-server >/dev/null 2>&1; then
    brew services start redis
  else
    # Debian's redis-server, started directly (no systemd on CI machines): loopback only,
    # nothing written to disk (the tests' queues are throw-away).
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no \
      --logfile /tmp/lexo-test-redis.log
  fi
  for _ in $(seq 1 30); do
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.5
  done
  echo "Redis did not start (see /tmp/lexo-test-redis.log)" >&2
  return 1
}

start_postgres
start_redis
