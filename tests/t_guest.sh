#!/bin/sh
# t_guest.sh - the on_pin hook gets the guest, end to end against the fake
# Stays and Tuya: stays-reconcile looks each guest up once (the single
# reservation, then its client) before the PIN's job can be seen, keeps
# what a client Stays cannot read gives, retries a failed look-up next
# run without failing, tells -v nothing personal, forgets the guest after
# the stay; pin-runner's and `pins --resend`'s hook input carries the
# guest, the listing, the lock and the stay in local time.
. "$(dirname "$0")/lib.sh"

L1=63dd7e20333d8b60be510f9c
D1=bf0123456789abcdefxyzq
R1=c650f1a2c3d4e5f6a7b80001
R2=c650f1a2c3d4e5f6a7b80002
R3=c650f1a2c3d4e5f6a7b80003
R4=c650f1a2c3d4e5f6a7b80004
C1=6650f1a0c3d4e5f6a7b8c901
C2=6650f1a0c3d4e5f6a7b8c902
C3=6650f1a0c3d4e5f6a7b8c903
C4=6650f1a0c3d4e5f6a7b8c904
cp "$TOP/tests/fixtures/demo-tuya.json" "$T/tuya.json"

# gresv ID CODE CHECKIN CHECKOUT CLIENT PRIMARY-NAME PHONE: a reservation as
# the single GET answers it (stays-api.md §3), with guestsDetails.list.
gresv() {
	printf '{"_id":"%s","id":"%s","creationDate":"2026-11-01","checkInDate":"%s","checkInTime":"15:00","checkOutDate":"%s","checkOutTime":"11:00","_idlisting":"%s","_idclient":"%s","type":"booked","guests":2,"guestsDetails":{"adults":2,"children":0,"infants":0,"list":[{"type":"adult","name":"adult_1"},{"type":"adult","name":"%s","_idcontact":"%s","phones":[{"iso":"%s","hint":"AirBnB"}],"primary":true}]}}' \
		"$1" "$2" "$3" "$4" "$L1" "$5" "$6" "$5" "$7"
}
data() {	# data RESERVATION...: the fake's file, with listings and clients
	{
		printf '{"reservations":['
		sep=
		for o in "$@"; do printf '%s%s\n' "$sep" "$o"; sep=,; done
		cat <<EOJ
],
"listings":[{"_id":"$L1","id":"CP302","internalName":"Copacabana 302","status":"active","address":{"city":"Rio de Janeiro"}}],
"clients":[
 {"_id":"$C1","kind":"person","fName":"Maria","lName":"Silva","name":"Maria Silva","email":"maria@example.com","prefLang":"pt_BR","phones":[{"iso":"+5521987654321","hint":"AirBnB"}]},
 {"_id":"$C2","kind":"person","name":"John Smith","contactEmails":[{"adr":"john at example","type":"main"}],"prefLang":"en_US"},
 {"_id":"$C3","kind":"person","name":"Ana Souza","email":"ana@example.com","prefLang":"pt_BR"},
 {"_id":"$C4","kind":"person","name":"Late Guest","email":"late@example.com","prefLang":"es"}
]}
EOJ
	} > "$T/stays.json.tmp"
	mv "$T/stays.json.tmp" "$T/stays.json"
}
data "$(gresv $R1 RV001 2026-12-03 2026-12-05 $C1 'Maria Silva' +5521987654321)" \
	"$(gresv $R2 RV002 2026-12-06 2026-12-08 $C2 'John Smith' '+1 415 555 0100')" \
	"$(gresv $R3 RV003 2026-12-09 2026-12-11 $C3 'Ana Souza' +5511912345678)"
start_fake
write_config
cat >> "$T/stays.conf" <<EOC
[hooks]
on_pin = $T/on_pin
EOC
printf '#!/bin/sh\ncat >> "%s/on_pin.out"\necho >> "%s/on_pin.out"\n' "$T" "$T" > "$T/on_pin"
chmod 700 "$T/on_pin"
expect 0 sr locks add --no-check --name "Front door" $L1 $D1

