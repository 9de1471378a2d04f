#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use is up; starts the local cluster if it is installed
# but stopped. Prints what it finds so a CI log shows it.
set -u
url=${SAMESAY_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "postgres: up at 127.0.0.1:5432 ($url)"; exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "postgres: not answering, starting the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && { echo "postgres: up"; exit 0; }; sleep 1; done
fi
echo "postgres: not reachable; the PostgreSQL tests will fail (set SAMESAY_TEST_DATABASE_URL)" >&2
exit 0
