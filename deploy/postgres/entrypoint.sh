#!/bin/sh
# First start: an empty $PGDATA gets a cluster, the user and the database of POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB (as the official image does); then PostgreSQL runs.
set -eu
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 \
    --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  # Other containers of the stack connect over its network, with the password.
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
  psql -tA -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || createdb --username="$user" --owner="$user" "$db"
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  echo "PostgreSQL: created database $db for $user in $PGDATA"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
