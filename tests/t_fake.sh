#!/bin/sh
# t_fake.sh - the fake server's own controls: holds (a request parked before
# it is handled or before its answer is sent, released on demand), Zigbee
# and Wi-Fi phases, delivery failures, the password control and the resets;
# the clients detail call (with Stays' 400 for invalid stored e-mails) and
# the hook listener (/_fake/hook).
# Nothing here sleeps to synchronise: a background request is waited for
# with GET /_fake/hold/N/wait, and `wait` collects it once released.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
W=bf0123456789abcdefwifi1	# Wi-Fi, 6 digits
Z=bf0123456789abcdefzigb1	# Zigbee, 7 digits
Y=bf0123456789abcdefzigb2	# Zigbee, fail_delivery 3 in the data file
CID=fake4client6id8xyzw12
SECRET=0f1e2d3c4b5a69788796a5b4c3d2e1f0
cat > "$T/tuya.json" <<EOF
{
  "client_id": "$CID",
  "secret": "$SECRET",
  "devices": [
    {"id": "$W", "name": "Wi-Fi door", "pin_length": 6},
    {"id": "$Z", "name": "Zigbee door", "pin_length": 7, "protocol": "zigbee"},
    {"id": "$Y", "name": "Zigbee gate", "pin_length": 7, "protocol": "zigbee", "fail_delivery": 3}
  ]
}
EOF
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)"
start_fake
write_config

# post PATH [JSON]: a control POST; prints the HTTP status, the body is in $T/ctl.
post() {
	curl -s -o "$T/ctl" -w '%{http_code}' -X POST ${2:+--data "$2"} "$URL$1"
}
# get PATH: a control GET; prints the HTTP status, the body is in $T/ctl.
get() {
	curl -s -o "$T/ctl" -w '%{http_code}' "$URL$1"
}
# want HTTP-STATUS JQ-FILTER EXPECTED CONTEXT: the last control answer was
# a 200 and FILTER gives EXPECTED on it.
want() {
	[ "$1" = 200 ] || fail "$4: HTTP $1: $(cat "$T/ctl")"
	[ "$(jq -r "$2" "$T/ctl")" = "$3" ] || fail "$4: $2 is $(jq -r "$2" "$T/ctl"), expected $3"
}
# hold JSON: add a hold; its id in $H.
hold() {
	[ "$(post /_fake/hold "$1")" = 200 ] || fail "cannot add hold $1: $(cat "$T/ctl")"
	H=$(jq -r .id "$T/ctl")
}
# hold_wait ID [QUERY]: block until hold ID has a request parked.
hold_wait() {
	[ "$(get "/_fake/hold/$1/wait?timeout_ms=30000${2:+&$2}")" = 200 ] ||
		fail "nothing reached hold $1: $(cat "$T/ctl")"
}
release() {	# release ID COUNT
	want "$(post "/_fake/hold/$1/release")" .released "$2" "release of hold $1"
}
counters() {	# counters ID: "caught waiting released" of hold ID
	[ "$(get "/_fake/hold/$1")" = 200 ] || fail "hold $1: $(cat "$T/ctl")"
	jq -r '"\(.caught) \(.waiting) \(.released)"' "$T/ctl"
}
# stays PATH: a Stays GET; prints the HTTP status, the body is in $T/page.
stays() {
	curl -s -o "$T/page" -w '%{http_code}' -u "$STAYS_USER:$STAYS_PASS" "$URL$1"
}
RESV='/external/v1/booking/reservations?from=2026-12-01&to=2026-12-31&dateType=arrival'
logged() {	# logged TEXT: how many log lines contain TEXT
	grep -cF -- "$1" "$T/requests.log" || true
}

# ---- holds: parsing ---------------------------------------------------------

for bad in '{"service":"stays","bogus":1}' '{"match":"x"}' '{"service":"other"}' \
	'{"service":"stays","match":7}' '{"service":"stays","after":-1}' \
	'{"service":"stays","times":0}' '{"service":"stays","times":1.5}' \
	'{"service":"stays","when":"later"}' '{"service":"tuya","method":"post"}' \
	'[1]' 'not json'; do
	st=$(post /_fake/hold "$bad")
	[ "$st" = 400 ] && [ -n "$(jq -r .message "$T/ctl")" ] || fail "hold $bad: HTTP $st $(cat "$T/ctl")"
