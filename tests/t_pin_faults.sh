#!/bin/sh
# t_pin_faults.sh - pin-runner against a misbehaving Tuya cloud and bad
# inputs (SPEC §2 exit codes, §5 P1-P7): rate limits and backoff, a lock that
# rejects the PIN length, wrong credentials, an expired token, an offline
# lock, 5xx and malformed answers, a job whose reservation is gone, a
# remapped listing, a second instance, and no secret in any output.
#
# Each case runs in a subshell on a fresh database (the fake cloud and its
# locks live on; every case has its own locks), so one failing case does not
# hide the others: the script reports every case and fails if any failed.
# After every pin-runner run the database must tell the truth about what is
# on each lock: its live credentials are compared with /_fake/tuya/state.
. "$(dirname "$0")/lib.sh"

SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0
WRONG_SECRET=9a8b7c6d5e4f30211203f4e5d6c7b8a9
ALL="$T/all_pr_output"		# every pin-runner stdout/stderr (case 11)
SECRETS="$T/secrets"		# tokens and PINs seen in the databases (case 11)
: > "$ALL"
: > "$SECRETS"

# One lock (or two) per case; c03 is a 6-digit lock.
cat > "$T/tuya.json" <<EOF
{
  "client_id": "fake4client6id8xyzw12",
  "secret": "$SECRET",
  "token_ttl": 7200,
  "t_skew_ms": 300000,
  "devices": [
    {"id": "fc01lock0123456789abcd", "name": "case 1", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc02lock0123456789abcd", "name": "case 2a", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc02lock0123456789abce", "name": "case 2b", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc03lock0123456789abcd", "name": "case 3", "pin_length": 6, "online": true, "category": "ms"},
    {"id": "fc04lock0123456789abcd", "name": "case 4", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc05lock0123456789abcd", "name": "case 5", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc06lock0123456789abcd", "name": "case 6", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc07lock0123456789abcd", "name": "case 7", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc08lock0123456789abcd", "name": "case 8", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc09lockA123456789abcd", "name": "case 9 A", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc09lockB123456789abcd", "name": "case 9 B", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc12lockA123456789abcd", "name": "case 12 A", "pin_length": 7, "online": true, "category": "ms", "linked": false},
    {"id": "fc12lockB123456789abcd", "name": "case 12 B", "pin_length": 7, "online": true, "category": "ms"},
    {"id": "fc10lock0123456789abcd", "name": "case 10", "pin_length": 7, "online": true, "category": "ms"}
  ]
}
EOF
start_fake

# Check-in 2026-12-10 15:00 in Sao Paulo = 18:00Z: the generate job is due
# at 16:00Z (T1); a stay that starts a day later is due at T2.
T1=$(date -u -d 2026-12-10T16:00:00Z +%s)
T2=$(date -u -d 2026-12-11T16:00:00Z +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

printf '#!/bin/sh\ncat >> "%s/on_failure.out"\necho >> "%s/on_failure.out"\n' "$T" "$T" > "$T/on_failure"
: > "$T/on_pin"
chmod 700 "$T/on_failure" "$T/on_pin"

# new_case [MAX_ATTEMPTS]: a fresh database and config, no faults, no hook output.
new_case() {
	rm -f "$T/stays.db" "$T/stays.db-wal" "$T/stays.db-shm" "$T/on_failure.out"
	printf '#!/bin/sh\ncat >> "%s/on_pin.out"\n' "$T" > "$T/on_pin"
	rm -f "$T/on_pin.out"
	write_config
	cat >> "$T/stays.conf" <<EOC
[pins]
max_attempts = ${1:-10}
[hooks]
on_pin = $T/on_pin
on_failure = $T/on_failure
EOC
	CONF="$T/stays.conf"
	reset_faults
}

# run_pr CODE ARGS...: pin-runner -v with $CONF; output in $T/out, $T/err
# and appended to $ALL; fail unless it exits CODE.
run_pr() {
	want=$1
	shift
	set +e
	$CHECK_WRAP "$BIN/pin-runner" -c "${CONF:-$T/stays.conf}" -v "$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	{ cat "$T/out" "$T/err"; echo; } >> "$ALL"
	if [ "$got" -ne "$want" ]; then
		echo "--- stdout" >&2; cat "$T/out" >&2
		echo "--- stderr" >&2; cat "$T/err" >&2
		fail "pin-runner $* exited $got, expected $want"
	fi
}

# Faults match a substring of "path?query" (no method).  The create path
# .../door-lock/temp-password is also a prefix of the list and delete paths
# (.../temp-passwords): a first attempt makes no list call (ticket, then
# create), a retry lists first (list, ticket, create), hence AFTER.
# create_fault DEVICE JSON-TAIL [AFTER]: a fault on the create call of DEVICE.
create_fault() {
	fault "{\"service\":\"tuya\",\"match\":\"/v1.0/devices/$1/door-lock/temp-password\",\"after\":${3:-0},$2}"
}
# ticket_fault DEVICE JSON-TAIL: a fault on the ticket call (made before
# every create).
ticket_fault() {
	fault "{\"service\":\"tuya\",\"match\":\"/v1.0/devices/$1/door-lock/password-ticket\",$2}"
}

tuya_state() {
	curl -sf "$URL/_fake/tuya/state" > "$T/state" || fail "cannot read the fake's state"
}
# Passwords are named CODE-xxxx, unique to each credential (P2).
# live_passwords DEVICE CODE: live (phase 1/2) passwords CODE has on DEVICE.
live_passwords() {
	tuya_state
	jq -r --arg d "$1" --arg n "$2-" \
		'[.devices[] | select(.id == $d) | .passwords[] | select((.name | startswith($n)) and (.phase == 1 or .phase == 2))] | length' "$T/state"
}
# all_passwords DEVICE CODE: passwords CODE ever had on DEVICE, any phase.
all_passwords() {
	tuya_state
	jq -r --arg d "$1" --arg n "$2-" \
		'[.devices[] | select(.id == $d) | .passwords[] | select(.name | startswith($n))] | length' "$T/state"
}
lock_field() {	# lock_field DEVICE CODE FIELD (of the live password)
	tuya_state
	jq -r --arg d "$1" --arg n "$2-" --arg f "$3" \
		'[.devices[] | select(.id == $d) | .passwords[] | select((.name | startswith($n)) and (.phase == 1 or .phase == 2))][0][$f]' "$T/state"
}
# book LISTING [locks add options]: reservation $R ($C, 2026-12-10..12) on
# LISTING, lock $D mapped to it, reconciled at $NOW; $job is its generate job.
book() {
	job="generate:$R:$D"
	stays_data "$(resv $R $C $1 2026-12-10 2026-12-12)"
	listing=$1
	shift
	expect 0 sr locks add --no-check $listing $D "$@"
	expect 0 sr --now $NOW
}

job_field() {	# job_field JOB COLUMN
	sql "SELECT $2 FROM pin_jobs WHERE id = '$1'"
}
tuya_requests() {	# business or token calls in the fake's log
	grep -c ' /v1\.[0-9]/' "$T/requests.log" || true
}

# truth RESV DEVICE CODE: the database's live credentials for (RESV, DEVICE)
# are exactly what the lock holds: an unconfirmed or active row iff one live
# password named CODE-..., with the same name, password id and PIN; active
# only if the lock confirmed it (phase 2); never more than one.
truth() {
	live=$(live_passwords "$2" "$3")
	q="FROM credentials WHERE reservation_id = '$1' AND device_id = '$2' AND state IN ('unconfirmed', 'active')"
	known=$(sql "SELECT count(*) $q")
	[ "$live" -le 1 ] || fail "$live live passwords for $3 on lock $2: $(cat "$T/state")"
	[ "$known" = "$live" ] || fail "database says $known live credential(s) for $3 on $2, the lock has $live live: $(sql "SELECT id, password_id, state FROM credentials WHERE device_id = '$2'")"
	if [ "$live" = 1 ]; then
		[ "$(sql "SELECT password_id $q")" = "$(lock_field "$2" "$3" id)" ] ||
			fail "password id in the database differs from the lock's for $3 on $2"
		[ "$(sql "SELECT name $q")" = "$(lock_field "$2" "$3" name)" ] ||
			fail "name in the database differs from the lock's for $3 on $2"
		[ "$(sql "SELECT pin $q")" = "$(lock_field "$2" "$3" pin)" ] ||
			fail "PIN in the database differs from the lock's for $3 on $2"
		if [ "$(lock_field "$2" "$3" phase)" = 2 ]; then want=active; else want=unconfirmed; fi
		[ "$(sql "SELECT state $q")" = $want ] ||
			fail "database says $(sql "SELECT state $q") for $3 on $2, the lock's phase is $(lock_field "$2" "$3" phase)"
	fi
}

# harvest: remember the tokens and PINs this database held (case 11).
harvest() {
	[ -s "$T/stays.db" ] || return 0
	sqlite3 -batch -noheader "$T/stays.db" \
		"SELECT access_token FROM tuya_token; SELECT refresh_token FROM tuya_token WHERE refresh_token != ''; SELECT pin FROM credentials WHERE pin IS NOT NULL;" \
		>> "$SECRETS" 2>/dev/null || true
}

L01=63dd7e20333d8b60be51c001
L02=63dd7e20333d8b60be51c002
L03=63dd7e20333d8b60be51c003
L04=63dd7e20333d8b60be51c004
L05=63dd7e20333d8b60be51c005
L06=63dd7e20333d8b60be51c006
L07=63dd7e20333d8b60be51c007
L08=63dd7e20333d8b60be51c008
L09=63dd7e20333d8b60be51c009
L10=63dd7e20333d8b60be51c010

# ---- 1. Tuya 1110 on the create call, then success ----------------------
case1() {
	new_case
	D=fc01lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c001 C=RVF01
	book $L01
	[ "$(job_field "$job" status)" = pending ] || fail "no pending job $job"

	create_fault $D '"code":1110,"times":1'
	: > "$T/requests.log"
	run_pr 1 --now $T1
	grep -q "POST /v1.0/devices/$D/door-lock/temp-password 200 code=1110" "$T/requests.log" ||
		fail "the 1110 did not hit the create call: $(cat "$T/requests.log")"
	grep -qF "$job" "$T/err" || fail "stderr does not name the job: $(cat "$T/err")"
	grep -q '1110\|concurrent' "$T/err" || fail "stderr does not give the cause: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = pending ] || fail "status $(job_field "$job" status) after a 1110"
	[ "$(job_field "$job" attempts)" = 1 ] || fail "attempts $(job_field "$job" attempts) after one try"
	job_field "$job" last_error | grep -q 1110 || fail "last_error: $(job_field "$job" last_error)"
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 60)) ] || fail "next_attempt_at $(job_field "$job" next_attempt_at), want $((T1 + 60))"
	[ "$(live_passwords $D $C)" = 0 ] || fail "a password on the lock after a refused create"
	truth $R $D $C

	# Not due again before next_attempt_at (P1): no Tuya call at all.
	: > "$T/requests.log"
	run_pr 0 --now $((T1 + 59))
	[ "$(tuya_requests)" = 0 ] || fail "retried before next_attempt_at: $(cat "$T/requests.log")"

	run_pr 0 --now $((T1 + 60))
	[ "$(live_passwords $D $C)" = 1 ] || fail "no password after the retry: $(cat "$T/state")"
	[ "$(all_passwords $D $C)" = 1 ] || fail "more than one password was ever created: $(cat "$T/state")"
	[ "$(sql "SELECT count(*) FROM credentials WHERE reservation_id = '$R' AND device_id = '$D' AND state != 'revoked'")" = 1 ] ||
		fail "credentials: $(sql "SELECT id, password_id, state FROM credentials")"
	truth $R $D $C
	[ "$(job_field "$job" status)" = done ] || fail "job $(job_field "$job" status) after success"
	[ -z "$(job_field "$job" last_error)" ] || fail "last_error kept after success"
	[ ! -s "$T/err" ] || fail "stderr on success: $(cat "$T/err")"
}

