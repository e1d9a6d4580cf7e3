#!/usr/bin/env bash
# Starts Debian's PostgreSQL on loopback for the store tests (installing the package when it is
# missing), makes a `flakiness` role that may create databases, and prints the line to eval:
#   eval "$(bash .ci/postgres.sh)"   # sets FLAKINESS_TEST_DATABASE_URL
# Everything else goes to stderr.
set -euo pipefail

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "installing postgresql (Debian)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
  pg_createcluster "$version" main >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" { found = 1 } END { exit !found }'; then
  pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$port" >&2
su postgres -c "psql -q -v ON_ERROR_STOP=1 -p $port" >&2 <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flakiness') THEN
    CREATE ROLE flakiness LOGIN CREATEDB PASSWORD 'flakiness';
  END IF;
END
$$;
SQL
echo "export FLAKINESS_TEST_DATABASE_URL=postgres://flakiness:flakiness@127.0.0.1:$port/postgres"
