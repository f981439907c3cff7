#!/usr/bin/env bash
# Regenerates 0001_initial from the models against an empty SQLite database, in a scratch copy
# of this folder so that later hand-written revisions are never touched.
# Only before the first release: once 0001 has run anywhere, add new revisions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/migrations/versions"
cp migrations/env.py migrations/script.py.mako migrations/alembic.ini "$tmp/migrations/"
DATABASE_URL="sqlite:///$tmp/empty.sqlite3" QABYLDAU_INSTANCE="$tmp/instance" \
  .venv/bin/flask --app wsgi db revision -d "$tmp/migrations" --autogenerate --rev-id 0001 -m "initial schema" >"$tmp/log" 2>&1 \
  || { cat "$tmp/log"; exit 1; }
cp "$tmp/migrations/versions/0001_initial_schema.py" migrations/versions/0001_initial.py
echo "migrations/versions/0001_initial.py regenerated"