# ---- 2. Backoff (P5) and max_attempts ------------------------------------
case2() {
	new_case
	D=fc02lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c002 C=RVF02
	book $L02
	# Tuya 1199 four times, then HTTP 500 for ever, on the ticket call.
	ticket_fault $D '"code":1199,"times":4'
	ticket_fault $D '"status":500,"times":-1'
	now=$T1 n=0
	for delay in 60 120 240 480 960 1920 3600 3600; do
		n=$((n + 1))
		run_pr 1 --now $now
		grep -qF "$job" "$T/err" || fail "attempt $n: stderr does not name the job: $(cat "$T/err")"
		if [ $n -le 4 ]; then cause='1199\|too frequent'; else cause='500'; fi
		grep -q "$cause" "$T/err" || fail "attempt $n: stderr does not give the cause: $(cat "$T/err")"
		grep -qF "$(iso $((now + delay)))" "$T/err" || fail "attempt $n: stderr does not say when it retries: $(cat "$T/err")"
		[ "$(job_field "$job" attempts)" = $n ] || fail "attempt $n: attempts $(job_field "$job" attempts)"
		[ "$(job_field "$job" status)" = pending ] || fail "attempt $n: status $(job_field "$job" status)"
		[ "$(job_field "$job" next_attempt_at)" = $((now + delay)) ] ||
			fail "attempt $n: next_attempt_at = now + $(($(job_field "$job" next_attempt_at) - now)), want now + $delay"
		truth $R $D $C
		# No create went out: no intent is left behind to resolve.
		[ "$(sql "SELECT count(*) FROM credentials WHERE state = 'creating'")" = 0 ] ||
			fail "attempt $n left an intent: $(sql "SELECT id, state FROM credentials")"
		now=$((now + delay))
	done
	[ "$(live_passwords $D $C)" = 0 ] || fail "a password appeared"
}

