#!/usr/bin/env bash
# Lists the fuzz targets of the module as package:FuzzName, one per line.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*_test.go' | xargs grep -lE '^func Fuzz[A-Za-z0-9_]*\(' | while read -r f; do
	pkg="./$(dirname "$f")"
	grep -oE '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | sed "s|^|$pkg:|"
done
