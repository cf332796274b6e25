#!/bin/sh
# Runs a Windows test binary under Wine: `GOOS=windows go test -exec
# scripts/wine-exec.sh PKG` (make wine-test). The Wine prefix lives in
# WINEPREFIX (default .bin/wineprefix) and gets the bcryptprimitives.dll
# the Go runtime needs and Wine 8 lacks (windows/internal/wineshim).
# Exits 0 with a message, running nothing, where Wine is not installed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
wine=$(command -v wine64 || true)
[ -n "$wine" ] || { [ -x /usr/lib/wine/wine64 ] && wine=/usr/lib/wine/wine64; } || true
if [ -z "$wine" ]; then
	echo "wine-exec: wine64 is not installed (apt-get install wine64): skipping $1" >&2
	exit 0
fi
export WINEPREFIX="${WINEPREFIX:-$root/.bin/wineprefix}" WINEDEBUG="${WINEDEBUG:--all}"
sys32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
	# The first run creates the prefix; then the shim goes into it.
	"$wine" cmd /c exit >/dev/null 2>&1 || true
	(cd "$root" && GOOS= GOARCH= go run ./windows/internal/wineshim -out "$sys32/bcryptprimitives.dll")
fi
exec "$wine" "$@"