case2b() {
	new_case 3
	D=fc02lock0123456789abce R=c650f1a2c3d4e5f6a7b8c012 C=RVF02B
	book $L02
	ticket_fault $D '"code":1199,"times":-1'
	run_pr 1 --now $T1
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 60)) ] || fail "1st next_attempt_at"
	run_pr 1 --now $((T1 + 60))
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 180)) ] || fail "2nd next_attempt_at"
	[ ! -e "$T/on_failure.out" ] || fail "on_failure ran before max_attempts: $(cat "$T/on_failure.out")"
	run_pr 1 --now $((T1 + 180))
	grep -qF "$job" "$T/err" || fail "stderr does not name the job: $(cat "$T/err")"
	grep -q 'fail' "$T/err" && grep -q '1199\|too frequent' "$T/err" || fail "stderr: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = failed ] || fail "status $(job_field "$job" status) after max_attempts = 3"
	[ "$(job_field "$job" attempts)" = 3 ] || fail "attempts $(job_field "$job" attempts)"
	job_field "$job" last_error | grep -q 1199 || fail "last_error: $(job_field "$job" last_error)"
	[ -s "$T/on_failure.out" ] || fail "on_failure hook did not run"
	[ "$(grep -c . "$T/on_failure.out")" = 1 ] || fail "on_failure ran more than once: $(cat "$T/on_failure.out")"
	jq -e --arg j "$job" --arg c $C --arg d $D \
		'.jobId == $j and .reservationCode == $c and .deviceId == $d and .action == "generate" and .attempts == 3 and (.error | test("1199"))' \
		"$T/on_failure.out" >/dev/null || fail "on_failure JSON: $(cat "$T/on_failure.out")"
	truth $R $D $C
	# A failed job is not run again.
	: > "$T/requests.log"
	run_pr 0 --now $((T1 + 86400))
	[ "$(tuya_requests)" = 0 ] || fail "a failed job was retried: $(cat "$T/requests.log")"
}

