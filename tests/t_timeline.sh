#!/bin/sh
# t_timeline.sh - stays-reconcile timeline end to end: the real programs
# against the fake Stays + Tuya server, then the timeline as text (80
# columns), --json and --html: read-only and offline, no PIN anywhere,
# the flags (overlap, unmapped, unconfirmed, failed) and the exit status,
# --lock/--listing/--from/--days, bad command lines, the page well-formed
# XML, self-contained, escaped, written atomically with mode 0644; and the
# demo's page rendered by headless Chromium (size and not blank).
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
L2=63dd7e20333d8b60be510fa0
D1=bf0123456789abcdefxyzq
D2=bf0123456789abcdefxyz2
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
# On L1: RV001 2026-12-10 15:00 -> 12-12 11:00, RV002 from 12-12 10:00: one
# hour of overlap.  RV003 on L2, which has no lock.
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)" \
	"$(resv c650f1a2c3d4e5f6a7b80002 RV002 $L1 2026-12-12 2026-12-14 booked 2 10:00 11:00)" \
	"$(resv c650f1a2c3d4e5f6a7b80003 RV003 $L2 2026-12-11 2026-12-13)"
start_fake
write_config

# No database yet: nothing to show, nothing created, exit 0.
expect 0 sr --now $NOW timeline
grep -q "^no lock is mapped and no stay needs one$" "$T/out" || fail "empty: $(cat "$T/out")"
[ ! -e "$T/stays.db" ] || fail "timeline created the database"
expect 0 sr --now $NOW timeline --json
jq -e '.locks == [] and .flags == [] and .days == 14 and .timezone == "America/Sao_Paulo"' "$T/out" >/dev/null ||
	fail "empty json: $(cat "$T/out")"
ok "no database: an empty timeline, exit 0, no database created"

expect 0 sr locks add --no-check $L1 $D1 --name 'Front <door> & "co"'
expect 0 sr locks add --no-check $L1 $D2 --timezone America/New_York
expect 0 sr --now $NOW
expect 0 pr --now 2026-12-10T18:00:00Z
[ "$(sql "SELECT count(*) FROM credentials WHERE state = 'active'")" = 2 ] || fail "PINs not made: $(dump)"

now=2026-12-10T18:05:00Z
dump > "$T/before"
: > "$T/requests.log"
expect 1 sr --now $now timeline --from 2026-12-09 --days 7
dump > "$T/after"
diff -u "$T/before" "$T/after" || fail "timeline changed the database"
[ ! -s "$T/requests.log" ] || fail "timeline talked to the network: $(cat "$T/requests.log")"
cat "$T/out"
awk 'length($0) > 80 { print; bad = 1 } END { exit bad }' "$T/out" || fail "a line longer than 80 columns"
grep -q "^access timeline 2026-12-09 .. 2026-12-15, 7 days in America/Sao_Paulo$" "$T/out" || fail "header"
grep -q "^  Front <door> & \"co\" ($D1), America/Sao_Paulo$" "$T/out" || fail "lane D1"
grep -q "^  $D2, America/New_York$" "$T/out" || fail "lane D2 in its zone"
grep -Eq "^    RV001 !  12-10 15:00  12-12 11:00  active       12-10 13:00  12-13 11:00$" "$T/out" ||
	fail "RV001 on D1"
# A lock's own zone is the zone of its stays' times (as run plans them).
[ "$(grep -c "^    RV001 !  12-10 15:00  12-12 11:00  active       12-10 13:00  12-13 11:00$" "$T/out")" = 2 ] ||
	fail "RV001 on D1 and D2"
grep -Eq "^    RV002 !  12-12 10:00  12-14 11:00  planned      12-12 08:00  12-15 11:00$" "$T/out" ||
	fail "RV002 on D1"
grep -q "^  no lock: these stays get no PIN$" "$T/out" || fail "unmapped lane"
grep -Eq "^    RV003 !  12-11 15:00  12-13 11:00  none  " "$T/out" || fail "RV003 unmapped"
grep -q "^needs a person (3):$" "$T/out" || fail "flag count"
grep -q "^  unmapped    no lock: RV003 (12-11 15:00 to 12-13 11:00) is on a listing with$" "$T/out" ||
	fail "unmapped flag"
grep -q "^  overlap     Front <door> & \"co\": the PIN windows of RV001 and RV002 overlap$" "$T/out" ||
	fail "overlap flag on D1"
grep -q "^  overlap     $D2: the PIN windows of RV001 and RV002 overlap$" "$T/out" ||
	fail "overlap flag on D2"
for pin in $(sql "SELECT pin FROM credentials"); do
	! grep -q "$pin" "$T/out" || fail "a PIN in the text"
done
ok "text: lanes per lock in their zones, a line per stay, the flags, read-only and offline, no PIN"

