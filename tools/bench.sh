#!/bin/sh
# bench.sh BUILD - issue 11's table, each figure a ratio measured side by
# side in one run against the same floors, on the fake server on 127.0.0.1.
#
# The data: N booked reservations (BENCH_RESERVATIONS, 10,000 = 500 pages
# of 20) and 200 canceled ones over 100 listings, each listing mapped to
# one lock.  The figures:
#   a. client CPU of a first run / the floor
#   b. client CPU of a run with nothing changed / the floor
#      The floor is what a sysadmin would script for the fetch-and-store
#      part alone: the same pages (the URLs are taken from the fake's log of
#      a first run) fetched by one curl over one connection, flattened by jq
#      to CSV and loaded by sqlite3 .import into a plain table in one
#      transaction.  CPU is user+sys (GNU time), curl+jq+sqlite3 summed;
#      each side is the median of 3 runs (BENCH_RUNS: more on a busy machine).
#   c. peak RSS at N: the larger of a first run's and an unchanged run's
#      (medians), and the curve of first runs at 1k, 10k and 100k
#      reservations.  "100k" is 99,990: Stays' 5,000-page limit
#      (STAYS_MAX_PAGES) stops a run that would need a 5,001st page, and
#      100,000 in pages of 20 needs an empty one.  That point takes about
#      five minutes here (the fake scans and sorts every item for each
#      page), so it is opt-in: BENCH_100K=1.
#   d. idle pin-runner wall time / one sqlite3 query on the same database
#      (the due check by hand), median of 11 each
#   e. TCP connections per run, token requests per pin-runner run and Tuya
#      requests per PIN, from the fake's request log
# The client runs as cron runs it, without -v (the -v lines of 50,000
# actions cost a tenth of a first run).  Numbers, not assertions: nothing here is part of make check.  The machine
# may be busy; CPU time is what is compared, never wall time, except for
# (d), which is about start-up and is a median of 11.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
N=${BENCH_RESERVATIONS:-10000}
runs=${BENCH_RUNS:-3}
d=$(mktemp -d "${TMPDIR:-/tmp}/stays-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$d"' EXIT

for tool in /usr/bin/time curl jq sqlite3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "bench: needs $tool (apt-get install -y time curl jq sqlite3)" >&2
		exit 1
	fi
done

# gen N FILE: N booked reservations and 200 canceled ones over 100 listings
gen() {
	awk -v n="$1" 'BEGIN {
		printf "["
		for (i = 0; i < n + 200; i++) {
			d = i % 300; m = 12 + int(d / 27); day = 1 + d % 27
			y = 2026 + int((m - 1) / 12); m = (m - 1) % 12 + 1
			printf "%s{\"_id\":\"%024x\",\"id\":\"B%06d\",\"creationDate\":\"2026-11-01\",", (i ? ",\n" : ""), i + 1, i
			printf "\"checkInDate\":\"%04d-%02d-%02d\",\"checkInTime\":\"15:00\",", y, m, day
			printf "\"checkOutDate\":\"%04d-%02d-%02d\",\"checkOutTime\":\"11:00\",", y, m, day + 1
			printf "\"_idlisting\":\"L%03d\",\"type\":\"%s\",\"guests\":2,", i % 100, i < n ? "booked" : "canceled"
			printf "\"price\":{\"currency\":\"BRL\",\"_f_expected\":900,\"_f_total\":1020.5}}"
		}
		printf "]\n"
	}' > "$2.tmp"
	mv "$2.tmp" "$2"        # a new inode: the fake re-reads it
}

awk 'BEGIN {
	printf "{\"client_id\":\"fake4client6id8xyzw12\",\"secret\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"token_ttl\":7200,\"t_skew_ms\":300000,\"devices\":["
	for (i = 0; i < 100; i++)
		printf "%s{\"id\":\"dev%03d\",\"name\":\"Door %d\",\"pin_length\":7,\"online\":true,\"category\":\"ms\"}", (i ? "," : ""), i, i
	printf "]}\n"
}' > "$d/tuya.json"
gen "$N" "$d/stays.json"

"$build/fakeapi" --port-file "$d/port" --log "$d/fake.log" --stays-data "$d/stays.json" \
	--tuya-data "$d/tuya.json" 2>"$d/fake.err" &
pid=$!
while [ ! -s "$d/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$d/port")"

conf() {	# conf NAME: $d/NAME.conf for the database $d/NAME.db
	cat > "$d/$1.conf" <<EOC
[database]
path = $d/$1.db
[stays]
url = $url
client_id = fake-stays-id
client_secret = fake-stays-secret
max_removals = 1000000
[tuya]
url = $url
client_id = fake4client6id8xyzw12
client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0
EOC
	chmod 600 "$d/$1.conf"
}