# ---- 3. A lock that rejects the PIN length (1109) ------------------------
case3() {
	new_case
	D=fc03lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c003 C=RVF03
	book $L03 --pin-length 7	# the lock takes 6
	run_pr 1 --now $T1
	grep -qF "$job" "$T/err" || fail "stderr does not name the job: $(cat "$T/err")"
	grep -q 'rejected the PIN' "$T/err" && grep -q 'length' "$T/err" || fail "stderr does not say the lock rejected the PIN length: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = failed ] || fail "status $(job_field "$job" status) after 1109"
	[ "$(job_field "$job" attempts)" = 1 ] || fail "attempts $(job_field "$job" attempts)"
	[ "$(sql "SELECT count(*) FROM credentials WHERE reservation_id = '$R' AND state != 'revoked'")" = 0 ] ||
		fail "a live credential left: $(sql "SELECT id, state FROM credentials")"
	[ "$(all_passwords $D $C)" = 0 ] || fail "password on the lock: $(cat "$T/state")"
	truth $R $D $C
	jq -e --arg j "$job" '.jobId == $j' "$T/on_failure.out" >/dev/null || fail "on_failure: $(cat "$T/on_failure.out" 2>/dev/null)"
}

# 3b. The operator does what the message says (locks add --pin-length 6)
# and the next cycles give the guest a 6-digit PIN.  (SPEC is silent on how
# a failed job comes back; the message promises this remedy works.)
case3b() {
	new_case
	D=fc03lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c013 C=RVF03B
	book $L03 --pin-length 7
	run_pr 1 --now $T1
	[ "$(job_field "$job" status)" = failed ] || fail "status $(job_field "$job" status) after 1109"
	grep -q 'locks add [^ ]* [^ ]* --pin-length' "$T/err" || fail "the message gives no remedy: $(cat "$T/err")"
	expect 0 sr locks add --no-check $L03 $D --pin-length 6
	[ "$(sql "SELECT pin_length FROM locks WHERE device_id = '$D'")" = 6 ] || fail "locks add did not change the length"
	expect 0 sr --now $((T1 + 600))
	run_pr 0 --now $((T1 + 600))
	[ "$(live_passwords $D $C)" = 1 ] ||
		fail "after 'locks add --pin-length 6', stays-reconcile and pin-runner, $C still has no PIN (jobs: $(sql "SELECT id, status, attempts FROM pin_jobs WHERE reservation_id = '$R'"))"
	[ "$(lock_field $D $C pin | tr -d '\n' | wc -c)" = 6 ] || fail "not a 6-digit PIN"
	truth $R $D $C
}

# ---- 4. Wrong Tuya credentials (1004) ------------------------------------
case4() {
	new_case
	D=fc04lock0123456789abcd C=RVF04A C2=RVF04B
	R=c650f1a2c3d4e5f6a7b8c004 R2=c650f1a2c3d4e5f6a7b8c014
	job="generate:$R:$D" job2="generate:$R2:$D"
	stays_data "$(resv $R $C $L04 2026-12-10 2026-12-12)" "$(resv $R2 $C2 $L04 2026-12-12 2026-12-14)"
	expect 0 sr locks add --no-check $L04 $D
	expect 0 sr --now $NOW
	sed "s/^client_secret = $SECRET\$/client_secret = $WRONG_SECRET/" "$T/stays.conf" > "$T/wrong.conf"
	chmod 600 "$T/wrong.conf"
	grep -q "$WRONG_SECRET" "$T/wrong.conf" || fail "wrong.conf"

	# No token yet: the token request is refused.
	CONF="$T/wrong.conf"
	run_pr 77 --now $T1
	grep -q 'credential\|client_secret' "$T/err" && grep -q '1004\|sign invalid' "$T/err" ||
		fail "stderr does not give the cause: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = pending ] || fail "status $(job_field "$job" status) after 1004"
	[ "$(job_field "$job" attempts)" = 0 ] || fail "attempts $(job_field "$job" attempts) after 1004"
	[ -z "$(job_field "$job" next_attempt_at)" ] || fail "next_attempt_at set after 1004"
	truth $R $D $C

	# The right secret: done; the token is now cached.
	CONF="$T/stays.conf"
	run_pr 0 --now $T1
	[ "$(job_field "$job" status)" = done ] || fail "job not done with the right secret"
	truth $R $D $C
	[ "$(live_passwords $D $C)" = 1 ] || fail "no password"

	# A cached token, the wrong secret: the signed call is refused.
	T3=$(date -u -d 2026-12-12T16:00:00Z +%s)
	CONF="$T/wrong.conf"
	run_pr 77 --now $T3
	grep -q '1004\|sign invalid' "$T/err" || fail "stderr does not give the cause: $(cat "$T/err")"
	[ "$(job_field "$job2" status)" = pending ] || fail "status $(job_field "$job2" status) after 1004"
	[ "$(job_field "$job2" attempts)" = 0 ] || fail "attempts $(job_field "$job2" attempts) after 1004"
	truth $R2 $D $C2
	CONF="$T/stays.conf"
	run_pr 0 --now $T3
	truth $R2 $D $C2
	[ "$(live_passwords $D $C2)" = 1 ] || fail "no password for $C2"
}