done
hold '{"service":"stays","match":"never-requested"}'
[ "$H" = 1 ] || fail "first hold id $H"
[ "$(get /_fake/hold/1/wait?timeout_ms=50)" = 504 ] || fail "idle wait did not time out: $(cat "$T/ctl")"
[ "$(jq -r '.message | test("after 50 ms")' "$T/ctl")" = true ] || fail "504 message: $(cat "$T/ctl")"
[ "$(get /_fake/hold/1/wait?timeout_ms=600001)" = 400 ] || fail "timeout_ms over the maximum"
[ "$(get /_fake/hold/1/wait?timeout=5)" = 400 ] || fail "unknown wait parameter"
[ "$(get /_fake/hold/99)" = 404 ] && [ "$(post /_fake/hold/99/release)" = 404 ] &&
	[ "$(get /_fake/hold/99/wait)" = 404 ] || fail "unknown hold not 404"
[ "$(post /_fake/hold/1)" = 405 ] && [ "$(get /_fake/hold/1/release)" = 405 ] &&
	[ "$(get /_fake/hold)" = 405 ] || fail "wrong method not 405"
want "$(post /_fake/hold/1/release)" .released 0 "release of an idle hold"
[ "$(counters 1)" = "0 0 0" ] || fail "idle hold counters: $(counters 1)"
ok "hold: strict parsing, 504 on an idle wait, 404/405, empty release"

# ---- a "before" hold: the page is built from the file as it is when released

hold '{"service":"stays","match":"/booking/reservations?","when":"before"}'
: > "$T/requests.log"
curl -s -o "$T/held-page" -u "$STAYS_USER:$STAYS_PASS" "$URL$RESV" &
cpid=$!
hold_wait $H
[ "$(jq -r .target "$T/ctl")" = "GET $RESV" ] || fail "wait target: $(cat "$T/ctl")"
[ "$(jq -r .waiting "$T/ctl")" = 1 ] || fail "wait count: $(cat "$T/ctl")"
[ "$(counters $H)" = "1 1 0" ] || fail "parked counters: $(counters $H)"
[ "$(logged "GET $RESV")" = 0 ] || fail "held request logged before its answer was known"
kill -0 $cpid || fail "held request answered"
stays_data "$(resv d650f1a2c3d4e5f6a7b80002 RV002 $L1 2026-12-11 2026-12-13)"
release $H 1
wait $cpid || fail "held curl failed"
[ "$(jq -r '[.[].id] | join(",")' "$T/held-page")" = RV002 ] || fail "released page not from the new file: $(cat "$T/held-page")"
[ "$(logged "GET $RESV 200")" = 1 ] || fail "held request not logged once: $(cat "$T/requests.log")"
[ "$(counters $H)" = "1 0 1" ] || fail "released counters: $(counters $H)"
[ "$(stays "$RESV")" = 200 ] || fail "second page"	# times 1: not caught again
[ "$(counters $H)" = "1 0 1" ] || fail "hold caught past its times"
ok "before hold: parked unlogged, file changed, released page has the new data, one log line"

# A released request still meets the faults.
hold '{"service":"stays","match":"/booking/reservations/"}'
fault '{"service":"stays","match":"/booking/reservations/","status":503}'
curl -s -o /dev/null -w '%{http_code}' -u "$STAYS_USER:$STAYS_PASS" \
	"$URL/external/v1/booking/reservations/RV002" > "$T/code" &
cpid=$!
hold_wait $H
release $H 1
wait $cpid
[ "$(cat "$T/code")" = 503 ] || fail "held then faulted request got $(cat "$T/code")"
reset_faults
ok "a released request is still subject to faults"

# after/times: the first K pass, then T are caught; -1 catches on and on,
# release frees all parked at once and the hold goes on catching.
hold '{"service":"stays","match":"/content/listings","after":1,"times":1}'
[ "$(stays /external/v1/content/listings)" = 200 ] || fail "first listings request"
[ "$(counters $H)" = "0 0 0" ] || fail "'after' request caught: $(counters $H)"
curl -s -o /dev/null -u "$STAYS_USER:$STAYS_PASS" "$URL/external/v1/content/listings" &
cpid=$!
hold_wait $H
release $H 1
wait $cpid
[ "$(stays /external/v1/content/listings)" = 200 ] && [ "$(counters $H)" = "1 0 1" ] ||
	fail "third listings request: $(counters $H)"