expect 1 sr --now $now timeline --from 2026-12-09 --days 7 --json
jq -e --arg d1 $D1 --arg d2 $D2 '.from == "2026-12-09T03:00:00Z" and .until == "2026-12-16T03:00:00Z" and
	.fromLocal == "2026-12-09T00:00" and .days == 7 and .now == "2026-12-10T18:05:00Z" and
	(.locks | length) == 3 and
	(.locks[] | select(.deviceId == $d1) | .lockName == "Front <door> & \"co\"" and .mapped and
	 .timezone == "America/Sao_Paulo" and (.stays | map(.reservationCode)) == ["RV001", "RV002"] and
	 (.stays[0] | .state == "active" and .validFrom == "2026-12-10T18:00:00Z" and
	  .validFromLocal == "2026-12-10T15:00" and .generateStatus == "done" and
	  .revokeAt == "2026-12-13T14:00:00Z" and .revokeStatus == "pending" and .flags == ["overlap"])) and
	(.locks[] | select(.deviceId == $d2) | .timezone == "America/New_York" and
	 .stays[0].validFrom == "2026-12-10T20:00:00Z" and .stays[0].validFromLocal == "2026-12-10T15:00") and
	(.locks[] | select(.deviceId == null) | .listingId == "63dd7e20333d8b60be510fa0" and
	 .stays[0].reservationCode == "RV003" and .stays[0].state == "none") and
	([.flags[].kind] | sort) == ["overlap", "overlap", "unmapped"]' "$T/out" >/dev/null ||
	fail "json: $(cat "$T/out")"
jq -e '[.flags[] | select(.kind == "overlap")][0] | .at == "2026-12-12T13:00:00Z" and
	.until == "2026-12-12T14:00:00Z" and .other == "RV001" and .reservationCode == "RV002"' "$T/out" >/dev/null ||
	fail "overlap json: $(cat "$T/out")"
! jq -r '.. | strings' "$T/out" | grep -qx "$(sql "SELECT pin FROM credentials LIMIT 1")" || fail "a PIN in the JSON"
ok "--json: camelCase, UTC with Z and the local wall times, flags"

# A PIN not confirmed on its lock, and a failed job (what pin-runner would
# leave after an offline lock): both need a person.
sql "UPDATE credentials SET state = 'unconfirmed' WHERE device_id = '$D2'"
sql "UPDATE pin_jobs SET status = 'failed', attempts = 10, last_error = 'lock offline <1106>'
	WHERE action = 'generate' AND reservation_id = 'c650f1a2c3d4e5f6a7b80002' AND device_id = '$D1'"
expect 1 sr --now $now timeline --lock $D2 --json
jq -e --arg d2 $D2 '(.locks | length) == 1 and .locks[0].deviceId == $d2 and
	.locks[0].stays[0].state == "unconfirmed" and
	([.flags[].kind] | sort) == ["overlap", "unconfirmed"] and
	all(.flags[]; .deviceId == $d2)' "$T/out" >/dev/null || fail "--lock unconfirmed: $(cat "$T/out")"
expect 1 sr --now $now timeline --lock $D1
grep -Eq "^    RV002 !  12-12 10:00  12-14 11:00  failed " "$T/out" || fail "failed state: $(cat "$T/out")"
grep -q "^  failed      Front <door> & \"co\": the generate job of RV002 failed after 10$" "$T/out" ||
	fail "failed flag: $(cat "$T/out")"
grep -q "^                attempts: lock offline <1106>$" "$T/out" || fail "failed flag wrapped: $(cat "$T/out")"
expect 1 sr --now $now timeline --listing $L2
[ "$(grep -c '^    RV' "$T/out")" = 1 ] && grep -q "RV003" "$T/out" || fail "--listing: $(cat "$T/out")"
ok "flags: unconfirmed PIN, failed job; --lock and --listing"

# A PIN still on a lock shows whatever the range; once gone, a quiet
# range has nothing in it and nothing flagged (0).
sql "UPDATE pin_jobs SET status = 'done' WHERE status = 'failed'"
expect 0 sr --now 2026-12-01T12:00:00Z timeline --from 2027-02-01 --days 3
[ "$(grep -c "^    RV001    12-10 15:00  12-12 11:00  unconfirmed\|^    RV001    12-10 15:00  12-12 11:00  active" "$T/out")" = 2 ] ||
	fail "a live PIN outside the range: $(cat "$T/out")"
sql "UPDATE credentials SET state = 'revoked', pin = NULL"
expect 0 sr --now 2026-12-01T12:00:00Z timeline --from 2027-02-01 --days 3
grep -q "^nothing needs a person$" "$T/out" || fail "nothing flagged: $(cat "$T/out")"
grep -q "^    no stay in the range$" "$T/out" || fail "empty lane: $(cat "$T/out")"
ok "a quiet range: exit 0"

expect 64 sr timeline --days 0
expect 64 sr timeline --days 93
expect 64 sr timeline --from 2026-13-01
grep -q "bad date '2026-13-01'" "$T/err" || fail "bad date: $(cat "$T/err")"
expect 64 sr timeline --json --html "$T/x.html"
expect 64 sr timeline --lock $D1 --listing $L1
expect 64 sr timeline --lock 'bad/id'
expect 64 sr timeline extra
ok "bad command lines: 64"

