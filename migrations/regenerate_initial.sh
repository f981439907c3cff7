#!/usr/bin/env bash
# Regenerates 0001_initial from the models against an empty SQLite database.
# Only for use before the first release: once 0001 has run anywhere, add new revisions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_*.py
# Later hand-written revisions depend on 0001; move them aside while autogenerating.
mkdir -p "$tmp/later"
find migrations/versions -name '0*.py' -exec mv {} "$tmp/later/" \;
DATABASE_URL="sqlite:///$tmp/empty.sqlite3" QABYLDAU_INSTANCE="$tmp/instance" \
  .venv/bin/flask --app wsgi db revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null 2>&1
mv migrations/versions/0001_initial_schema.py migrations/versions/0001_initial.py
find "$tmp/later" -name '0*.py' -exec mv {} migrations/versions/ \;
echo "migrations/versions/0001_initial.py regenerated"