hold '{"service":"stays","match":"/booking/clients/","times":-1}'
curl -s -o /dev/null -u "$STAYS_USER:$STAYS_PASS" "$URL/external/v1/booking/clients/c1" &
c1=$!
curl -s -o /dev/null -u "$STAYS_USER:$STAYS_PASS" "$URL/external/v1/booking/clients/c2" &
c2=$!
hold_wait $H waiting=2
[ "$(jq -r .waiting "$T/ctl")" = 2 ] || fail "two parked: $(cat "$T/ctl")"
release $H 2
wait $c1
wait $c2
curl -s -o /dev/null -u "$STAYS_USER:$STAYS_PASS" "$URL/external/v1/booking/clients/c3" &
c3=$!
hold_wait $H
release $H 1
wait $c3
[ "$(counters $H)" = "3 0 3" ] || fail "times -1 counters: $(counters $H)"
ok "after K, times T, times -1, one release frees every parked request"

# /_fake/reset releases a parked request and drops every hold.
hold '{"service":"stays","match":"/booking/reservations?"}'
curl -s -o "$T/held-page" -w '%{http_code}' -u "$STAYS_USER:$STAYS_PASS" "$URL$RESV" > "$T/code" &
cpid=$!
hold_wait $H
reset_faults
wait $cpid
[ "$(cat "$T/code")" = 200 ] || fail "request released by reset got $(cat "$T/code")"
[ "$(get /_fake/hold/$H)" = 404 ] && [ "$(get /_fake/hold/1)" = 404 ] || fail "holds survived a reset"
hold '{"service":"stays"}'
[ "$H" -gt 1 ] || fail "hold id reused after a reset"
reset_faults
ok "/_fake/reset releases held requests and drops the holds; ids not reused"

# ---- a signed Tuya client, just enough for the phases (tuya-api.md §2, §5.2)