# ---- 5. An expired token between runs (1010) -----------------------------
case5() {
	new_case
	D=fc05lock0123456789abcd C=RVF05A C2=RVF05B
	R=c650f1a2c3d4e5f6a7b8c005 R2=c650f1a2c3d4e5f6a7b8c015
	job2="generate:$R2:$D"
	stays_data "$(resv $R $C $L05 2026-12-10 2026-12-12)" "$(resv $R2 $C2 $L05 2026-12-11 2026-12-12)"
	expect 0 sr locks add --no-check $L05 $D
	expect 0 sr --now $NOW
	run_pr 0 --now $T1
	truth $R $D $C
	[ "$(live_passwords $D $C)" = 1 ] || fail "no password for $C"
	tok=$(sql "SELECT access_token FROM tuya_token")
	[ -n "$tok" ] || fail "no token cached"
	tuya_state
	before=$(jq -r .token_requests "$T/state")
	expired=$(curl -sf -X POST "$URL/_fake/tuya/expire-tokens" | jq -r .expired)
	[ "$expired" -ge 1 ] || fail "the fake expired no token"
	: > "$T/requests.log"
	run_pr 0 --now $T2
	tuya_state
	after=$(jq -r .token_requests "$T/state")
	[ "$after" = $((before + 1)) ] || fail "token_requests went from $before to $after"
	[ "$(grep -c 'GET /v1.0/token' "$T/requests.log")" = 1 ] || fail "token requests: $(cat "$T/requests.log")"
	grep -q '(1 token request)' "$T/out" || fail "-v summary: $(cat "$T/out")"
	[ "$(job_field "$job2" status)" = done ] || fail "job $(job_field "$job2" status) after a token refresh"
	[ "$(job_field "$job2" attempts)" = 1 ] || fail "attempts $(job_field "$job2" attempts)"
	new=$(sql "SELECT access_token FROM tuya_token")
	[ -n "$new" ] && [ "$new" != "$tok" ] || fail "the new token was not cached"
	truth $R2 $D $C2
	[ "$(live_passwords $D $C2)" = 1 ] || fail "no password for $C2"
	[ "$(all_passwords $D $C2)" = 1 ] || fail "two creates for $C2"
}

# ---- 6. Lock offline ------------------------------------------------------
case6() {
	new_case
	D=fc06lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c006 C=RVF06
	book $L06
	create_fault $D '"code":2001,"times":1'
	run_pr 1 --now $T1
	grep -qF "$job" "$T/err" || fail "stderr does not name the job: $(cat "$T/err")"
	grep -q '2001\|offline' "$T/err" || fail "stderr does not give the cause: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = pending ] || fail "status $(job_field "$job" status) after 2001"
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 60)) ] || fail "next_attempt_at $(job_field "$job" next_attempt_at)"
	job_field "$job" last_error | grep -q 2001 || fail "last_error: $(job_field "$job" last_error)"
	truth $R $D $C

	# Offline: the cloud queues the password (phase 1), the lock has not
	# got it.  P3a: not done, not active - unconfirmed, read again with the
	# backoff, and the run says so (exit 1) - until the lock confirms it.
	curl -sf -X POST --data "{\"id\":\"$D\",\"online\":false}" "$URL/_fake/tuya/device" >/dev/null ||
		fail "cannot take the lock offline"
	run_pr 1 --now $((T1 + 60))
	[ "$(lock_field $D $C phase)" = 1 ] || fail "phase $(lock_field $D $C phase): $(cat "$T/state")"
	[ "$(sql "SELECT state FROM credentials WHERE reservation_id = '$R' AND device_id = '$D' AND state != 'revoked'")" = unconfirmed ] ||
		fail "database does not say unconfirmed: $(sql "SELECT state FROM credentials WHERE reservation_id = '$R'")"
	grep -q "lock $D has not confirmed" "$T/err" || fail "stderr: $(cat "$T/err")"
	truth $R $D $C
	[ "$(job_field "$job" status)" = pending ] || fail "job $(job_field "$job" status) while unconfirmed"
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 60 + 120)) ] || fail "next read $(job_field "$job" next_attempt_at)"
	[ ! -s "$T/on_pin.out" ] || fail "on_pin ran before the lock confirmed the PIN"
	expect 1 sr --now $((T1 + 120)) status --json
	jq -e --arg c $C '.health.unconfirmed | map(.reservationCode) | index($c) != null' "$T/out" >/dev/null ||
		fail "status does not report the unconfirmed PIN: $(cat "$T/out")"
	# Still offline at the next read: one more read, still waiting.
	run_pr 1 --now $((T1 + 180))
	curl -sf -X POST --data "{\"id\":\"$D\",\"online\":true}" "$URL/_fake/tuya/device" >/dev/null
	run_pr 0 --now $((T1 + 420))
	[ "$(job_field "$job" status)" = done ] || fail "job $(job_field "$job" status) after the lock came back"
	truth $R $D $C
	[ "$(all_passwords $D $C)" = 1 ] || fail "a second password: $(cat "$T/state")"
}

