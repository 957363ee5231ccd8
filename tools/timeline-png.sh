#!/bin/sh
# timeline-png.sh BUILD [PNG] - docs/timeline.png, the README's picture of
# `stays-reconcile timeline --html`, made from the demo's data (never by
# hand): runs tools/demo.sh, then headless Chromium screenshots the page
# it wrote.  Needs Debian's chromium package.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
png=${2:-$top/docs/timeline.png}
W=1240 H=520

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	echo "timeline-png: chromium is not installed (apt-get install chromium)" >&2
	exit 1
fi
d=$(mktemp -d "${TMPDIR:-/tmp}/stays-png.XXXXXX")
trap 'rm -rf "$d"' EXIT
DEMO_TIMELINE="$d/timeline.html" sh "$top/tools/demo.sh" "$build" > "$d/demo.log" 2>&1 || {
	cat "$d/demo.log" >&2
	exit 1
}
# A fresh profile in $d: nothing of the user's, nothing left behind.
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--force-device-scale-factor=1 --user-data-dir="$d/profile" \
	--screenshot="$d/timeline.png" --window-size=$W,$H "file://$d/timeline.html" \
	> "$d/chromium.log" 2>&1 || { cat "$d/chromium.log" >&2; exit 1; }
mkdir -p "$(dirname "$png")"
mv "$d/timeline.png" "$png"
echo "timeline-png: $png (${W}x$H) from the demo's page"
