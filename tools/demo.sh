#!/bin/sh
# demo.sh BUILD - the whole job on a built-in demo data set, against the fake
# Stays and Tuya server (tests/fakeapi) on 127.0.0.1: a fresh SQLite file,
# the set-up (check, the listings, the locks, the suggested mapping), one
# reconciliation, the schedule, one pin-runner cycle at a time when PINs are
# due with the on_pin hook contrib/hooks/pin-to-file, the PINs, and the
# status JSON.  `check` runs before the mapping and after it (a warning -
# nothing mapped, the offline lock, no schedule - does not stop the demo; a
# failure does).
# Near the end, the access timeline: as text, and as a page for a browser
# written to BUILD/demo-timeline.html (DEMO_TIMELINE=FILE: there instead),
# which `make timeline-png` turns into docs/timeline.png.
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
[hooks]
; the guest's message, one file per reservation, in \$PIN_HOOK_DIR
on_pin = $top/contrib/hooks/pin-to-file
EOC
# pin-runner gives the hook its environment: the messages go to the demo folder.
PIN_HOOK_DIR=$d/messages
export PIN_HOOK_DIR

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
echo "== check the set-up (like nginx -t) before anything is mapped: it warns, it does not fail"
sr --now $now check
echo
echo "== the Stays listings (internalName is the name to match)"
sr listings
echo
echo "== the Tuya devices linked to the cloud project"
sr locks discover
echo
echo "== which lock goes with which listing, suggested from their names"
sr locks suggest
echo
echo "== map the suggested pairs (locks suggest --json | jq -> locks add)"
# Tuya does not report how many digits a keypad takes: the Ipanema gate's
# takes 6 (its manual says so), so that one gets --pin-length 6.
echo "\$ stays-reconcile locks suggest --json | jq -r '.[] | [.listingId, .deviceId, .deviceName] | @tsv'"
"$build/stays-reconcile" -c "$d/stays-reconcile.conf" locks suggest --json |
	jq -r '.[] | [.listingId, .deviceId, (.deviceName // "")] | @tsv' | tee "$d/pairs"
tab=$(printf '\t')
while IFS=$tab read -r listing dev name; do
	case "$dev" in
	eb9876543210fedcbazyxw) set -- --pin-length 6 ;;
	*) set -- ;;
	esac
	sr locks add "$listing" "$dev" ${name:+--name "$name"} "$@"
done < "$d/pairs"
echo "# the service door is the second lock of Copacabana 302: a suggestion pairs"
echo "# each listing with one lock, so a listing's other doors are mapped by hand"
sr locks add 63dd7e20333d8b60be510f9c bf0123456789abcdefxyz2 --name "Copacabana 302 service door"
echo "# Botafogo 45 has no smart lock: it stays unmapped and gets no PINs"
sr locks list
echo
echo "== check again, now with the locks (the Leblon keypad is offline: a warning)"
sr --now $now check
echo
echo "== Stays refuses one guest's record (stays-api.md §5): EF56G's client has"
echo "   an invalid stored e-mail; a guest look-up must take that as non-fatal"
printf '$ curl -u ... %s\n' "/external/v1/booking/clients/6650f1a0c3d4e5f6a7b8c9b1"
curl -s -w ' (HTTP %{http_code})\n' -u fake-stays-id:fake-stays-secret \
	"$url/external/v1/booking/clients/6650f1a0c3d4e5f6a7b8c9b1"
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
echo "   and runs the on_pin hook for each (PIN_HOOK_DIR=$d/messages)"
printf '$ pin-runner -v --now %s\n' "$pins"
"$build/pin-runner" -c "$d/stays-reconcile.conf" -v --now $pins
echo
echo "== the PINs on the locks now (masked; --show-pin shows them)"
sr --now $pins pins
echo
echo "== the hook's message for the guest of RV02J (two doors), PIN masked here"
printf '$ cat %s\n' "$d/messages/RV02J.txt"
sed '/PIN: /s/[0-9]/*/g' "$d/messages/RV02J.txt"
echo
echo "== the next reconciliation (cron, every 30 minutes): nothing changed in Stays, nothing written"
sr -v --now $pins run
echo
page=${DEMO_TIMELINE:-$build/demo-timeline.html}
echo "== who can open which door, when: the access timeline of the next 14 days"
echo "   (read-only, no network: cron can run it every minute; exit 1 flags a problem)"
sr --now 2026-12-01T17:02:00Z timeline || [ $? -eq 1 ]
echo
echo "== the same as one self-contained page (inline SVG, no script), for a web server"
sr --now 2026-12-01T17:02:00Z timeline --html "$page" || [ $? -eq 1 ]
echo "   the page: $page (open it in a browser)"
echo
echo "== status --json"
sr --now 2026-12-01T17:02:00Z status --json