# ---- 7. HTTP 500, then a malformed answer --------------------------------
case7() {
	new_case
	D=fc07lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c007 C=RVF07
	book $L07
	# 5xx: a failed item to retry (P5), the run itself completed: exit 1.
	create_fault $D '"status":500,"times":1'
	run_pr 1 --now $T1
	grep -qF "$job" "$T/err" && grep -q '500' "$T/err" || fail "stderr: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = pending ] || fail "status $(job_field "$job" status) after HTTP 500"
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 60)) ] || fail "next_attempt_at after HTTP 500"
	truth $R $D $C
	# A malformed JSON answer: exit 76, and the job is retried later.
	create_fault $D '"body":"malformed","times":1' 1
	: > "$T/requests.log"
	run_pr 76 --now $((T1 + 60))
	[ "$(grep -c "POST /v1.0/devices/$D/door-lock/temp-password 200" "$T/requests.log")" = 1 ] ||
		fail "the malformed answer was not to the create call: $(cat "$T/requests.log")"
	grep -qF "$job" "$T/err" || fail "stderr does not name the job: $(cat "$T/err")"
	grep -q 'malformed\|JSON' "$T/err" || fail "stderr does not give the cause: $(cat "$T/err")"
	truth $R $D $C
	[ "$(job_field "$job" attempts)" = 2 ] || fail "attempts $(job_field "$job" attempts)"
	[ "$(job_field "$job" status)" = pending ] ||
		fail "a malformed answer made the job '$(job_field "$job" status)' (last_error: $(job_field "$job" last_error)); it should be retried later"
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 180)) ] || fail "next_attempt_at after the malformed answer"
	run_pr 0 --now $((T1 + 180))
	[ "$(live_passwords $D $C)" = 1 ] || fail "no password after the retry"
	truth $R $D $C
}

# 7b. The create lands but its answer is cut off (the fake does the work,
# then breaks the body): a transport failure, exit 69, retried; the retry
# adopts the password (P3) instead of creating a second one.
case7b() {
	new_case
	D=fc07lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c017 C=RVF07B
	book $L07
	create_fault $D '"body":"truncated","times":1'
	run_pr 69 --now $T1
	grep -qF "$job" "$T/err" || fail "stderr does not name the job: $(cat "$T/err")"
	[ "$(job_field "$job" status)" = pending ] || fail "status $(job_field "$job" status)"
	[ "$(job_field "$job" next_attempt_at)" = $((T1 + 60)) ] || fail "next_attempt_at"
	[ "$(live_passwords $D $C)" = 1 ] || fail "the fake did not create the password"
	# The database must not claim it (no answer), but must remember the intent.
	[ "$(sql "SELECT state FROM credentials WHERE reservation_id = '$R' AND device_id = '$D' AND state != 'revoked'")" = creating ] ||
		fail "credential: $(sql "SELECT id, password_id, state FROM credentials WHERE reservation_id = '$R'")"
	run_pr 0 --now $((T1 + 60))
	[ "$(all_passwords $D $C)" = 1 ] || fail "a second password was created: $(cat "$T/state")"
	truth $R $D $C
	[ "$(job_field "$job" status)" = done ] || fail "job $(job_field "$job" status)"
}

# ---- 8. A job whose reservation no longer exists -------------------------
case8() {
	new_case
	D=fc08lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c008 C=RVF08
	GHOST=c650f1a2c3d4e5f6a7b8dead
	job="generate:$R:$D" ghost="generate:$GHOST:$D"
	stays_data "$(resv $R $C $L08 2026-12-10 2026-12-12)"
	expect 0 sr locks add --no-check $L08 $D
	expect 0 sr --now $NOW
	vf=$(date -u -d 2026-12-10T18:00:00Z +%s) vu=$(date -u -d 2026-12-12T14:00:00Z +%s)
	now0=$(date -u -d $NOW +%s)
	# Due an hour before the real job, so it runs first.
	sql "INSERT INTO pin_jobs (id, action, reservation_id, device_id, due_at, valid_from, valid_until, status, attempts, created_at, updated_at) VALUES ('$ghost', 'generate', '$GHOST', '$D', $((T1 - 3600)), $vf, $vu, 'pending', 0, $now0, $now0)"
	[ "$(job_field "$ghost" status)" = pending ] || fail "cannot insert the job"
	run_pr 1 --now $T1
	grep -F "$ghost" "$T/err" | grep -q 'no longer exists' || fail "stderr: $(cat "$T/err")"
	[ "$(job_field "$ghost" status)" = failed ] || fail "ghost job $(job_field "$ghost" status)"
	job_field "$ghost" last_error | grep -q 'no longer exists' || fail "last_error: $(job_field "$ghost" last_error)"
	[ "$(sql "SELECT count(*) FROM credentials WHERE reservation_id = '$GHOST'")" = 0 ] || fail "a credential for the ghost"
	[ "$(job_field "$job" status)" = done ] || fail "the other job: $(job_field "$job" status)"
	[ "$(live_passwords $D $C)" = 1 ] || fail "the other job did not create its password"
	truth $R $D $C
	jq -e --arg j "$ghost" 'select(.jobId == $j)' "$T/on_failure.out" >/dev/null || fail "on_failure: $(cat "$T/on_failure.out" 2>/dev/null)"
}