TOKEN=
EFF=$(date +%s)
INV=$((EFF + 86400))
hexof() {
	printf %s "$1" | od -An -tx1 | tr -d ' \n'
}
# tuya METHOD PATH [BODY]: one signed call; the answer in $T/tuya.
tuya() {
	m=$1 p=$2 body=${3:-}
	sha=$(printf %s "$body" | sha256sum | cut -d' ' -f1)
	t=$(date +%s%3N)
	sign=$(printf '%s%s%s%s\n%s\n\n%s' "$CID" "$TOKEN" "$t" "$m" "$sha" "$p" |
		openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //' | tr a-f A-F)
	set -- -H "client_id: $CID" -H "sign: $sign" -H "sign_method: HMAC-SHA256" -H "t: $t"
	if [ -n "$TOKEN" ]; then
		set -- "$@" -H "access_token: $TOKEN"
	fi
	if [ -n "$body" ]; then
		set -- "$@" -H "Content-Type: application/json" --data-binary "$body"
	fi
	curl -sf -X "$m" "$@" "$URL$p" > "$T/tuya" || fail "tuya $m $p: transport error"
}
ok_tuya() {	# ok_tuya METHOD PATH [BODY]: a call that must succeed
	tuya "$1" "$2" "${3:-}"
	[ "$(jq -r .success "$T/tuya")" = true ] || fail "tuya $1 $2: $(cat "$T/tuya")"
}
code_of() {	# code_of METHOD PATH [BODY]: the Tuya error code of a call
	tuya "$1" "$2" "${3:-}"
	jq -r .code "$T/tuya"
}
token() {
	TOKEN=
	ok_tuya GET '/v1.0/token?grant_type=1'
	TOKEN=$(jq -r .result.access_token "$T/tuya")
}
# pin_body DEVICE NAME PIN: a create/modify body with a fresh ticket.
pin_body() {
	ok_tuya POST "/v1.0/devices/$1/door-lock/password-ticket"
	k=$(jq -r .result.ticket_key "$T/tuya" | basenc --base16 -d |
		openssl enc -d -aes-256-ecb -K "$(hexof "$SECRET")")
	enc=$(printf %s "$3" | openssl enc -aes-128-ecb -K "$(hexof "$k")" | od -An -tx1 | tr -d ' \n')
	printf '{"name":"%s","password":"%s","password_type":"ticket","ticket_id":"%s","effective_time":%s,"invalid_time":%s}' \
		"$2" "$enc" "$(jq -r .result.ticket_id "$T/tuya")" "$EFF" "$INV"
}
create() {	# create DEVICE NAME PIN: its id in $P
	ok_tuya POST "/v1.0/devices/$1/door-lock/temp-password" "$(pin_body "$@")"
	P=$(jq -r .result.id "$T/tuya")
}
modify() {	# modify DEVICE ID PIN
	ok_tuya PUT "/v1.0/devices/$1/door-lock/temp-passwords/$2/modify-password" "$(pin_body "$1" Modified "$3")"
}
delete() {	# delete DEVICE ID
	ok_tuya DELETE "/v1.0/devices/$1/door-lock/temp-passwords/$2"
}
state() {
	curl -sf "$URL/_fake/tuya/state" > "$T/state" || fail "cannot read the fake's state"
}
# pw DEVICE ID: "phase delivery_status pending_delete" in the fake's state.
pw() {
	state
	jq -r --arg d "$1" --arg p "$2" \
		'.devices[] | select(.id == $d) | .passwords[] | select((.id | tostring) == $p) |
		 "\(.phase) \(.delivery_status) \(.pending_delete)"' "$T/state"
}
device() {	# device JSON: POST /_fake/tuya/device, must succeed
	[ "$(post /_fake/tuya/device "$1")" = 200 ] || fail "device $1: $(cat "$T/ctl")"
}
# listed DEVICE ID: "phase delivery_status-or-none" as the list and get-one calls show it.
listed() {
	ok_tuya GET "/v1.0/devices/$1/door-lock/temp-passwords"
	a=$(jq -r --arg p "$2" '.result[] | select((.id | tostring) == $p) |
		"\(.phase) \(if has("delivery_status") then .delivery_status else "none" end)"' "$T/tuya")
	ok_tuya GET "/v1.0/devices/$1/door-lock/temp-password/$2"
	b=$(jq -r '.result | "\(.phase) \(if has("delivery_status") then .delivery_status else "none" end)"' "$T/tuya")
	[ "$a" = "$b" ] || fail "list says $a, get-one says $b for $2 on $1"
	echo "$a"
}

token
state
[ "$(jq -r '[.devices[] | "\(.protocol)/\(.fail_delivery)"] | join(" ")' "$T/state")" = "wifi/0 zigbee/0 zigbee/3" ] ||
	fail "state protocol/fail_delivery: $(cat "$T/state")"

# ---- an "after" hold: the create is done, only its answer is late ---------

# pin-runner creates RV001's PIN on the Wi-Fi lock; the answer is held back.
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)"
expect 0 sr locks add --no-check $L1 $W --pin-length 6
expect 0 sr --now $NOW
create_path="/v1.0/devices/$W/door-lock/temp-password"
hold "{\"service\":\"tuya\",\"match\":\"$create_path\",\"method\":\"POST\",\"when\":\"after\"}"
: > "$T/requests.log"
$CHECK_WRAP "$BIN/pin-runner" -c "$T/stays.conf" --now 2026-12-10T16:00:00Z >"$T/out" 2>"$T/err" &
runner=$!
hold_wait $H
[ "$(jq -r .target "$T/ctl")" = "POST $create_path" ] || fail "after-hold target: $(cat "$T/ctl")"
state
[ "$(jq -r --arg d $W '[.devices[] | select(.id == $d) | .passwords[] | select((.name | startswith("RV001-")) and .phase == 2)] | length' "$T/state")" = 1 ] ||
	fail "held create did not happen: $(cat "$T/state")"
[ "$(logged "POST $create_path 200")" = 1 ] || fail "late answer not logged once it was known: $(cat "$T/requests.log")"
kill -0 $runner || fail "pin-runner finished without its answer"
[ "$(sql "SELECT count(*) FROM credentials WHERE state = 'active'")" = 0 ] || fail "pin-runner saw the held answer"
release $H 1
wait $runner || fail "pin-runner after the late answer: $(cat "$T/err")"
[ "$(sql "SELECT pin FROM credentials WHERE device_id = '$W' AND state = 'active'")" = \
	"$(jq -r --arg d $W '.devices[] | select(.id == $d) | .passwords[] | select(.name | startswith("RV001-")) | .pin' "$T/state")" ] ||
	fail "pin-runner's PIN differs from the lock's"
[ "$(logged "POST $create_path")" = 1 ] || fail "held create logged twice: $(cat "$T/requests.log")"
[ "$(counters $H)" = "1 0 1" ] || fail "after-hold counters: $(counters $H)"
reset_faults
ok "after hold: the create is done and logged, pin-runner waits for the answer, then finishes"

# ---- Zigbee and Wi-Fi phases (tuya-api.md §5.4) -----------------------------

create $Z Z1 1234567
z1=$P
[ "$(pw $Z $z1)" = "2 2 false" ] || fail "zigbee create online: $(pw $Z $z1)"
[ "$(listed $Z $z1)" = "2 2" ] || fail "zigbee list: $(listed $Z $z1)"
[ "$(listed $W "$(jq -r --arg d $W '.devices[] | select(.id == $d) | .passwords[0].id' "$T/state")")" = "2 none" ] ||
	fail "Wi-Fi answers carry delivery_status"
device "{\"id\":\"$Z\",\"online\":false}"
create $Z Z2 2345678
z2=$P
[ "$(pw $Z $z2)" = "1 1 false" ] || fail "zigbee create offline: $(pw $Z $z2)"
delete $Z $z1
[ "$(pw $Z $z1)" = "2 2 true" ] || fail "zigbee delete offline: $(pw $Z $z1)"
[ "$(listed $Z $z1)" = "2 2" ] || fail "pending delete listed as $(listed $Z $z1)"
[ "$(code_of PUT "/v1.0/devices/$Z/door-lock/temp-passwords/$z1/modify-password" "$(pin_body $Z X 1111111)")" = 1109 ] ||
	fail "modify of a pending delete: $(cat "$T/tuya")"
device "{\"id\":\"$Z\",\"online\":true}"
[ "$(pw $Z $z1)" = "4 2 false" ] || fail "pending delete after coming online: $(pw $Z $z1)"
[ "$(pw $Z $z2)" = "2 2 false" ] || fail "pending create after coming online: $(pw $Z $z2)"
delete $Z $z2
[ "$(pw $Z $z2)" = "4 2 false" ] || fail "zigbee delete online: $(pw $Z $z2)"
delete $Z $z2
[ "$(pw $Z $z2)" = "4 2 false" ] || fail "second delete: $(pw $Z $z2)"
[ "$(code_of PUT "/v1.0/devices/$Z/door-lock/temp-passwords/$z2/modify-password" "$(pin_body $Z X 1111111)")" = 1109 ] ||
	fail "modify of a deleted zigbee password"
ok "zigbee: 2/ds2 online, 1/ds1 offline, delete offline pending, online -> 4 and 2, delete online -> 4"

device "{\"id\":\"$Z\",\"fail_delivery\":4}"
create $Z Z3 3456789
[ "$(pw $Z $P)" = "5 4 false" ] || fail "failed delivery online: $(pw $Z $P)"
[ "$(listed $Z $P)" = "5 4" ] || fail "failed delivery listed as $(listed $Z $P)"
device "{\"id\":\"$Z\",\"online\":false}"
create $Z Z4 4567890
z4=$P
[ "$(pw $Z $z4)" = "1 1 false" ] || fail "offline create with fail_delivery: $(pw $Z $z4)"
device "{\"id\":\"$Z\",\"online\":true,\"fail_delivery\":5}"
[ "$(pw $Z $z4)" = "5 5 false" ] || fail "failed delivery on coming online: $(pw $Z $z4)"
device "{\"id\":\"$Z\",\"fail_delivery\":0}"
create $Z Z5 5678901
z5=$P
[ "$(pw $Z $z5)" = "2 2 false" ] || fail "fail_delivery 0: $(pw $Z $z5)"
device "{\"id\":\"$Z\",\"fail_delivery\":6}"
modify $Z $z5 6789012
[ "$(pw $Z $z5)" = "5 6 false" ] || fail "failed delivery of a modify: $(pw $Z $z5)"
for bad in "{\"id\":\"$W\",\"fail_delivery\":3}" "{\"id\":\"$Z\",\"fail_delivery\":2}" \
	"{\"id\":\"$Z\",\"fail_delivery\":7}" "{\"id\":\"$Z\",\"fail_delivery\":\"3\"}" \
	"{\"id\":\"$Z\"}" "{\"id\":\"$Z\",\"protocol\":\"wifi\"}"; do
	[ "$(post /_fake/tuya/device "$bad")" = 400 ] || fail "device $bad: $(cat "$T/ctl")"
done
[ "$(post /_fake/tuya/device '{"id":"nope","fail_delivery":3}')" = 404 ] || fail "unknown device"
device "{\"id\":\"$Z\",\"fail_delivery\":0}"
ok "fail_delivery: phase 5 with its delivery_status on create, on coming online, on modify; bad values 400"

device "{\"id\":\"$W\",\"online\":false}"
create $W W1 111111
w1=$P
[ "$(pw $W $w1)" = "1 null null" ] || fail "Wi-Fi create offline: $(pw $W $w1)"
create $W W2 222222
w2=$P
delete $W $w2
[ "$(pw $W $w2)" = "3 null null" ] || fail "Wi-Fi delete offline: $(pw $W $w2)"
device "{\"id\":\"$W\",\"online\":true}"
[ "$(pw $W $w1)" = "2 null null" ] && [ "$(pw $W $w2)" = "0 null null" ] || fail "Wi-Fi coming online: $(pw $W $w1), $(pw $W $w2)"
delete $W $w1
[ "$(pw $W $w1)" = "0 null null" ] || fail "Wi-Fi delete online: $(pw $W $w1)"
ok "wifi: 1 -> 2 and 3 -> 0 on coming online, delete online -> 0, no delivery_status"

# ---- the password control ---------------------------------------------------

want "$(post /_fake/tuya/password "{\"device\":\"$W\",\"name\":\"Operator\",\"pin\":\"123456\",\"effective_time\":$EFF,\"invalid_time\":$INV}")" \
	'.id > 0' true "operator password"
op=$(jq -r .id "$T/ctl")
[ "$op" -gt "$z5" ] || fail "operator password id $op not new"
state
[ "$(jq -r --arg d $W --arg p "$op" '.devices[] | select(.id == $d) | .passwords[] | select((.id | tostring) == $p) | "\(.name) \(.pin) \(.phase)"' "$T/state")" = "Operator 123456 2" ] ||
	fail "operator password in state: $(cat "$T/state")"
want "$(post /_fake/tuya/password "{\"device\":\"$W\",\"id\":$op,\"phase\":12}")" .ok true "set phase 12"
[ "$(listed $W "$op")" = "12 none" ] || fail "phase 12 listed as $(listed $W "$op")"
device "{\"id\":\"$W\",\"online\":true}"
[ "$(pw $W "$op")" = "12 null null" ] || fail "phase 12 moved by a sync: $(pw $W "$op")"
want "$(post /_fake/tuya/password "{\"device\":\"$Z\",\"id\":$z5,\"phase\":1,\"delivery_status\":1}")" .ok true "zigbee phase and status"
[ "$(pw $Z $z5)" = "1 1 false" ] || fail "set zigbee phase: $(pw $Z $z5)"
device "{\"id\":\"$Z\",\"online\":true}"
[ "$(pw $Z $z5)" = "2 2 false" ] || fail "a phase 1 set by hand is delivered on sync: $(pw $Z $z5)"
device "{\"id\":\"$Z\",\"online\":false}"
want "$(post /_fake/tuya/password "{\"device\":\"$Z\",\"name\":\"Offline op\",\"pin\":\"7654321\",\"effective_time\":$EFF,\"invalid_time\":$INV}")" \
	'.id > 0' true "operator password offline"
[ "$(pw $Z "$(jq -r .id "$T/ctl")")" = "1 1 false" ] || fail "operator password on an offline lock"
device "{\"id\":\"$Z\",\"online\":true}"
for bad in "{\"device\":\"$W\",\"id\":$op,\"phase\":2,\"delivery_status\":2}" \
	"{\"device\":\"$W\",\"id\":$op}" "{\"device\":\"$W\",\"id\":$op,\"phase\":100}" \
	"{\"device\":\"$W\",\"id\":$op,\"phase\":2,\"name\":\"x\"}" \
	"{\"device\":\"$W\",\"name\":\"x\",\"pin\":\"12345\",\"effective_time\":$EFF,\"invalid_time\":$INV}" \
	"{\"device\":\"$W\",\"name\":\"x\",\"pin\":\"12345a\",\"effective_time\":$EFF,\"invalid_time\":$INV}" \
	"{\"device\":\"$W\",\"name\":\"x\",\"pin\":\"123456\",\"effective_time\":$INV,\"invalid_time\":$EFF}" \
	"{\"device\":\"$W\",\"name\":\"123456789012345678901\",\"pin\":\"123456\",\"effective_time\":$EFF,\"invalid_time\":$INV}" \
	"{\"device\":\"$W\",\"name\":\"x\",\"pin\":\"123456\",\"effective_time\":$EFF}" \
	"{\"name\":\"x\"}" 'not json'; do
	[ "$(post /_fake/tuya/password "$bad")" = 400 ] || fail "password $bad: $(cat "$T/ctl")"
done
[ "$(post /_fake/tuya/password "{\"device\":\"$W\",\"id\":$z5,\"phase\":2}")" = 404 ] || fail "password of another device"
[ "$(post /_fake/tuya/password '{"device":"nope","id":1,"phase":2}')" = 404 ] || fail "password on an unknown device"
ok "password control: operator password (2 online, 1 offline), undocumented phase 12 kept, bad bodies 400/404"

# ---- /_fake/tuya/reset --------------------------------------------------------

device "{\"id\":\"$W\",\"online\":false,\"linked\":false}"
device "{\"id\":\"$Y\",\"fail_delivery\":0,\"online\":false}"
[ "$(post /_fake/tuya/clock '{"offset_ms":5000}')" = 200 ] || fail "clock"
want "$(post /_fake/tuya/reset)" .ok true "tuya reset"
state
[ "$(jq -r '[.devices[].passwords[]] | length' "$T/state")" = 0 ] || fail "passwords survived a reset"
[ "$(jq -r '"\(.token_requests) \(.refresh_requests) \(.tickets_issued) \(.live_tokens)"' "$T/state")" = "0 0 0 0" ] ||
	fail "counters after a reset: $(cat "$T/state")"
[ "$(jq -r '[.devices[] | "\(.online)/\(.linked)/\(.fail_delivery)"] | join(" ")' "$T/state")" = "true/true/0 true/true/0 true/true/3" ] ||
	fail "devices after a reset: $(cat "$T/state")"
[ "$(code_of GET "/v1.0/devices/$W/door-lock/temp-passwords")" = 1011 ] || fail "old token after a reset: $(cat "$T/tuya")"
token
create $Y Y1 7777777
[ "$P" -gt "$op" ] || fail "password id $P reused after a reset"
[ "$(pw $Y $P)" = "5 3 false" ] || fail "data-file fail_delivery after a reset: $(pw $Y $P)"
[ "$(post /_fake/tuya/reset)" = 200 ] && [ "$(get /_fake/tuya/reset)" = 405 ] || fail "reset methods"
ok "tuya reset: passwords, tickets, tokens, counters gone; devices as in the data file; ids go on"

# ---- clients: the detail call, and Stays' 400 for invalid stored data (§5) --

C1='{"_id":"6650f1a0c3d4e5f6a7b8c9aa","kind":"person","fName":"Maria","lName":"Silva","name":"Maria Silva","email":"maria@example.com","contactEmails":[{"adr":"maria@example.com","type":"main"}],"phones":[{"iso":"+5521987654321","hint":"AirBnB"}],"prefLang":"pt_BR",  "n":1.50}'
C2='{"_id":"6650f1a0c3d4e5f6a7b8c9ab","name":"Bad Mail","contactEmails":[{"adr":"ok@example.com","type":"main"},{"adr":"joao at example.com","type":"other"}]}'
C3='{"_id":"6650f1a0c3d4e5f6a7b8c9ac","name":"No At","contactEmails":[{"adr":"noat.example.com"}]}'
printf '{"reservations":[%s],\n "clients":[%s,\n  %s,%s]}\n' \
	"$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)" "$C1" "$C2" "$C3" > "$T/stays.json.tmp"
mv "$T/stays.json.tmp" "$T/stays.json"
CLI=/external/v1/booking/clients
[ "$(stays $CLI/6650f1a0c3d4e5f6a7b8c9aa)" = 200 ] || fail "client: $(cat "$T/page")"
[ "$(cat "$T/page")" = "$C1" ] || fail "client not served byte for byte: $(cat "$T/page")"
[ "$(stays $CLI/6650f1a0c3d4e5f6a7b8c9ff)" = 404 ] || fail "unknown client: $(cat "$T/page")"
[ "$(jq -r .message "$T/page")" = "Not found" ] || fail "404 body: $(cat "$T/page")"
[ "$(stays $CLI/6650f1a0c3d4e5f6a7b8c9ab)" = 400 ] || fail "invalid client: $(cat "$T/page")"
# the exact body Stays sends, index of the first bad address in the path
[ "$(cat "$T/page")" = '{"message":"contactEmails/1/adr must match pattern \"^[^@\\s]+@[^@\\s]+$\""}' ] ||
	fail "400 body: $(cat "$T/page")"
[ "$(stays $CLI/6650f1a0c3d4e5f6a7b8c9ac)" = 400 ] &&
	[ "$(jq -r .message "$T/page")" = 'contactEmails/0/adr must match pattern "^[^@\s]+@[^@\s]+$"' ] ||
	fail "400 without '@': $(cat "$T/page")"
[ "$(curl -s -o "$T/page" -w '%{http_code}' "$URL$CLI/6650f1a0c3d4e5f6a7b8c9aa")" = 401 ] &&
	[ "$(jq -r .message "$T/page")" = Unauthorized ] || fail "client without Basic auth: $(cat "$T/page")"
[ "$(curl -s -o "$T/page" -w '%{http_code}' -u "$STAYS_USER:wrong" "$URL$CLI/6650f1a0c3d4e5f6a7b8c9ab")" = 401 ] ||
	fail "invalid client with a wrong password: $(cat "$T/page")"
stays_data "$(resv d650f1a2c3d4e5f6a7b80001 RV001 $L1 2026-12-10 2026-12-12)"
ok "clients: 200 raw item, 404, 400 contactEmails/i/adr must match pattern, 401 before either"

# ---- the hook listener: POST /_fake/hook keeps bodies, GET shows them -------

[ "$(get /_fake/hook)" = 200 ] && [ "$(jq -c . "$T/ctl")" = '[]' ] || fail "no hooks yet: $(cat "$T/ctl")"
[ "$(post /_fake/hook '{"pin":"1234567", "b":[1,2]}')" = 200 ] && [ "$(jq -c . "$T/ctl")" = '{"ok":true}' ] ||
	fail "hook post: $(cat "$T/ctl")"
[ "$(post /_fake/hook 'not json {')" = 200 ] || fail "hook post, not JSON: $(cat "$T/ctl")"
[ "$(curl -s -o "$T/ctl" -w '%{http_code}' -X POST "$URL/_fake/hook")" = 200 ] || fail "empty hook post"
[ "$(get /_fake/hook)" = 200 ] && [ "$(jq -c . "$T/ctl")" = '[{"pin":"1234567","b":[1,2]},"not json {",""]' ] ||
	fail "hook bodies: $(cat "$T/ctl")"
[ "$(curl -s -o "$T/ctl" -w '%{http_code}' -X PUT "$URL/_fake/hook")" = 405 ] || fail "hook PUT"
head -c 70000 /dev/zero | tr '\0' x > "$T/big"
[ "$(curl -s -o "$T/ctl" -w '%{http_code}' --data-binary @"$T/big" "$URL/_fake/hook")" = 413 ] || fail "big hook body"
fault '{"service":"hook","status":500}'
[ "$(post /_fake/hook '{"n":4}')" = 500 ] || fail "hook fault: $(cat "$T/ctl")"
[ "$(post /_fake/hook '{"n":5}')" = 200 ] || fail "hook after its fault: $(cat "$T/ctl")"
[ "$(post /_fake/fault '{"service":"hook","skip":1,"status":500}')" = 400 ] &&
	[ "$(post /_fake/fault '{"service":"hook","code":1010}')" = 400 ] || fail "hook fault keys"
get /_fake/hook >/dev/null
[ "$(jq -c '[.[] | .n? // empty]' "$T/ctl")" = '[5]' ] || fail "faulted body kept: $(cat "$T/ctl")"
reset_faults
[ "$(get /_fake/hook)" = 200 ] && [ "$(jq -c . "$T/ctl")" = '[]' ] || fail "hooks after reset: $(cat "$T/ctl")"
ok "hook listener: bodies as JSON or string, 405, 413, a hook fault keeps nothing, reset clears"

# ---- data file checks; shutdown releases a parked request -------------------

for dev in '{"id":"a1","protocol":"bluetooth"}' '{"id":"a1","fail_delivery":4}' \
	'{"id":"a1","protocol":"zigbee","fail_delivery":1}' '{"id":"a1","protocol":3}'; do
	printf '{"devices":[%s]}\n' "$dev" > "$T/bad.json"
	set +e
	"$BIN/fakeapi" --port-file "$T/bad.port" --tuya-data "$T/bad.json" 2>"$T/bad.err"
	rc=$?
	set -e
	[ $rc = 65 ] && grep -q "devices\[0\]" "$T/bad.err" || fail "data file $dev: exit $rc, $(cat "$T/bad.err")"
done
ok "data file: bad protocol or fail_delivery refused"

hold '{"service":"stays","match":"/booking/reservations?"}'
curl -s -o /dev/null -u "$STAYS_USER:$STAYS_PASS" "$URL$RESV" &
cpid=$!
hold_wait $H
kill "$FAKE_PID"
wait "$FAKE_PID" || fail "fakeapi exited $? with a request parked"
FAKE_PID=
wait $cpid || true
ok "shutdown releases a parked request and the server stops"