# A database with the 100 locks and nothing else, copied for each first run.
conf tpl
i=0
while [ $i -lt 100 ]; do
	"$build/stays-reconcile" -c "$d/tpl.conf" locks add --no-check \
		"$(printf 'L%03d' $i)" "$(printf 'dev%03d' $i)" >/dev/null
	i=$((i + 1))
done
sqlite3 "$d/tpl.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
fresh() {	# fresh NAME: a copy of the template
	rm -f "$d/$1.db" "$d/$1.db-wal" "$d/$1.db-shm"
	cp "$d/tpl.db" "$d/$1.db"
	conf "$1"
}

# timed FILE command...: run it, append "cpu rss" to FILE, output in $d/out
timed() {
	f=$1
	shift
	/usr/bin/time -f "%U %S %M" -o "$d/time" "$@" > "$d/out" 2>&1 || {
		cat "$d/out" >&2
		echo "bench: failed: $*" >&2
		exit 1
	}
	awk '{ print $1 + $2, $3 }' "$d/time" >> "$f"
}
upto() {	# upto N: 1 to N, one a line
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) print i }'
}
median() {	# median FILE [COLUMN]: the median of a column of numbers
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n |
		awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
loglines() { wc -l < "$d/fake.log" | tr -d ' '; }
# the log since line $1: requests, distinct connections, token requests
since() { tail -n +"$(($1 + 1))" "$d/fake.log"; }

now=2026-12-01T12:00:00Z
later=2026-12-01T12:30:00Z
echo "bench: $N reservations (+200 canceled), 100 listings, 100 locks; medians of $runs (CPU), 11 (idle wall)"

# a: first runs on copies of the template; the first one's log gives the
# floor its URLs
: > "$d/first"
for k in $(upto $runs); do
	fresh r$k
	l0=$(loglines)
	timed "$d/first" "$build/stays-reconcile" -c "$d/r$k.conf" --now $now
	if [ $k -eq 1 ]; then since "$l0" > "$d/first.log"; fi
done
conns_first=$(awk '{ print $1 }' "$d/first.log" | sort -u | wc -l | tr -d ' ')
reqs_first=$(wc -l < "$d/first.log" | tr -d ' ')
guest_gets=$(grep -vc 'booking/reservations?' "$d/first.log" || true)
grep ' GET /external/v1/booking/reservations?' "$d/first.log" |
	awk -v u="$url" '{ printf "url = \"%s%s\"\n", u, $3 }' > "$d/urls"
pages=$(wc -l < "$d/urls" | tr -d ' ')

# the floor as many times: one curl for all pages, jq, sqlite3 .import
: > "$d/floor"
for k in $(upto $runs); do
	rm -f "$d/floor.db"
	: > "$d/f1"
	/usr/bin/time -f "%U %S" -o "$d/t1" curl -sS --fail -u fake-stays-id:fake-stays-secret \
		-K "$d/urls" > "$d/pages.json"
	/usr/bin/time -f "%U %S" -o "$d/t2" jq -r '.[] | [._id, .id, ._idlisting, .type,
		.checkInDate, .checkInTime, .checkOutDate, .checkOutTime, .guests,
		.price._f_total] | @csv' "$d/pages.json" > "$d/pages.csv"
	/usr/bin/time -f "%U %S" -o "$d/t3" sqlite3 "$d/floor.db" <<EOS
CREATE TABLE r (_id, id, listing, type, checkin, checkin_time, checkout, checkout_time, guests, total);
BEGIN;
.import --csv $d/pages.csv r
COMMIT;
EOS
	cat "$d/t1" "$d/t2" "$d/t3" | awk '{ s += $1 + $2 } END { print s }' >> "$d/floor"
done
floor_rows=$(sqlite3 "$d/floor.db" 'SELECT count(*) FROM r')

# b: runs with nothing changed
: > "$d/same"
l0=$(loglines)
for k in $(upto $runs); do
	timed "$d/same" "$build/stays-reconcile" -c "$d/r1.conf" --now $later
done
reqs_same=$(($(since "$l0" | wc -l) / runs))
rows=$(sqlite3 "$d/r1.db" "SELECT (SELECT count(*) FROM reservations) || ' reservations, ' || (SELECT count(*) FROM pin_jobs) || ' jobs'")

