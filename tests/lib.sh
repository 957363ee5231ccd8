# lib.sh - shared by the end-to-end tests (sourced, not run).
#
# Each test gets a fresh folder $T (removed by the trap), its own fake
# Stays/Tuya server on 127.0.0.1 (tests/fakeapi), a config file and a
# database in $T.  Programs run under $CHECK_WRAP (valgrind in
# `make valgrind`).  No test sleeps for time to pass: --now sets the clock.
set -eu
: "${BIN:?BIN must point at the build folder}" "${TOP:?TOP must point at the source tree}"
CHECK_WRAP=${CHECK_WRAP:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/stays-test.XXXXXX")
FAKE_PID=
NOW=2026-12-01T12:00:00Z
STAYS_USER=fake-stays-id
STAYS_PASS=fake-stays-secret

cleanup() {
	release_lock
	[ ! -d "$T" ] || bg_kill
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# hold_lock FILE: another process holds flock(FILE) until release_lock
# (a FIFO handshake, no polling).
HOLDER_PID=
hold_lock() {
	rm -f "$T/held" "$T/release"
	mkfifo "$T/held" "$T/release"
	flock "$1" sh -c "echo held > '$T/held'; cat '$T/release' > /dev/null" >/dev/null 2>&1 &
	HOLDER_PID=$!
	timeout 60 head -n 1 "$T/held" > /dev/null || fail "could not take the lock $1"
}

release_lock() {
	if [ -n "$HOLDER_PID" ]; then
		timeout 10 sh -c ": > '$T/release'" 2>/dev/null || kill "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
		HOLDER_PID=
	fi
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok - $*"
}

# start_fake [fakeapi options]: serve $T/stays.json (and $T/tuya.json if present).
start_fake() {
	[ -e "$T/stays.json" ] || echo '[]' > "$T/stays.json"
	set -- --port-file "$T/port" --log "$T/requests.log" --stays-data "$T/stays.json" "$@"
	[ -e "$T/tuya.json" ] && set -- "$@" --tuya-data "$T/tuya.json"
	"$BIN/fakeapi" "$@" 2>"$T/fakeapi.err" &
	FAKE_PID=$!
	i=0
	while [ ! -s "$T/port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "fakeapi did not start: $(cat "$T/fakeapi.err")"
		kill -0 "$FAKE_PID" 2>/dev/null || fail "fakeapi died: $(cat "$T/fakeapi.err")"
		sleep 0.05
	done
	PORT=$(cat "$T/port")
	URL="http://127.0.0.1:$PORT"
}

stop_fake() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=
	fi
	rm -f "$T/port"
}

# fault JSON: add a fault to the running fake server.
fault() {
	curl -sf -X POST --data "$1" "$URL/_fake/fault" >/dev/null || fail "cannot add fault $1"
}

reset_faults() {
	curl -sf -X POST "$URL/_fake/reset" >/dev/null || fail "cannot reset faults"
}

# write_config [extra INI lines appended to [stays]]
write_config() {
	cat > "$T/stays.conf" <<EOC
[database]
path = $T/stays.db
[schedule]
cron = */30 * * * *
[stays]
url = ${URL:-http://127.0.0.1:1}
client_id = $STAYS_USER
client_secret = $STAYS_PASS
timeout = ${TIMEOUT:-5}
retries = ${RETRIES:-2}
EOC
	for line in "$@"; do
		printf '%s\n' "$line" >> "$T/stays.conf"
	done
	cat >> "$T/stays.conf" <<EOC
[tuya]
url = ${URL:-http://127.0.0.1:1}
client_id = fake4client6id8xyzw12
client_secret = 0f1e2d3c4b5a69788796a5b4c3d2e1f0
EOC
	chmod 600 "$T/stays.conf"
}

sr() {
	$CHECK_WRAP "$BIN/stays-reconcile" -c "$T/stays.conf" "$@"
}

pr() {
	$CHECK_WRAP "$BIN/pin-runner" -c "$T/stays.conf" "$@"
}

# expect CODE command...: run it, capture stdout/stderr in $T/out and
# $T/err, and fail unless it exits with CODE.
expect() {
	want=$1
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		echo "--- stdout" >&2; cat "$T/out" >&2
		echo "--- stderr" >&2; cat "$T/err" >&2
		fail "'$*' exited $got, expected $want"
	fi
}

# resv ID CODE LISTING CHECKIN CHECKOUT [TYPE [GUESTS [INTIME OUTTIME]]]: one
# reservation in the Stays shape (stays-api.md §9.3).
resv() {
	printf '{"_id":"%s","id":"%s","creationDate":"2026-11-01","checkInDate":"%s","checkInTime":"%s","checkOutDate":"%s","checkOutTime":"%s","_idlisting":"%s","_idclient":"6650f1a0c3d4e5f6a7b8c9aa","type":"%s","guests":%s,"guestsDetails":{"adults":%s,"children":0,"infants":0},"price":{"currency":"BRL","_f_expected":900,"_f_total":1020.5},"partner":{"_id":"5d1b5c5ec62b271c78796473","name":"API airbnb"},"partnerCode":"HM%s"}' \
		"$1" "$2" "$4" "${8:-15:00}" "$5" "${9:-11:00}" "$3" "${6:-booked}" "${7:-2}" "${7:-2}" "$2"
}

# stays_data OBJECT...: write the fake's reservation list.
stays_data() {
	{
		printf '['
		sep=
		for o in "$@"; do
			printf '%s%s\n' "$sep" "$o"
			sep=,
		done
		printf ']\n'
	} > "$T/stays.json.tmp"
	mv "$T/stays.json.tmp" "$T/stays.json"
}

# sql QUERY: read the test database.
sql() {
	sqlite3 -batch -noheader "$T/stays.db" "$1"
}

# dump: the tables a run may change, for before/after comparisons.
dump() {
	sqlite3 -batch "$T/stays.db" \
		"SELECT * FROM reservations ORDER BY id; SELECT * FROM pin_jobs ORDER BY id; SELECT * FROM credentials ORDER BY id; SELECT * FROM locks ORDER BY device_id;"
}

# jqf FILE FILTER: a value from a JSON file, raw.
jqf() {
	jq -r "$2" "$1"
}

# ---- deterministic interleaving (no sleeps) -----------------------------

# hold JSON: park matching requests inside the fake until released (POST
# /_fake/hold: "service", "match" on "path?query", "method", "after",
# "times", "when": "before" the request is handled or "after", with its
# answer).
# The hold's id is left in $H.
hold() {
	H=$(curl -sf -X POST --data "$1" "$URL/_fake/hold" | jq -r .id) || fail "cannot add hold $1"
	[ -n "$H" ] && [ "$H" != null ] || fail "cannot add hold $1"
}

# hold_wait ID: block until hold ID has parked a request.
hold_wait() {
	curl -sf "$URL/_fake/hold/$1/wait?timeout_ms=60000" >/dev/null ||
		fail "no request reached hold $1"
}

# hold_release ID: let the requests parked by hold ID go on.
hold_release() {
	curl -sf -X POST "$URL/_fake/hold/$1/release" >/dev/null || fail "cannot release hold $1"
}

# pause_at STEP: the next pin-runner stops at STEP (see pinjobs.c) until
# pause_go; pause_wait blocks until it has stopped.  pause_off: no more.
pause_at() {
	rm -rf "$T/pause"
	mkdir "$T/pause"
	mkfifo "$T/pause/paused" "$T/pause/resume"
	export STAYS_PIN_PAUSE_AT="$1" STAYS_PIN_PAUSE_FIFO="$T/pause"
}
pause_off() {
	unset STAYS_PIN_PAUSE_AT STAYS_PIN_PAUSE_FIFO
}
pause_wait() {
	step=$(timeout "${PAUSE_TIMEOUT:-120}" head -n 1 "$T/pause/paused") || fail "pin-runner never reached its pause point"
	echo "# pin-runner paused at $step"
}
pause_go() {
	timeout "${PAUSE_TIMEOUT:-120}" sh -c ": > '$T/pause/resume'" || fail "pin-runner did not take the resume"
}

# bg_pr ARGS...: pin-runner in the background ($BG its pid), output in
# $T/bg.out and $T/bg.err; bg_wait CODE collects it.
bg_pr() {
	$CHECK_WRAP "$BIN/pin-runner" -c "${CONF:-$T/stays.conf}" "$@" >"$T/bg.out" 2>"$T/bg.err" &
	BG=$!
	echo $BG >> "$T/bg.pids"
}
bg_sr() {
	$CHECK_WRAP "$BIN/stays-reconcile" -c "${CONF:-$T/stays.conf}" "$@" >"$T/bg.out" 2>"$T/bg.err" &
	BG=$!
	echo $BG >> "$T/bg.pids"
}
# bg_kill: end every background run a failed case left behind.
bg_kill() {
	if [ -s "$T/bg.pids" ]; then
		while read -r pid; do
			kill -9 "$pid" 2>/dev/null || true
		done < "$T/bg.pids"
	fi
	: > "$T/bg.pids"
}
bg_wait() {
	set +e
	wait "$BG"
	got=$?
	set -e
	[ "$got" -eq "$1" ] || fail "background run exited $got, expected $1: $(cat "$T/bg.out" "$T/bg.err")"
}
