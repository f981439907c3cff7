#!/bin/sh
# System libraries the Python packages need: Pango for WeasyPrint, poppler-utils for PDF checks,
# fonts with Kazakh letters; with --browser also Debian's Chromium for the end-to-end tests, and Node
# (npm installs axe-core and the Nu HTML Checker, tests/e2e/package.json) with a Java to run the checker.
set -e
# Debian package names; the fonts are also shipped in appeals/reports/fonts.
# Used by the Makefile (so `make run` and `make test` set up a fresh machine) and by .ci/run.
packages="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils fonts-dejavu-core"
[ "${1:-}" = "--browser" ] && packages="$packages chromium"
missing=""
if [ "${1:-}" = "--browser" ]; then
  # By command, not by package: a machine may have Node (with npm) or a JDK from elsewhere.
  command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
  command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
fi
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  # Without root, say what is missing; the tests that need it say so again when they run.
  echo "Please install these Debian packages:$missing" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
