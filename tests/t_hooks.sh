#!/bin/sh
# t_hooks.sh - the example on_pin hooks of contrib/hooks: pin-to-file (the
# guest's message in a 0600 file per reservation, a section per lock,
# idempotent) and pin-to-url (the payload POSTed unchanged to the fake's
# hook listener, /_fake/hook), their failure exits, that neither ever prints
# the PIN, and pin-to-file run by pin-runner itself.
. "$(dirname "$0")/lib.sh"

FILE_HOOK=$TOP/contrib/hooks/pin-to-file
URL_HOOK=$TOP/contrib/hooks/pin-to-url
PAYLOAD=$(jq -c . "$TOP/tests/fixtures/hook-payload.json")
PIN=4821937
PIN2=5550123
MSG=$T/messages

for h in "$FILE_HOOK" "$URL_HOOK"; do
	[ -x "$h" ] || fail "$h is not executable"
	head -n 1 "$h" | grep -qx '#!/bin/sh' || fail "$h: not #!/bin/sh"
	dash -n "$h" || fail "$h: dash -n"
	if command -v checkbashisms >/dev/null 2>&1; then
		checkbashisms "$h" || fail "$h: checkbashisms"
	fi
	if command -v shellcheck >/dev/null 2>&1; then
		shellcheck -s sh "$h" || fail "$h: shellcheck"
	fi
done
ok "hooks: #!/bin/sh, dash -n, checkbashisms and shellcheck (when installed)"

# hook FILE|URL EXPECTED-EXIT JSON [VAR=value...]: run a hook as pin-runner
# does (no shell, the JSON as one line on stdin); checks the exit and that
# the PINs appear neither on stdout nor on stderr.
hook() {
	which=$1 want=$2 json=$3
	shift 3
	case "$which" in FILE) h=$FILE_HOOK ;; *) h=$URL_HOOK ;; esac
	set +e
	printf '%s\n' "$json" | env PIN_HOOK_DIR="$MSG" "$@" "$h" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] ||
		fail "$which hook exited $got, expected $want: $(cat "$T/out" "$T/err")"
	! grep -q "$PIN\|$PIN2" "$T/out" "$T/err" || fail "$which hook printed a PIN"
}
# variant JQ-FILTER: the example payload changed by FILTER, one line.
variant() {
	printf '%s\n' "$PAYLOAD" | jq -c "$1"
}
mode() {
	stat -c %a "$1"
}

# ---- pin-to-file ------------------------------------------------------------

hook FILE 0 "$PAYLOAD"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "pin-to-file printed: $(cat "$T/out" "$T/err")"
cat > "$T/want" <<EOF
Hello Maria Silva,

Here is how to get into Copacabana 302 (reservation RV02J).

Copacabana 302 front door
  PIN: $PIN
  valid from 2026-12-01 14:00 until 2026-12-04 12:00 (America/Sao_Paulo time)

Check-in from 2026-12-01 15:00, check-out by 2026-12-04 11:00 (America/Sao_Paulo time).

Have a good stay!
EOF
diff -u "$T/want" "$MSG/RV02J.txt" || fail "message"
[ "$(mode "$MSG/RV02J.txt")" = 600 ] && [ "$(mode "$MSG/.RV02J.json")" = 600 ] &&
	[ "$(mode "$MSG")" = 700 ] || fail "modes: $(ls -la "$MSG")"
[ "$(find "$MSG" -name '.pin-to-file.*' | wc -l)" = 0 ] || fail "temporary file left: $(ls -la "$MSG")"
ok "pin-to-file: the message (local times, zone, listing), 0600 files in a 0700 folder, silent"

cp "$MSG/RV02J.txt" "$T/first"
hook FILE 0 "$PAYLOAD"
cmp -s "$T/first" "$MSG/RV02J.txt" || fail "the same PIN twice changed the file: $(cat "$MSG/RV02J.txt")"
ok "pin-to-file: the same payload twice gives the same file"

# A second lock of the same reservation: one file, both doors, by name.
hook FILE 0 "$(variant ".deviceId = \"bf0123456789abcdefxyz2\" | .lockName = \"Copacabana 302 building gate\" |
	.lock = {id: .deviceId, name: .lockName} | .pin = \"$PIN2\" | .validFromLocal = \"2026-12-01T13:00\"")"
grep -A2 -x 'Copacabana 302 building gate' "$MSG/RV02J.txt" > "$T/gate" || fail "second lock missing: $(cat "$MSG/RV02J.txt")"
printf '%s\n' "Copacabana 302 building gate" "  PIN: $PIN2" \
	"  valid from 2026-12-01 13:00 until 2026-12-04 12:00 (America/Sao_Paulo time)" | diff -u - "$T/gate" ||
	fail "second lock's section"
