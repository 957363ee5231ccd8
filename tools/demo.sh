#!/bin/sh
# demo.sh BUILD - the whole job on a built-in demo data set, against the fake
# Stays and Tuya server (tests/fakeapi) on 127.0.0.1: a fresh SQLite file,
# the lock mapping, one reconciliation, the schedule, one pin-runner cycle at
# a time when PINs are due, what the locks hold, and the status JSON.
# `check` runs once before the first run (a warning - the offline lock, no
# schedule - does not stop the demo; a failure does).
# Nothing leaves this machine.  DEMO_KEEP=1 keeps the demo folder.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
d=$(mktemp -d "${TMPDIR:-/tmp}/stays-demo.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	if [ -n "${DEMO_KEEP:-}" ]; then
		echo "demo folder kept: $d"
	else
		rm -rf "$d"
	fi
}
trap cleanup EXIT

# The demo's clock: the data set is December 2026; --now keeps it meaningful.
now=2026-12-01T12:00:00Z

cp "$top/tests/fixtures/demo-stays.json" "$d/stays.json"
cp "$top/tests/fixtures/demo-tuya.json" "$d/tuya.json"
"$build/fakeapi" --port-file "$d/port" --log "$d/requests.log" \
	--stays-data "$d/stays.json" --tuya-data "$d/tuya.json" 2>"$d/fakeapi.err" &
pid=$!
i=0
while [ ! -s "$d/port" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: the fake server did not start:" >&2
		cat "$d/fakeapi.err" >&2
		exit 1
	fi
	sleep 0.05
done
url="http://127.0.0.1:$(cat "$d/port")"

umask 077
cat > "$d/stays-reconcile.conf" <<EOC
; demo configuration: fake credentials for the fake server on 127.0.0.1
[database]
path = $d/stays.db
[stays]
url = $url
client_id = fake-stays-id
client_secret = fake-stays-secret
[tuya]
url = $url
client_id = fake4client6id8xyzw12
client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0
[pins]
timezone = America/Sao_Paulo
EOC

sr() {
	printf '$ stays-reconcile'
	for a in "$@"; do
		case "$a" in *" "*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac
	done
	printf '\n'
	"$build/stays-reconcile" -c "$d/stays-reconcile.conf" "$@"
}

echo "== demo folder: $d (fake Stays + Tuya at $url, clock $now)"
echo
echo "== map listings to locks"
sr locks add 63dd7e20333d8b60be510f9c bf0123456789abcdefxyzq --name "Copacabana 302 front door"
sr locks add 63dd7e20333d8b60be510f9c bf0123456789abcdefxyz2 --name "Copacabana 302 service door"
sr locks add 63dd7e20333d8b60be510fa0 eb9876543210fedcbazyxw --name "Ipanema 11 gate" --pin-length 6
sr locks add 63dd7e20333d8b60be510fa1 eb9876543210fedcbazyx3 --name "Leblon 7 keypad"
sr locks list
echo
echo "== check the set-up (like nginx -t): configuration, database, Stays, Tuya, each lock"
sr --now $now check
echo
echo "== preview: what a run would do (writes nothing)"
sr --now $now run --dry-run | head -n 8
echo "   ..."
echo
echo "== reconcile (-v: one summary line, then one line per action)"
sr -v --now $now run
echo
echo "== the schedule (like atq)"
sr --now $now jobs | head -n 8
echo "   ..."
echo
pins=2026-12-01T17:00:00Z
echo "== $pins: pin-runner creates the PINs that are due (cron runs it every minute)"
printf '$ pin-runner -v --now %s\n' "$pins"
"$build/pin-runner" -c "$d/stays-reconcile.conf" -v --now $pins
echo
echo "== what the (fake) locks hold now, PINs masked"
curl -sf "$url/_fake/tuya/state" |
	jq -r '.devices[] | .id as $d | .passwords[] |
		"lock \($d): \(.name)  PIN \(.pin | gsub("[0-9]"; "*"))  valid \(.effective_time | todate) .. \(.invalid_time | todate)  phase \(.phase)"'
echo
echo "== the next reconciliation (cron, every 30 minutes): nothing changed in Stays, nothing written"
sr -v --now $pins run
echo
echo "== status --json"
sr --now 2026-12-01T17:02:00Z status --json
