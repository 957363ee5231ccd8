#!/bin/sh
# deb-test.sh DEBDIR BUILD - the Debian package on this machine, from install
# to purge (make deb-test; CI runs it as root on a fresh Debian 12).
#
# lintian on the build (errors and warnings fail: each warning is fixed or
# overridden with its reason), then `apt-get install ./DEB`: the user stays
# (system, nologin), /var/lib/stays-reconcile 0700 stays:stays,
# /etc/stays-reconcile.conf a conffile 0600 owned by stays, the pages, the
# hooks, the units (none enabled), the cron file (every line commented out);
# `check`, a reconcile and a pin-runner run as stays against the fake Stays
# and Tuya server (BUILD/fakeapi) on 127.0.0.1; a reinstall and an upgrade
# over it keep the configuration, its local change and the database;
# `remove` keeps data, configuration and user; `purge` takes them all.
#
# It installs and purges a package, creates and deletes a user: it runs only
# as root (else exit 77, which is not a pass), and refuses (exit 1) to run
# where the package, the user stays or its files already are, so that it
# never destroys a real installation.  DEB_TEST_FORCE=1 runs it anyway and
# leaves the machine with none of them.  On any failure the trap purges what
# it installed.  At the end the machine must be as it was found.
set -eu
debdir=${1:?usage: deb-test.sh DEBDIR BUILD}
build=${2:?usage: deb-test.sh DEBDIR BUILD}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
case "$debdir" in /*) ;; *) debdir=$top/$debdir ;; esac
case "$build" in /*) ;; *) build=$top/$build ;; esac

PKG=stays-reconcile
CONF=/etc/stays-reconcile.conf
STATE=/var/lib/stays-reconcile
export DEBIAN_FRONTEND=noninteractive
# Another apt or dpkg at work (unattended-upgrades, a CI step) is waited for.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }

if [ "$(id -u)" != 0 ]; then
	echo "deb-test: needs root (it installs and purges the package and the user stays); skipped, exit 77" >&2
	exit 77
fi
for t in apt-get dpkg dpkg-query dpkg-statoverride lintian runuser sqlite3 getent; do
	command -v "$t" >/dev/null 2>&1 || { echo "deb-test: $t not found" >&2; exit 69; }
done
arch=$(dpkg --print-architecture)
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
deb=$debdir/${PKG}_${version}_$arch.deb
changes=$debdir/${PKG}_${version}_$arch.changes
{ [ -f "$deb" ] && [ -f "$changes" ]; } || { echo "deb-test: no $deb (run make deb)" >&2; exit 1; }
[ -x "$build/fakeapi" ] || { echo "deb-test: no $build/fakeapi (make $build/fakeapi)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/stays-debtest.XXXXXX")
FAKE_PID=
installed=

# state: what of the package is on this machine, one line each.
state() {
	s=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true)
	echo "package ${s:-not-installed}"
	getent passwd stays >/dev/null && echo "user stays" || echo "user none"
	getent group stays >/dev/null && echo "group stays" || echo "group none"
	for p in "$CONF" /etc/stays-reconcile "$STATE" /etc/cron.d/stays-reconcile \
		/usr/bin/stays-reconcile /usr/bin/pin-runner /lib/systemd/system/stays-reconcile.timer; do
		[ -e "$p" ] && echo "present $p" || echo "absent $p"
	done
	dpkg-statoverride --list "$CONF" >/dev/null 2>&1 && echo "statoverride $CONF" || echo "statoverride none"
}

cleanup() {
	rc=$?
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	if [ -n "$installed" ] && [ "$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true)" != not-installed ] &&
		dpkg-query -W "$PKG" >/dev/null 2>&1; then
		echo "deb-test: purging $PKG after the failure" >&2
		apt_get purge -y -q "$PKG" >"$T/cleanup.log" 2>&1 || dpkg --purge "$PKG" >>"$T/cleanup.log" 2>&1 ||
			cat "$T/cleanup.log" >&2
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() {
	echo "ok - $*"
}
# run LOG command...: output to $T/LOG, shown if it fails.
run() {
	log=$T/$1
	shift
	"$@" >"$log" 2>&1 || { cat "$log" >&2; fail "'$*' failed"; }
}
# mode_owner PATH: "0700 stays:stays"
mode_owner() {
	stat -c '%04a %U:%G' "$1"
}
as_stays() {
	runuser -u stays -- "$@"
}

# 1. lintian on the .changes (the .deb and the .buildinfo).
lintian --fail-on error,warning "$changes" >"$T/lintian" 2>&1 || {
	cat "$T/lintian" >&2
	fail "lintian: errors or warnings (fix them, or override with a reason in debian/$PKG.lintian-overrides)"
}
grep -E '^[EW]: ' "$T/lintian" >&2 && fail "lintian"
ok "lintian $(basename "$changes"): no error, no warning"

# 2. The machine as found; refuse to touch an installation.
cat > "$T/state.clean" <<EOF
package not-installed
user none
group none
absent $CONF
absent /etc/stays-reconcile
absent $STATE
absent /etc/cron.d/stays-reconcile
absent /usr/bin/stays-reconcile
absent /usr/bin/pin-runner
absent /lib/systemd/system/stays-reconcile.timer
statoverride none
EOF
state > "$T/state.before"
if ! cmp -s "$T/state.before" "$T/state.clean"; then
	echo "deb-test: this machine already has $PKG, the user stays or its files:" >&2
	diff "$T/state.clean" "$T/state.before" | sed -n 's/^> /  /p' >&2
	if [ "${DEB_TEST_FORCE:-}" != 1 ]; then
		echo "deb-test: refusing to run (it purges them at the end); DEB_TEST_FORCE=1 to run anyway" >&2
		exit 1
	fi
	echo "deb-test: DEB_TEST_FORCE=1: going on; the end leaves none of them" >&2
fi

# 3. Install.
installed=yes
run install.log apt_get install -y -q "$deb"
[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$PKG")" = "installed $version" ] || fail "$PKG $version is not installed"
pw=$(getent passwd stays) || fail "no user stays"
uid=$(echo "$pw" | cut -d: -f3)
[ "$(echo "$pw" | cut -d: -f7)" = /usr/sbin/nologin ] || fail "user stays has shell $(echo "$pw" | cut -d: -f7)"
[ "$(echo "$pw" | cut -d: -f6)" = "$STATE" ] || fail "user stays has home $(echo "$pw" | cut -d: -f6)"
[ "$uid" -lt 1000 ] || fail "user stays (uid $uid) is not a system user"
[ "$(id -gn stays)" = stays ] || fail "user stays has primary group $(id -gn stays)"
[ "$(mode_owner "$STATE")" = "0700 stays:stays" ] || fail "$STATE is $(mode_owner "$STATE")"
[ "$(mode_owner "$CONF")" = "0600 stays:stays" ] || fail "$CONF is $(mode_owner "$CONF")"
dpkg-query -W -f='${Conffiles}\n' "$PKG" > "$T/conffiles"
grep -q "^ $CONF [0-9a-f]*$" "$T/conffiles" || fail "$CONF is not a conffile: $(cat "$T/conffiles")"
grep -q "^ /etc/cron.d/stays-reconcile [0-9a-f]*$" "$T/conffiles" || fail "the cron file is not a conffile"
ok "installed: user stays (system, uid $uid, nologin), $STATE 0700, $CONF 0600 stays:stays, a conffile"

for f in /usr/bin/stays-reconcile /usr/bin/pin-runner \
	/usr/libexec/stays-reconcile/pin-to-file /usr/libexec/stays-reconcile/pin-to-url; do
	{ [ -f "$f" ] && [ -x "$f" ]; } || fail "$f is not an installed program"
done
for f in /usr/share/man/man8/stays-reconcile.8.gz /usr/share/man/man8/pin-runner.8.gz \
	/usr/share/man/man5/stays-reconcile.conf.5.gz /usr/share/doc/$PKG/README.Debian.gz \
	/usr/share/doc/$PKG/copyright; do
	[ -f "$f" ] || fail "$f is not installed"
done
for u in stays-reconcile.service stays-reconcile.timer pin-runner.service pin-runner.timer \
	stays-reconcile@.service stays-reconcile@.timer pin-runner@.service pin-runner@.timer; do
	[ -f "/lib/systemd/system/$u" ] || fail "unit $u is not installed"
	grep -q '^ExecStart=/usr/bin/' "/lib/systemd/system/$u" ||
		case "$u" in *.timer) ;; *) fail "$u: $(grep ExecStart "/lib/systemd/system/$u")" ;; esac
done
# Not enabled: no symlink to them anywhere in /etc/systemd (systemctl
# is-enabled needs a running systemd, which a container may not have).
enabled=$(find /etc/systemd -lname '*stays-reconcile*' -o -lname '*pin-runner*' 2>/dev/null)
[ -z "$enabled" ] || fail "units enabled: $enabled"
if command -v systemd-analyze >/dev/null 2>&1; then
	# The templates with an instance, as systemd would load them.
	# Documentation=man:... is checked where man is installed.
	man=--man=yes
	command -v man >/dev/null 2>&1 || man=--man=no
	run analyze.log systemd-analyze verify "$man" stays-reconcile@deb-test.service stays-reconcile@deb-test.timer \
		pin-runner@deb-test.service pin-runner@deb-test.timer stays-reconcile.service pin-runner.service
	[ ! -s "$T/analyze.log" ] || fail "systemd-analyze verify: $(cat "$T/analyze.log")"
	ok "systemd-analyze verify: the units and the templates with an instance"
else
	echo "# no systemd-analyze here: the units are not verified"
fi
[ -f /etc/cron.d/stays-reconcile ] || fail "no /etc/cron.d/stays-reconcile"
active=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' /etc/cron.d/stays-reconcile || true)
[ -z "$active" ] || fail "cron lines not commented out: $active"
grep -q '^#.*stays[[:space:]]*stays-reconcile$' /etc/cron.d/stays-reconcile || fail "the cron file has no stays-reconcile line to uncomment"
grep -q '^#.*stays[[:space:]]*pin-runner -c /etc/stays-reconcile/' /etc/cron.d/stays-reconcile || fail "the cron file has no per-account line"
ok "programs, hooks, pages, units (none enabled), cron file (all commented out)"

# 4. Against the fake server, as stays, with the database in $STATE.
cp tests/fixtures/demo-stays.json "$T/stays.json"
cp tests/fixtures/demo-tuya.json "$T/tuya.json"
"$build/fakeapi" --port-file "$T/port" --log "$T/requests.log" \
	--stays-data "$T/stays.json" --tuya-data "$T/tuya.json" 2>"$T/fakeapi.err" &
FAKE_PID=$!
i=0
while [ ! -s "$T/port" ]; do
	i=$((i + 1))
	{ [ $i -lt 200 ] && kill -0 "$FAKE_PID" 2>/dev/null; } || fail "fakeapi did not start: $(cat "$T/fakeapi.err")"
	sleep 0.05
done
url=http://127.0.0.1:$(cat "$T/port")
chmod 711 "$T"
tconf=$T/test.conf
cat > "$tconf" <<EOF
; deb-test: fake credentials for the fake server on 127.0.0.1
[database]
path = $STATE/stays.db
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
EOF
chown stays:stays "$tconf"
chmod 600 "$tconf"
now=2026-12-01T12:00:00Z
run check1.log as_stays stays-reconcile -c "$tconf" --now $now check
run locks.log as_stays stays-reconcile -c "$tconf" locks add 63dd7e20333d8b60be510f9c bf0123456789abcdefxyzq --name "Copacabana 302 front door"
run reconcile.log as_stays stays-reconcile -c "$tconf" -v --now $now run
run pins.log as_stays pin-runner -c "$tconf" --now 2026-12-01T17:00:00Z
run check2.log as_stays stays-reconcile -c "$tconf" --now 2026-12-01T17:00:00Z check
[ "$(mode_owner "$STATE/stays.db")" = "0600 stays:stays" ] || fail "the database is $(mode_owner "$STATE/stays.db")"
n=$(sqlite3 -batch -noheader "file:$STATE/stays.db?mode=ro" 'SELECT count(*) FROM reservations')
[ "$n" -gt 0 ] || fail "the reconcile stored no reservation"
p=$(sqlite3 -batch -noheader "file:$STATE/stays.db?mode=ro" "SELECT count(*) FROM pin_jobs WHERE status = 'done'")
[ "$p" -gt 0 ] || fail "pin-runner ran no job: $(cat "$T/pins.log")"
bad=$(find "$STATE" ! -user stays)
[ -z "$bad" ] || fail "files in $STATE not owned by stays: $bad"
ok "check, locks add, a reconcile ($n reservations) and pin-runner (done jobs: $p) as stays in $STATE"

# 5. A local change to the configuration, then reinstall and upgrade.
echo "; deb-test: a local change that upgrades must keep" >> "$CONF"
sum() {
	sha256sum "$CONF" "$STATE/stays.db" /etc/cron.d/stays-reconcile
	mode_owner "$CONF"
	mode_owner "$STATE"
	getent passwd stays
}
sum > "$T/sum.before"
run reinstall.log apt_get install -y -q --reinstall "$deb"
sum > "$T/sum.after"
diff -u "$T/sum.before" "$T/sum.after" >&2 || fail "the reinstall changed the configuration, the database or the user"
ok "reinstall over itself: configuration (with its local change), owner, mode, database and user kept"

# A newer version of the same package (version +debtest1, contents equal):
# the path of a real upgrade through the maintainer scripts.
mkdir "$T/pkg"
dpkg-deb -R "$deb" "$T/pkg/root"
sed -i "s/^Version: .*/Version: $version+debtest1/" "$T/pkg/root/DEBIAN/control"
run repack.log dpkg-deb --root-owner-group -b "$T/pkg/root" "$T/pkg/${PKG}_${version}+debtest1_$arch.deb"
run upgrade.log apt_get install -y -q "$T/pkg/${PKG}_${version}+debtest1_$arch.deb"
[ "$(dpkg-query -W -f='${Version}' "$PKG")" = "$version+debtest1" ] || fail "the upgrade did not happen"
sum > "$T/sum.after"
diff -u "$T/sum.before" "$T/sum.after" >&2 || fail "the upgrade changed the configuration, the database or the user"
run jobs.log as_stays stays-reconcile -c "$tconf" --now 2026-12-01T17:00:00Z jobs
ok "upgrade to $version+debtest1: the same kept; jobs reads the database"

# 6. remove: data, configuration and user stay.
run remove.log apt_get remove -y -q "$PKG"
[ "$(dpkg-query -W -f='${db:Status-Status}' "$PKG")" = config-files ] || fail "after remove: $(dpkg-query -W -f='${db:Status-Status}' "$PKG")"
{ [ ! -e /usr/bin/stays-reconcile ] && [ ! -e /usr/bin/pin-runner ]; } || fail "remove left the programs"
sum > "$T/sum.after"
diff -u "$T/sum.before" "$T/sum.after" >&2 || fail "remove changed the configuration, the database or the user"
ok "remove: the programs gone; configuration, cron file, database and user kept"

# 7. purge: everything goes.
mkdir -p /etc/stays-reconcile
install -o stays -g stays -m 600 "$tconf" /etc/stays-reconcile/deb-test.conf
run purge.log apt_get purge -y -q "$PKG"
installed=
state > "$T/state.after"
diff -u "$T/state.clean" "$T/state.after" >&2 || fail "purge left something behind"
ok "purge: configuration, per-account configurations, database, cron file, user and group gone; the machine is as found"
