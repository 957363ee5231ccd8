#!/bin/sh
# bench.sh BUILD - how fast and how big: 10,000 reservations (500 pages of
# 20) over 50 listings and 100 locks, reconciled from scratch and then again
# unchanged, against the fake server on 127.0.0.1.  Prints the CPU time, the
# peak memory (RSS) and the request/connection counts of each run, and the
# idle cost of pin-runner.  Numbers, not assertions: compare them across
# changes on the same machine.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
N=${BENCH_RESERVATIONS:-10000}
d=$(mktemp -d "${TMPDIR:-/tmp}/stays-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$d"' EXIT

if [ ! -x /usr/bin/time ]; then
	echo "bench: needs GNU time: apt-get install -y time" >&2
	exit 1
fi

awk -v n="$N" 'BEGIN {
	printf "["
	for (i = 0; i < n; i++) {
		d = i % 300; m = 12 + int(d / 27); day = 1 + d % 27
		y = 2026 + int((m - 1) / 12); m = (m - 1) % 12 + 1
		printf "%s{\"_id\":\"%024x\",\"id\":\"B%05d\",\"creationDate\":\"2026-11-01\",", (i ? ",\n" : ""), i + 1, i
		printf "\"checkInDate\":\"%04d-%02d-%02d\",\"checkInTime\":\"15:00\",", y, m, day
		printf "\"checkOutDate\":\"%04d-%02d-%02d\",\"checkOutTime\":\"11:00\",", y, m, day + 1
		printf "\"_idlisting\":\"L%03d\",\"type\":\"booked\",\"guests\":2,", i % 50
		printf "\"price\":{\"currency\":\"BRL\",\"_f_expected\":900,\"_f_total\":1020.5}}"
	}
	printf "]\n"
}' > "$d/stays.json"

"$build/fakeapi" --port-file "$d/port" --stays-data "$d/stays.json" \
	--tuya-data "$top/tests/fixtures/fake-tuya.json" 2>"$d/fake.err" &
pid=$!
while [ ! -s "$d/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$d/port")"
cat > "$d/c.conf" <<EOC
[database]
path = $d/stays.db
[stays]
url = $url
client_id = fake-stays-id
client_secret = fake-stays-secret
max_removals = 100000
[tuya]
url = $url
client_id = fake4client6id8xyzw12
client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0
EOC
chmod 600 "$d/c.conf"
i=0
while [ $i -lt 50 ]; do
	"$build/stays-reconcile" -c "$d/c.conf" locks add --no-check "$(printf 'L%03d' $i)" "$(printf 'dev%03da' $i)"
	"$build/stays-reconcile" -c "$d/c.conf" locks add --no-check "$(printf 'L%03d' $i)" "$(printf 'dev%03db' $i)"
	i=$((i + 1))
done

now=2026-12-01T12:00:00Z
measure() {	# measure LABEL command...
	label=$1
	shift
	/usr/bin/time -f "%U %S %M %e" -o "$d/time" "$@" > "$d/out" 2>&1 || { cat "$d/out"; exit 1; }
	set -- $(cat "$d/time")
	printf '%-34s cpu %5.2f s (user %s, sys %s)  peak RSS %6d KiB  wall %s s\n' \
		"$label" "$(echo "$1 $2" | awk '{print $1 + $2}')" "$1" "$2" "$3" "$4"
}
echo "bench: $N reservations, 50 listings, 100 locks"
measure "reconcile, first run" "$build/stays-reconcile" -c "$d/c.conf" -v --now $now
sed -n 's/^reconciled: \(.*\)/    \1/p' "$d/out"
measure "reconcile, unchanged" "$build/stays-reconcile" -c "$d/c.conf" -v --now 2026-12-01T12:30:00Z
sed -n 's/^reconciled: \(.*\)/    \1/p' "$d/out"
measure "reconcile --dry-run" "$build/stays-reconcile" -c "$d/c.conf" --now 2026-12-01T12:30:00Z run --dry-run
measure "pin-runner, idle" "$build/pin-runner" -c "$d/c.conf" --now 2026-12-01T12:35:00Z
measure "status --json" "$build/stays-reconcile" -c "$d/c.conf" --now 2026-12-01T12:40:00Z status --json
ls -l "$d/stays.db" | awk '{printf "database size: %d KiB\n", $5 / 1024}'