grep -A1 -x 'Copacabana 302 front door' "$MSG/RV02J.txt" | grep -qx "  PIN: $PIN" || fail "first lock lost: $(cat "$MSG/RV02J.txt")"
[ "$(grep -n '^Copacabana' "$MSG/RV02J.txt" | cut -d: -f2 | tr '\n' '|')" = \
	"Copacabana 302 building gate|Copacabana 302 front door|" ] || fail "doors not sorted by name"
[ "$(grep -c '^Hello' "$MSG/RV02J.txt")" = 1 ] || fail "two greetings"
cp "$MSG/RV02J.txt" "$T/two"
hook FILE 0 "$PAYLOAD"
cmp -s "$T/two" "$MSG/RV02J.txt" || fail "first lock sent again changed the file"
# a new PIN for the gate replaces its section, the front door stays
hook FILE 0 "$(variant '.deviceId = "bf0123456789abcdefxyz2" | .lockName = "Copacabana 302 building gate" | .pin = "7778889"')"
[ "$(grep -c "PIN: $PIN2" "$MSG/RV02J.txt")" = 0 ] && grep -q 'PIN: 7778889' "$MSG/RV02J.txt" &&
	grep -q "PIN: $PIN" "$MSG/RV02J.txt" || fail "new PIN of the gate: $(cat "$MSG/RV02J.txt")"
[ "$(ls "$MSG" | wc -l)" = 1 ] || fail "one file per reservation: $(ls -la "$MSG")"
ok "pin-to-file: a second lock adds a section, the first kept; a new PIN replaces its own section"

# The unknowns are null: no guest, no lock name, no listing, no local times.
hook FILE 0 "$(variant '.reservationCode = "NUL01" | .guest = {name: null, phone: null, email: null, language: null}')"
sed -n 1p "$MSG/NUL01.txt" | grep -qx 'Hello,' || fail "null guest name: $(cat "$MSG/NUL01.txt")"
hook FILE 0 "$(variant '.reservationCode = "NUL02" | .guest = null | .lockName = null | .listing = null')"
sed -n 1p "$MSG/NUL02.txt" | grep -qx 'Hello,' &&
	grep -qx 'Here is how to get in (reservation NUL02).' "$MSG/NUL02.txt" &&
	grep -qx 'Copacabana 302 front door' "$MSG/NUL02.txt" || fail "null guest, lockName, listing: $(cat "$MSG/NUL02.txt")"
hook FILE 0 "$(variant '.reservationCode = "NUL03" | .lockName = null | .lock = null | .validFromLocal = null |
	.validUntilLocal = null | .checkInLocal = null | .checkOutLocal = null | .timezone = null')"
grep -A2 -x 'bf0123456789abcdefxyzq' "$MSG/NUL03.txt" | tail -n 1 |
	grep -qx '  valid from 2026-12-01 17:00 until 2026-12-04 15:00 (UTC)' &&
	! grep -q '^Check-in' "$MSG/NUL03.txt" || fail "no lock name, no local times: $(cat "$MSG/NUL03.txt")"
ok "pin-to-file: null guest (\"Hello,\"), lock name (the device id), listing, local times (UTC)"

# The payload as pin-runner sends it today (fewer keys) is enough.
hook FILE 0 "$(variant '{reservationId, reservationCode: "OLD01", listingId, deviceId, lockName, pin, validFrom, validUntil, guests}')"
grep -qx "  PIN: $PIN" "$MSG/OLD01.txt" || fail "older payload: $(cat "$MSG/OLD01.txt")"
ok "pin-to-file: a payload without the newer keys"

# Failures: exit codes, a message on stderr, no file written.
for bad in 'not json' '[1]' '{"reservationCode":"X1","deviceId":"d"}' \
	"$(variant '.reservationCode = "../../etc/x"')" "$(variant '.pin = ""')" "$(variant '.deviceId = 7')"; do
	hook FILE 65 "$bad"
	grep -q '^pin-to-file: ' "$T/err" || fail "no message for $bad"
done
[ ! -e "$T/etc" ] && [ "$(ls "$MSG" | wc -l)" = 5 ] || fail "a bad payload wrote something: $(ls -la "$MSG")"
echo x > "$T/plain"
hook FILE 73 "$PAYLOAD" PIN_HOOK_DIR="$T/plain/sub"
grep -q "cannot create '$T/plain/sub'" "$T/err" || fail "unwritable folder: $(cat "$T/err")"
printf '{broken' > "$MSG/.BAD01.json"
hook FILE 65 "$(variant '.reservationCode = "BAD01"')"
grep -q "cannot read '$MSG/.BAD01.json'" "$T/err" && [ ! -e "$MSG/BAD01.txt" ] || fail "broken state: $(cat "$T/err")"
# no jq on PATH: every tool the hook uses, but jq
mkdir "$T/nojq"
for tool in cat mktemp mv chmod rm mkdir env; do
	ln -s "$(command -v $tool)" "$T/nojq/$tool"
done
hook FILE 69 "$PAYLOAD" PATH="$T/nojq"
grep -qx 'pin-to-file: jq is needed and is not on PATH (install the package jq)' "$T/err" || fail "no jq: $(cat "$T/err")"
ok "pin-to-file: 65 bad input or state, 73 unwritable folder, 69 without jq; nothing written"