# c: the RSS curve (one first run at each size; N's is the median above)
rss_n=$(median "$d/first" 2)
curve=""
for size in 1000 10000 99990; do
	if [ $size -eq "$N" ]; then
		curve="$curve $size:$rss_n"
		continue
	fi
	if [ $size -eq 99990 ] && [ -z "${BENCH_100K:-}" ]; then
		curve="$curve 99990:(BENCH_100K=1)"
		continue
	fi
	gen $size "$d/stays.json"
	fresh c$size
	: > "$d/c"
	timed "$d/c" "$build/stays-reconcile" -c "$d/c$size.conf" --now $now
	curve="$curve $size:$(median "$d/c" 2)"
	rm -f "$d/c$size.db"*
done
gen "$N" "$d/stays.json"

# d: idle pin-runner (nothing due before 16:00) against the due check by hand
idle=2026-12-01T12:35:00Z
idle_t=$(sqlite3 :memory: "SELECT strftime('%s', '$idle')")
ns() { date +%s%N; }     # GNU date: nanoseconds (the one non-POSIX tool here)
: > "$d/idle"
: > "$d/query"
k=0
while [ $k -lt 11 ]; do
	t0=$(ns)
	"$build/pin-runner" -c "$d/r1.conf" --now $idle > /dev/null
	t1=$(ns)
	sqlite3 "$d/r1.db" "SELECT count(*) FROM pin_jobs WHERE status = 'pending' AND due_at <= $idle_t" > /dev/null
	t2=$(ns)
	echo $(((t1 - t0) / 1000)) >> "$d/idle"
	echo $(((t2 - t1) / 1000)) >> "$d/query"
	k=$((k + 1))
done
idle_us=$(median "$d/idle")
query_us=$(median "$d/query")

# e: a pin-runner run with 20 PINs due
l0=$(loglines)
timed "$d/pins" "$build/pin-runner" -c "$d/r1.conf" -v --now 2026-12-01T16:00:00Z --max 20
since "$l0" > "$d/pins.log"
pins=$(sed -n 's/.*pin-runner: [0-9]* due, \([0-9]*\) done.*/\1/p' "$d/out")
tokens=$(grep -c ' /v1.0/token' "$d/pins.log" || true)
tuya=$(grep -vc ' /v1.0/token' "$d/pins.log" || true)
conns_pins=$(awk '{ print $1 }' "$d/pins.log" | sort -u | wc -l | tr -d ' ')

rss_same=$(median "$d/same" 2)
rss_peak=$(awk -v a="$rss_n" -v b="$rss_same" 'BEGIN { print (a > b ? a : b) }')
cpu_first=$(median "$d/first")
cpu_same=$(median "$d/same")
cpu_floor=$(median "$d/floor")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "stored:     $rows after the first run"
echo "floor:      $pages pages, $floor_rows rows; CPU $cpu_floor s (curl+jq+sqlite3)"
echo "requests:   first run $reqs_first ($pages pages, $guest_gets other: guest look-ups), unchanged run $reqs_same"
echo "pin-runner: $pins PINs; per PIN a ticket, a create and a confirming GET"
echo
printf '| %-46s | %-30s | %-22s |\n' figure now goal
printf '| %-46s | %-30s | %-22s |\n' --- --- ---
printf '| %-46s | %-30s | %-22s |\n' "client CPU, first run / floor" \
	"$(ratio "$cpu_first" "$cpu_floor") ($cpu_first s / $cpu_floor s)" "<= 0.5"
printf '| %-46s | %-30s | %-22s |\n' "client CPU, run with nothing changed / floor" \
	"$(ratio "$cpu_same" "$cpu_floor") ($cpu_same s / $cpu_floor s)" "<= 0.3"
printf '| %-46s | %-30s | %-22s |\n' "peak RSS at $N reservations (the larger run)" \
	"$(mib "$rss_peak") (first $(mib "$rss_n"), unchanged $(mib "$rss_same"))" "<= 16 MiB"
printf '| %-46s | %-30s | %-22s |\n' "peak RSS curve, first runs (reservations:KiB)" "${curve# }" "flat 10k to 100k"
printf '| %-46s | %-30s | %-22s |\n' "idle pin-runner wall / one sqlite3 query" \
	"$(ratio "$idle_us" "$query_us") ($idle_us us / $query_us us)" "<= 1.5"
printf '| %-46s | %-30s | %-22s |\n' "TCP conns per run / token req. / Tuya req. per PIN" \
	"$conns_first / $tokens / $(ratio "$tuya" "$pins") ($pins PINs, $conns_pins conn)" "1 / 1 / 2.0 (unchanged)"