# ---- 9. A listing moved to another lock ----------------------------------
case9() {
	new_case
	A=fc09lockA123456789abcd B=fc09lockB123456789abcd
	R=c650f1a2c3d4e5f6a7b8c009 C=RVF09
	stays_data "$(resv $R $C $L09 2026-12-10 2026-12-12)"
	expect 0 sr locks add --no-check $L09 $A
	expect 0 sr --now $NOW
	run_pr 0 --now $T1
	[ "$(live_passwords $A $C)" = 1 ] || fail "no password on A"
	truth $R $A $C
	pinA=$(lock_field $A $C pin)
	expect 0 sr locks rm $L09 $A
	expect 0 sr locks add --no-check $L09 $B
	expect 0 sr --now $((T1 + 3600))
	[ "$(job_field "revoke:$R:$A" status)" = pending ] || fail "no revoke due on A: $(sql "SELECT id, status, due_at FROM pin_jobs")"
	[ "$(job_field "generate:$R:$B" status)" = pending ] || fail "no generate on B: $(sql "SELECT id, status, due_at FROM pin_jobs")"
	run_pr 0 --now $((T1 + 3600))
	[ "$(live_passwords $A $C)" = 0 ] || fail "the password is still live on A"
	[ "$(live_passwords $B $C)" = 1 ] || fail "no password on B: $(cat "$T/state")"
	truth $R $A $C
	truth $R $B $C
	[ "$(sql "SELECT state FROM credentials WHERE device_id = '$A'")" = revoked ] || fail "A's credential not revoked"
	if [ "$(lock_field $B $C pin)" = "$pinA" ]; then
		echo "# case 9: the PIN was kept on the new lock"
	else
		echo "# case 9: the new lock got a new PIN"
	fi
}

# ---- 10. One pin-runner at a time; stays-reconcile alongside -------------
case10() {
	new_case
	D=fc10lock0123456789abcd R=c650f1a2c3d4e5f6a7b8c010 C=RVF10
	R2=c650f1a2c3d4e5f6a7b8c020 C2=RVF10B
	stays_data "$(resv $R $C $L10 2026-12-10 2026-12-12)"
	expect 0 sr locks add --no-check $L10 $D
	expect 0 sr --now $NOW
	hold_lock "$T/stays.db.pin.lock"
	dump > "$T/before"
	: > "$T/requests.log"
	run_pr 75 --now $T1
	grep -q 'another instance' "$T/err" || fail "stderr: $(cat "$T/err")"
	dump > "$T/after"
	diff -u "$T/before" "$T/after" >&2 || fail "the locked-out pin-runner changed the database"
	[ "$(tuya_requests)" = 0 ] || fail "the locked-out pin-runner called Tuya"
	# stays-reconcile is not blocked by pin-runner's lock.
	stays_data "$(resv $R $C $L10 2026-12-10 2026-12-12)" "$(resv $R2 $C2 $L10 2026-12-11 2026-12-12)"
	expect 0 sr --now $T1
	[ "$(sql "SELECT count(*) FROM reservations WHERE id = '$R2'")" = 1 ] || fail "stays-reconcile did not run"
	release_lock
	run_pr 0 --now $T1
	truth $R $D $C
	[ "$(live_passwords $D $C)" = 1 ] || fail "no password after the lock was released"

	# A real pin-runner, held inside its on_pin hook (it holds its lock
	# there): a second one exits 75, and stays-reconcile runs meanwhile.
	rm -f "$T/inhook" "$T/hookgo"
	mkfifo "$T/inhook" "$T/hookgo"
	printf '#!/bin/sh\ncat > /dev/null\necho in > "%s/inhook"\ncat "%s/hookgo" > /dev/null\n' "$T" "$T" > "$T/on_pin"
	$CHECK_WRAP "$BIN/pin-runner" -c "$CONF" -v --now $T2 >"$T/bg.out" 2>"$T/bg.err" &
	bg=$!
	timeout 120 head -n 1 "$T/inhook" > /dev/null ||
		fail "the first pin-runner never reached its hook: $(cat "$T/bg.err")"
	run_pr 75 --now $T2
	grep -q 'another instance' "$T/err" || fail "stderr: $(cat "$T/err")"
	kill -0 $bg 2>/dev/null || fail "the first pin-runner was not running any more"
	stays_data "$(resv $R $C $L10 2026-12-10 2026-12-12)" "$(resv $R2 $C2 $L10 2026-12-11 2026-12-12 booked 4)"
	expect 0 sr --now $T2
	[ "$(sql "SELECT guests FROM reservations WHERE id = '$R2'")" = 4 ] || fail "stays-reconcile did not update $C2"
	timeout 120 sh -c ": > '$T/hookgo'" || fail "the hook did not take its go"
	set +e
	wait $bg
	rc=$?
	set -e
	{ cat "$T/bg.out" "$T/bg.err"; echo; } >> "$ALL"
	[ $rc = 0 ] || fail "the first pin-runner exited $rc: $(cat "$T/bg.err")"
	truth $R2 $D $C2
	[ "$(live_passwords $D $C2)" = 1 ] || fail "no password for $C2"
}