# RV003's reservation cannot be read this run: its look-up fails, the run
# does not; the look-ups that follow are put off to the next run.
fault "{\"service\":\"stays\",\"match\":\"/booking/reservations/$R3\",\"status\":500,\"times\":-1}"
expect 0 sr -v --now $NOW
grep -q '^guest of RV001: looked up (name, phone, e-mail, language)$' "$T/out" || fail "RV001: $(cat "$T/out")"
grep -q '^guest of RV002: looked up (name, phone); Stays answered HTTP 400 for client .*contactEmails/0/adr must match pattern' "$T/out" ||
	fail "RV002: $(cat "$T/out")"
grep -q '^guest of RV003: look-up failed (Stays is unavailable: HTTP 500 for reservation .*); tried again next run$' "$T/out" ||
	fail "RV003: $(cat "$T/out")"
! grep -qi 'maria\|smith\|example.com\|5521' "$T/out" "$T/err" || fail "-v told personal data: $(cat "$T/out" "$T/err")"
[ "$(sql "SELECT name, phone, email, language FROM guests WHERE reservation_id = '$R1'")" = \
	"Maria Silva|+5521987654321|maria@example.com|pt_BR" ] || fail "R1 guest: $(sql 'SELECT * FROM guests')"
# A client whose stored data Stays cannot read (stays-api.md §5): what the
# reservation gave is kept, and the look-up is final.
[ "$(sql "SELECT name, phone, email, language, looked_up_at IS NOT NULL FROM guests WHERE reservation_id = '$R2'")" = \
	"John Smith|+1 415 555 0100|||1" ] || fail "R2 guest: $(sql 'SELECT * FROM guests')"
[ "$(sql "SELECT attempts, looked_up_at IS NULL FROM guests WHERE reservation_id = '$R3'")" = "1|1" ] ||
	fail "R3 guest: $(sql 'SELECT * FROM guests')"
[ "$(grep -c '/content/listings/' "$T/requests.log")" = 1 ] || fail "listing read more than once: $(cat "$T/requests.log")"
[ "$(sql "SELECT name FROM listing_names WHERE listing_id = '$L1'")" = "Copacabana 302" ] || fail "listing name"
ok "guests looked up once, a client Stays cannot read is kept partial, a failure is not fatal"

# The next run retries RV003 and asks for nobody else.
reset_faults
: > "$T/requests.log"
expect 0 sr -v --now 2026-12-01T12:30:00Z
grep -q '^guest of RV003: looked up (name, phone, e-mail, language)$' "$T/out" || fail "retry: $(cat "$T/out")"
[ "$(grep -c '/booking/reservations/\|/booking/clients/' "$T/requests.log")" = 2 ] ||
	fail "asked again for known guests: $(cat "$T/requests.log")"
ok "a failed look-up is retried by the next run, and only it"

# pin-runner: the hook gets the guest, the listing, the lock, local times.
expect 0 pr --now 2026-12-03T16:00:00Z
h=$(head -n 1 "$T/on_pin.out")
echo "$h" | jq -e --arg d $D1 --arg l $L1 '
	.reservationCode == "RV001" and .pin != null and
	.guest == {"name": "Maria Silva", "phone": "+5521987654321", "email": "maria@example.com", "language": "pt_BR"} and
	.listing == {"id": $l, "name": "Copacabana 302"} and .lock == {"id": $d, "name": "Front door"} and
	.lockName == "Front door" and .timezone == "America/Sao_Paulo" and
	.checkIn == "2026-12-03T18:00:00Z" and .checkInLocal == "2026-12-03T15:00" and
	.checkOut == "2026-12-05T14:00:00Z" and .checkOutLocal == "2026-12-05T11:00" and
	.validFrom == "2026-12-03T18:00:00Z" and .validFromLocal == "2026-12-03T15:00" and
	.validUntilLocal == "2026-12-05T11:00" and .guests == 2' >/dev/null || fail "hook input: $h"