# --html: one well-formed, self-contained page, mode 0644, atomic.
mkdir "$T/www"
expect 1 sr --now $now timeline --from 2026-12-09 --days 7 --html "$T/www/doors.html"
[ ! -s "$T/out" ] || fail "--html printed: $(cat "$T/out")"
[ "$(ls -A "$T/www")" = doors.html ] || fail "left behind: $(ls -A "$T/www")"
[ "$(stat -c %a "$T/www/doors.html")" = 644 ] || fail "mode $(stat -c %a "$T/www/doors.html")"
xmllint --noout "$T/www/doors.html" || fail "the page is not well-formed"
! grep -qi '<script\|<link\|<img\|<iframe\|src=\|href=\|@import' "$T/www/doors.html" || fail "not self-contained"
[ -z "$(grep -o 'https\?://[^"]*' "$T/www/doors.html" | grep -v '^http://www.w3.org/')" ] ||
	fail "an external resource: $(grep -o 'https\?://[^"]*' "$T/www/doors.html")"
grep -o 'url([^)]*)' "$T/www/doors.html" | grep -qv 'url(#' && fail "an url() outside the page"
grep -q 'Front &lt;door&gt; &amp; &quot;co&quot;' "$T/www/doors.html" || fail "lock name not escaped"
! grep -q 'Front <door>' "$T/www/doors.html" || fail "lock name raw in the page"
grep -q '<h2>Needs a person ([0-9]*)</h2>' "$T/www/doors.html" || fail "flag list"
grep -q '<li><span class="sw" style="[^"]*"></span><span class="state">none</span><span class="kind">unmapped</span><span>no lock: RV003 ' \
	"$T/www/doors.html" || fail "the unmapped flag in the list"
for s in planned creating unconfirmed active revoking revoked failed none; do
	grep -q "<text class=\"key\" x=\"[0-9.]*\" y=\"[0-9.]*\">$s</text>" "$T/www/doors.html" || fail "legend: $s"
done
for pin in $(sql "SELECT pin FROM credentials"); do
	! grep -q "$pin" "$T/www/doors.html" || fail "a PIN in the page"
done
ino=$(stat -c %i "$T/www/doors.html")
expect 1 sr -v --now $now timeline --html "$T/www/doors.html"
grep -q "^timeline written to '$T/www/doors.html' (3 locks, " "$T/out" || fail "-v: $(cat "$T/out")"
[ "$(stat -c %i "$T/www/doors.html")" != "$ino" ] || fail "rewritten in place, not renamed"
expect 73 sr --now $now timeline --html "$T/nosuchdir/doors.html"
grep -q "cannot write '$T/nosuchdir/doors.html'" "$T/err" || fail "bad dir: $(cat "$T/err")"
ok "--html: well-formed, self-contained, escaped, 0644, atomic; a folder that is not there: 73"

# The demo's page in a real browser.
DEMO_TIMELINE="$T/demo.html" sh "$TOP/tools/demo.sh" "$BIN" > "$T/demo.log" 2>&1 || fail "demo: $(tail "$T/demo.log")"
grep -q "the page: $T/demo.html" "$T/demo.log" || fail "the demo does not say where the page is"
xmllint --noout "$T/demo.html" || fail "the demo's page is not well-formed"
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || fail "no chromium to render the page: apt-get install chromium"
shot() { # shot HTML PNG
	"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
		--user-data-dir="$T/chromium" --screenshot="$2" --window-size=1240,520 "file://$1" \
		> "$T/chromium.log" 2>&1 || fail "chromium: $(cat "$T/chromium.log")"
}
shot "$T/demo.html" "$T/demo.png"
printf '<!DOCTYPE html>\n<html><body></body></html>\n' > "$T/blank.html"
shot "$T/blank.html" "$T/blank.png"
# The PNG header: "\211PNG", then IHDR's width and height, big-endian.
set -- $(od -An -tu1 -j16 -N8 "$T/demo.png")
[ $# = 8 ] && [ $(($1 << 24 | $2 << 16 | $3 << 8 | $4)) = 1240 ] &&
	[ $(($5 << 24 | $6 << 16 | $7 << 8 | $8)) = 520 ] || fail "screenshot size: $(od -An -tu1 -N24 "$T/demo.png")"
# Not blank: a page of bars, labels and patterns compresses far worse than an
# empty one (about 3 kB); the demo's is about 100 kB.
demo=$(stat -c %s "$T/demo.png") blank=$(stat -c %s "$T/blank.png")
[ "$demo" -gt 20000 ] && [ "$demo" -gt $((blank * 10)) ] || fail "the screenshot looks blank: $demo bytes, blank $blank"
ok "the demo's page in headless Chromium: 1240x520, not blank ($demo bytes, blank $blank)"