FAILED=
run_case() {	# run_case NAME FUNCTION
	set +e
	(set -e; "$2")
	rc=$?
	set -e
	release_lock
	[ ! -p "$T/hookgo" ] || timeout 5 sh -c ": > '$T/hookgo'" 2>/dev/null || true	# a hook left waiting
	harvest
	if [ $rc -eq 0 ]; then
		ok "$1"
	else
		echo "not ok - $1" >&2
		FAILED="$FAILED $2"
	fi
}

run_case "1: Tuya 1110 on create, retried after 60 s: one password, attempts and error recorded" case1
run_case "2: backoff 60, 120, 240 ... capped at 1 h (1199, then HTTP 500)" case2
run_case "2b: max_attempts = 3: job failed, on_failure hook with the job" case2b
run_case "3: lock rejects the PIN length (1109): failed at once, no credential" case3
run_case "3b: following the 1109 message (locks add --pin-length 6) gets the guest a PIN" case3b
run_case "4: wrong client_secret (1004): exit 77, job untouched" case4
run_case "5: expired token (1010): one new token, job done" case5
run_case "6: lock offline (2001) retried; a phase-1 password is unconfirmed until the lock takes it (defect 4)" case6
run_case "7: HTTP 500 retried; malformed answer exits 76 and is retried" case7
run_case "7b: create answer cut off: exit 69, retry adopts the password, no second one" case7b
run_case "8: job of a vanished reservation failed, other jobs run" case8
run_case "9: listing moved to another lock: revoked on A, created on B" case9
run_case "10: second pin-runner exits 75; stays-reconcile runs alongside" case10

# ---- 12. One lock not linked to the cloud project (1106) ------------------
# Only that lock's jobs wait (pending, no attempt counted); the other locks
# get their PINs; the run exits 77 so the operator hears of it.
case12() {
	new_case
	DA=fc12lockA123456789abcd DB=fc12lockB123456789abcd
	R1=c650f1a2c3d4e5f6a7b8c121 R2=c650f1a2c3d4e5f6a7b8c122
	L12A=63dd7e20333d8b60be51c12a L12B=63dd7e20333d8b60be51c12b
	stays_data "$(resv $R1 RVF12A $L12A 2026-12-10 2026-12-12)" \
		"$(resv $R2 RVF12B $L12B 2026-12-10 2026-12-12)"
	expect 0 sr locks add --no-check $L12A $DA
	expect 0 sr locks add --no-check $L12B $DB
	expect 0 sr --now $NOW
	run_pr 77 --now $T1
	grep -q "job generate:$R1:$DA left pending: Tuya denies access to lock $DA" "$T/err" ||
		fail "1106 message: $(cat "$T/err")"
	[ "$(job_field "generate:$R1:$DA" status)" = pending ] || fail "refused lock's job not pending"
	[ "$(job_field "generate:$R1:$DA" attempts)" = 0 ] || fail "refused lock's job counted an attempt"
	[ "$(live_passwords $DB RVF12B)" = 1 ] || fail "the other lock got no PIN"
	truth $R2 $DB RVF12B
	[ "$(sql "SELECT count(*) FROM credentials WHERE device_id = '$DA' AND state != 'revoked'")" = 0 ] ||
		fail "a refused create left a live credential"
	# The operator unmaps the wrong lock: nothing is left to do on it.
	expect 0 sr locks rm $L12A $DA
	expect 0 sr --now $((T1 + 60))
	run_pr 0 --now $((T1 + 60))
	[ "$(sql "SELECT count(*) FROM pin_jobs WHERE device_id = '$DA' AND status IN ('pending', 'running', 'failed')")" = 0 ] ||
		fail "jobs left on the unmapped lock: $(sql "SELECT id, status FROM pin_jobs WHERE device_id = '$DA'")"
}
run_case "12: one unlinked lock (1106): its jobs wait, other locks proceed, exit 77" case12

# ---- 11. No secret, token or PIN in any output ---------------------------
case11() {
	tuya_state
	jq -r '.devices[].passwords[].pin' "$T/state" > "$T/pins"
	grep -E '^[0-9]{4,12}$' "$SECRETS" >> "$T/pins" || true
	sort -u -o "$T/pins" "$T/pins"
	grep -vE '^[0-9]{4,12}$' "$SECRETS" | sort -u > "$T/strings"
	printf '%s\n%s\n' "$SECRET" "$WRONG_SECRET" >> "$T/strings"
	[ "$(grep -c . "$T/pins")" -ge 5 ] || fail "too few PINs to look for: $(cat "$T/pins")"
	[ "$(grep -c . "$T/strings")" -ge 3 ] || fail "no token to look for"
	[ -s "$ALL" ] || fail "no pin-runner output collected"
	grep -q 'pin-runner: ' "$ALL" || fail "no -v summary collected"
	! grep -nwF -f "$T/pins" "$ALL" >&2 || fail "a PIN in pin-runner output"
	! grep -nF -f "$T/strings" "$ALL" >&2 || fail "a secret or token in pin-runner output"
}
run_case "11: no secret, token or PIN in any pin-runner -v output" case11

if [ -n "$FAILED" ]; then
	fail "failed:$FAILED"
fi
