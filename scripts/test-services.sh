#!/usr/bin/env bash
# Makes sure the PostgreSQL server the tests use is running on 127.0.0.1:5432.
# The tests never skip PostgreSQL silently: if it cannot be started, this fails.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
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