[ "$(echo "$h" | jq -r 'keys_unsorted | join(",")')" = \
	"reservationId,reservationCode,listingId,deviceId,lockName,pin,validFrom,validUntil,validFromLocal,validUntilLocal,checkIn,checkOut,checkInLocal,checkOutLocal,timezone,guests,guest,listing,lock" ] ||
	fail "hook members: $h"
expect 0 pr --now 2026-12-06T16:00:00Z
sed -n 3p "$T/on_pin.out" | jq -e '.reservationCode == "RV002" and .guest.name == "John Smith" and
	.guest.email == null and .guest.language == null' >/dev/null || fail "RV002 hook: $(cat "$T/on_pin.out")"
ok "on_pin gets the guest, the listing, the lock and the stay in local time"

# A last-minute booking: its guest is asked for before its PIN's job
# exists.  Hold the look-up; meanwhile pin-runner, when the PIN is already
# due, finds nothing to do; released, the run commits, and the PIN's hook
# has the guest.
data "$(gresv $R1 RV001 2026-12-03 2026-12-05 $C1 'Maria Silva' +5521987654321)" \
	"$(gresv $R2 RV002 2026-12-06 2026-12-08 $C2 'John Smith' '+1 415 555 0100')" \
	"$(gresv $R3 RV003 2026-12-09 2026-12-11 $C3 'Ana Souza' +5511912345678)" \
	"$(gresv $R4 RV004 2026-12-07 2026-12-08 $C4 'Late Guest' +34600000000)"
hold "{\"service\":\"stays\",\"match\":\"/booking/clients/$C4\"}"
bg_sr --now 2026-12-07T16:30:00Z
hold_wait "$H"
expect 0 pr --now 2026-12-07T16:30:00Z
[ "$(sql "SELECT count(*) FROM pin_jobs WHERE reservation_id = '$R4'")" = 0 ] || fail "RV004's job visible during its look-up"
! grep -q RV004 "$T/on_pin.out" || fail "RV004 hook ran before its guest was known"
hold_release "$H"
bg_wait 0
expect 0 pr --now 2026-12-07T16:31:00Z
grep RV004 "$T/on_pin.out" | jq -e '.guest.name == "Late Guest" and .guest.language == "es"' >/dev/null ||
	fail "RV004 hook: $(grep RV004 "$T/on_pin.out")"
ok "a last-minute booking's job is not visible before its guest look-up; its hook has the guest"

# pins --resend: the same input, from the database.
: > "$T/on_pin.out"
expect 0 sr --now 2026-12-07T17:00:00Z pins --resend RV004
jq -e '.reservationCode == "RV004" and .guest.email == "late@example.com" and
	.listing.name == "Copacabana 302"' "$T/on_pin.out" >/dev/null || fail "resend: $(cat "$T/on_pin.out")"
ok "pins --resend sends the guest too"

# After the stay, the guest is forgotten; a canceled stay's at once.
expect 0 sr --now 2026-12-10T12:00:00Z
[ "$(sql "SELECT group_concat(reservation_id) FROM (SELECT reservation_id FROM guests ORDER BY 1)")" = "$R3" ] ||
	fail "guests kept: $(sql 'SELECT reservation_id FROM guests')"
data "$(printf '%s' "$(gresv $R3 RV003 2026-12-09 2026-12-11 $C3 'Ana Souza' +5511912345678)" | sed 's/"booked"/"canceled"/')"
expect 0 sr --now 2026-12-10T12:30:00Z
[ "$(sql 'SELECT count(*) FROM guests')" = 0 ] || fail "canceled guest kept: $(sql 'SELECT * FROM guests')"
ok "guests forgotten after the stay or the cancellation"

# A 401 on the client: the run still succeeds; the guest has what the
# reservation gave.
data "$(gresv $R1 RV001 2026-12-13 2026-12-15 $C1 'Maria Silva' +5521987654321)"
fault '{"service":"stays","match":"/booking/clients/","status":401,"times":-1}'
expect 0 sr -v --now 2026-12-11T12:00:00Z
grep -q '^guest of RV001: looked up (name, phone); Stays refused the credentials (HTTP 401)' "$T/out" ||
	fail "401: $(cat "$T/out")"
ok "a refused client call is not fatal"