# ---- pin-to-url -------------------------------------------------------------

start_fake
hook URL 0 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "pin-to-url printed: $(cat "$T/out" "$T/err")"
curl -sf "$URL/_fake/hook" > "$T/got" || fail "GET /_fake/hook"
[ "$(jq length "$T/got")" = 1 ] || fail "hook bodies: $(cat "$T/got")"
jq -S '.[0]' "$T/got" > "$T/got0"
jq -S . "$TOP/tests/fixtures/hook-payload.json" | diff -u - "$T/got0" || fail "body is not the payload"
grep -q "POST /_fake/hook 200" "$T/requests.log" || fail "not logged as a POST: $(cat "$T/requests.log")"
ok "pin-to-url: the payload POSTed unchanged, silent"

# PIN_HOOK_AUTH: sent as the Authorization header, never in curl's arguments.
mkdir "$T/wrap"
cat > "$T/wrap/curl" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$T/curl.argv"
exec $(command -v curl) --trace-ascii "$T/curl.trace" "\$@"
EOF
chmod 755 "$T/wrap/curl"
hook URL 0 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook" PIN_HOOK_AUTH="Bearer fake-hook-token-0123" PATH="$T/wrap:$PATH"
! grep -q fake-hook-token "$T/curl.argv" || fail "the secret is in curl's arguments: $(cat "$T/curl.argv")"
grep -q 'Authorization: Bearer fake-hook-token-0123' "$T/curl.trace" || fail "no Authorization header sent"
grep -q 'Content-Type: application/json' "$T/curl.trace" || fail "no Content-Type header sent"
hook URL 78 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook" PIN_HOOK_AUTH="Bearer x
X-Other: y"
grep -q 'PIN_HOOK_AUTH must be one line' "$T/err" || fail "two-line auth: $(cat "$T/err")"
ok "pin-to-url: PIN_HOOK_AUTH as Authorization, not in the process list; one line only"

# Failures: the listener answers 500, a redirect, or is not there at all.
curl -sf -X POST "$URL/_fake/reset" > /dev/null
fault '{"service":"hook","status":500}'
hook URL 75 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook"
grep -q "^pin-to-url: POST to '$URL/_fake/hook' failed (curl exit 22, HTTP 500)$" "$T/err" || fail "500: $(cat "$T/err")"
fault '{"service":"hook","status":302}'
hook URL 75 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook"
grep -q "answered HTTP 302, not 2xx" "$T/err" || fail "302: $(cat "$T/err")"
fault '{"service":"hook","delay_ms":100,"status":503}'
hook URL 75 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook"
[ "$(curl -sf "$URL/_fake/hook")" = '[]' ] || fail "a failed POST was kept"
hook URL 75 "$PAYLOAD" PIN_HOOK_URL="http://127.0.0.1:1/hook"
grep -q "failed (curl exit 7, HTTP 000)" "$T/err" || fail "closed port: $(cat "$T/err")"
hook URL 78 "$PAYLOAD"
grep -qx 'pin-to-url: PIN_HOOK_URL is not set (the URL to POST the PIN'"'"'s JSON to)' "$T/err" || fail "unset URL: $(cat "$T/err")"
hook URL 69 "$PAYLOAD" PIN_HOOK_URL="$URL/_fake/hook" PATH="$T/nojq"
ok "pin-to-url: 75 on 500, 302, 503 and a closed port; 78 without PIN_HOOK_URL; 69 without curl"

# ---- pin-runner runs pin-to-file with its environment ---------------------

L1=63dd7e20333d8b60be510f9c
D1=bf0123456789abcdefxyzq
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"
stop_fake
stays_data "$(resv c650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12 booked 3)"
start_fake
write_config
printf '[hooks]\non_pin = %s\n' "$FILE_HOOK" >> "$T/stays.conf"
expect 0 sr locks add --no-check $L1 $D1 --name "Front door"
expect 0 sr --now $NOW
export PIN_HOOK_DIR="$T/pr"
expect 0 pr --now 2026-12-10T18:00:00Z
unset PIN_HOOK_DIR
pin=$(sql "SELECT pin FROM credentials WHERE device_id = '$D1'")
[ -n "$pin" ] && grep -qx "  PIN: $pin" "$T/pr/RV001.txt" && grep -qx 'Front door' "$T/pr/RV001.txt" ||
	fail "pin-runner's hook: $(cat "$T/pr/RV001.txt" 2>&1)"
! grep -q "$pin" "$T/out" "$T/err" || fail "pin-runner's output has the PIN"
[ "$(sql "SELECT notified_at IS NOT NULL FROM credentials WHERE device_id = '$D1'")" = 1 ] ||
	fail "hook not recorded as done: $(dump)"
ok "pin-runner: runs pin-to-file with PIN_HOOK_DIR from its environment"
