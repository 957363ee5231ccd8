#!/bin/sh
# t_install.sh - `make install` into a temporary DESTDIR, like a packager:
# both programs (755), the three man pages (644), crontab.example and the
# example configuration (600) under share/doc/stays-reconcile, the example
# hooks (755) in libexec/stays-reconcile, the systemd units (plain and
# templates); BINDIR, MANDIR, DOCDIR, LIBEXECDIR and SYSTEMDUNITDIR
# honoured; `make uninstall` leaves no file behind.
# Also that the installed documents agree with the code: the crontab and
# the timer run reconcile on the [schedule] cron default, and every key of
# lib/config.c is in the example configuration and in the conf page.
#
# The nested make uses the build folder under test ($BIN) and must not
# rebuild anything (it would do so without the flags of `make sanitize`):
# the test checks with `make -n` first, and compares the installed
# programs with the built ones.
. "$(dirname "$0")/lib.sh"

ROOT=$T/root

# mk ARGS...: make in the source tree, on the build folder under test, without
# the MAKEFLAGS (jobserver, variables) of the `make check` that runs us.
mk() {
	(
		unset MAKEFLAGS MFLAGS MAKELEVEL
		make -C "$TOP" --no-print-directory BUILD="$BIN" DESTDIR="$ROOT" "$@"
	)
}

# A file that must be installed, and its mode.
want() {	# want MODE PATH
	[ -f "$ROOT$2" ] || fail "not installed: $2 (installed: $(cd "$ROOT" && find . -type f | sort | tr '\n' ' '))"
	m=$(stat -c %a "$ROOT$2")
	[ "$m" = "$1" ] || fail "$2 is installed with mode $m, expected $1"
}

# No file left under $ROOT (directories may stay: they can be shared).
empty_root() {
	left=$(cd "$ROOT" 2>/dev/null && find . ! -type d | sort | tr '\n' ' ')
	[ -z "$left" ] || fail "$1 left files behind: $left"
}

mk -n install PREFIX=/usr > "$T/plan" 2>&1 || fail "make -n install failed: $(cat "$T/plan")"
! grep -Eq -e ' -c -o ' -e '(^| )ar ' -e 'embed\.sh' "$T/plan" ||
	fail "make install would rebuild $BIN (run make first): $(grep -E -e ' -c -o ' -e 'ar ' "$T/plan" | head -3)"
before=$(stat -c %Y "$BIN/stays-reconcile" "$BIN/pin-runner")

# 1. PREFIX=/usr, the usual Debian layout.
mk install PREFIX=/usr > "$T/log" 2>&1 || fail "make install failed: $(cat "$T/log")"
want 755 /usr/bin/stays-reconcile
want 755 /usr/bin/pin-runner
want 644 /usr/share/man/man8/stays-reconcile.8
want 644 /usr/share/man/man8/pin-runner.8
want 644 /usr/share/man/man5/stays-reconcile.conf.5
want 644 /usr/share/doc/stays-reconcile/crontab.example
want 600 /usr/share/doc/stays-reconcile/stays-reconcile.conf.example
want 755 /usr/libexec/stays-reconcile/pin-to-file
want 755 /usr/libexec/stays-reconcile/pin-to-url
for u in stays-reconcile pin-runner stays-reconcile@ pin-runner@; do
	want 644 "/usr/share/doc/stays-reconcile/systemd/$u.service"
	want 644 "/usr/share/doc/stays-reconcile/systemd/$u.timer"
done
# An instance NAME of the templates reads /etc/stays-reconcile/NAME.conf and
# keeps its state in /var/lib/stays-reconcile/NAME.
for u in stays-reconcile@ pin-runner@; do
	f=$ROOT/usr/share/doc/stays-reconcile/systemd/$u.service
	grep -q "^ExecStart=/usr/bin/${u%@} -c /etc/stays-reconcile/%i.conf\$" "$f" || fail "$u.service: $(grep ExecStart "$f")"
	grep -q '^StateDirectory=stays-reconcile/%i$' "$f" || fail "$u.service: $(grep StateDirectory= "$f")"
	grep -q '^ReadWritePaths=/var/lib/stays-reconcile/%i$' "$f" || fail "$u.service: $(grep ReadWritePaths "$f")"
done
cmp -s "$TOP/contrib/hooks/pin-to-url" "$ROOT/usr/libexec/stays-reconcile/pin-to-url" || fail "pin-to-url differs"
[ "$(stat -c %Y "$BIN/stays-reconcile" "$BIN/pin-runner")" = "$before" ] || fail "make install rebuilt the programs"
cmp -s "$BIN/stays-reconcile" "$ROOT/usr/bin/stays-reconcile" || fail "installed stays-reconcile differs from $BIN's"
cmp -s "$BIN/pin-runner" "$ROOT/usr/bin/pin-runner" || fail "installed pin-runner differs from $BIN's"
cmp -s "$TOP/man/stays-reconcile.conf.5" "$ROOT/usr/share/man/man5/stays-reconcile.conf.5" || fail "conf page differs"
cmp -s "$TOP/crontab.example" "$ROOT/usr/share/doc/stays-reconcile/crontab.example" || fail "crontab.example differs"
# Anything else goes under the package's folders, readable, not executable.
(cd "$ROOT" && find . ! -type d) | sort > "$T/files"
while read -r f; do
	case "$f" in
	./usr/bin/stays-reconcile | ./usr/bin/pin-runner) ;;
	./usr/libexec/stays-reconcile/pin-to-file | ./usr/libexec/stays-reconcile/pin-to-url) ;;
	./usr/share/man/man[58]/* | ./usr/share/doc/stays-reconcile/*)
		[ -f "$ROOT/$f" ] || fail "$f is not a regular file"
		case "$(stat -c %a "$ROOT/$f")" in 644 | 600) ;; *) fail "$f has mode $(stat -c %a "$ROOT/$f")" ;; esac ;;
	*) fail "unexpected file installed: $f" ;;
	esac
done < "$T/files"
# Systemd units, if installed, start the programs where they were installed.
for u in "$ROOT"/usr/share/doc/stays-reconcile/systemd/*.service; do
	[ -e "$u" ] || continue
	grep -q '^ExecStart=/usr/bin/' "$u" || fail "$(basename "$u"): $(grep ExecStart "$u")"
done
"$ROOT/usr/bin/stays-reconcile" --version | grep -q '^stays-reconcile [0-9]' || fail "installed stays-reconcile --version"
"$ROOT/usr/bin/pin-runner" --version | grep -q '^pin-runner [0-9]' || fail "installed pin-runner --version"
ok "make install PREFIX=/usr DESTDIR=...: programs and hooks 755, pages and units 644, example config 600"

# 2. The documents agree with the code.  The [schedule] cron default, as the
# program reports it with an empty configuration:
: > "$T/empty.conf"
chmod 600 "$T/empty.conf"
STAYS_RECONCILE_DB=$T/none.db expect 3 $CHECK_WRAP "$ROOT/usr/bin/stays-reconcile" -c "$T/empty.conf" status --json
sched=$(jqf "$T/out" .schedule)
[ "$sched" = "*/30 * * * *" ] || fail "the [schedule] cron default is '$sched'; update crontab.example, the timer and this test"
doc=$ROOT/usr/share/doc/stays-reconcile
# The crontab line that runs stays-reconcile (not the comments) and pin-runner's.
line=$(grep -v '^[[:space:]]*#' "$doc/crontab.example" | grep '[[:space:]]stays-reconcile[[:space:]]*$') ||
	fail "no stays-reconcile line in crontab.example"
set -f
set -- $line
set +f
[ "$1 $2 $3 $4 $5" = "$sched" ] || fail "crontab.example runs stays-reconcile at '$1 $2 $3 $4 $5', [schedule] cron is '$sched'"
[ $# = 7 ] || fail "crontab.example line lacks the user field: $line"
line=$(grep -v '^[[:space:]]*#' "$doc/crontab.example" | grep '[[:space:]]pin-runner[[:space:]]*$') ||
	fail "no pin-runner line in crontab.example"
set -f
set -- $line
set +f
[ "$1 $2 $3 $4 $5" = "* * * * *" ] && [ $# = 7 ] || fail "crontab.example pin-runner line: $line"
grep -q '^MAILTO=' "$doc/crontab.example" || fail "crontab.example has no MAILTO"
grep -q '^OnCalendar=\*:0/30$' "$TOP/contrib/systemd/stays-reconcile.timer" || fail "stays-reconcile.timer is not every 30 minutes"
grep -q '^OnCalendar=\*:\*$' "$TOP/contrib/systemd/pin-runner.timer" || fail "pin-runner.timer is not every minute"
grep -q '^OnCalendar=\*:0/30$' "$TOP/contrib/systemd/stays-reconcile@.timer" || fail "stays-reconcile@.timer is not every 30 minutes"
grep -q '^OnCalendar=\*:\*$' "$TOP/contrib/systemd/pin-runner@.timer" || fail "pin-runner@.timer is not every minute"
# The example configuration is valid as installed (mode 600: it holds
# secrets), has the same schedule, and the placeholders are obviously fake.
STAYS_RECONCILE_DB=$T/none.db expect 3 $CHECK_WRAP "$ROOT/usr/bin/stays-reconcile" \
	-c "$doc/stays-reconcile.conf.example" status --json
[ ! -s "$T/err" ] || fail "example config: $(cat "$T/err")"
[ "$(jqf "$T/out" .schedule)" = "$sched" ] || fail "example config schedule: $(jqf "$T/out" .schedule)"
[ "$(grep -c '^client_secret = REPLACE-' "$doc/stays-reconcile.conf.example")" = 2 ] || fail "example secrets are not placeholders"
# Every key of the keys[] table in lib/config.c, in its section.
sed -n 's/^[[:space:]]*{ "\([a-z]*\)", "\([a-z_]*\)", K_.*/\1 \2/p' "$TOP/lib/config.c" > "$T/keys"
[ "$(wc -l < "$T/keys")" -ge 20 ] || fail "could not read the keys of lib/config.c: $(cat "$T/keys")"
awk '/^\[[a-z]+\]/ { s = substr($1, 2, length($1) - 2); next }
     /^;?[a-z_]+ *=/ { k = $0; sub(/^;/, "", k); sub(/ *=.*/, "", k); print s, k }' \
	"$doc/stays-reconcile.conf.example" | sort -u > "$T/example_keys"
while read -r sect key; do
	grep -qx "$sect $key" "$T/example_keys" || fail "key '$key' of [$sect] is missing from stays-reconcile.conf.example"
	grep -q "^\.It Ic $key\( \|$\)" "$TOP/man/stays-reconcile.conf.5" || fail "key '$key' is missing from stays-reconcile.conf(5)"
done < "$T/keys"
ok "crontab.example, timers, example config and conf page agree with the code"

# 3. make uninstall, same variables: nothing left.
mk uninstall PREFIX=/usr > "$T/log" 2>&1 || fail "make uninstall failed: $(cat "$T/log")"
empty_root "make uninstall PREFIX=/usr"
[ ! -e "$ROOT/usr/share/doc/stays-reconcile" ] || fail "make uninstall left $doc"
ok "make uninstall leaves no file behind"

# 4. BINDIR, MANDIR, DOCDIR, LIBEXECDIR and SYSTEMDUNITDIR on their own.
set -- PREFIX=/opt/sr BINDIR=/opt/sr/sbin MANDIR=/opt/sr/man DOCDIR=/opt/sr/doc \
	LIBEXECDIR=/opt/sr/hooks SYSTEMDUNITDIR=/opt/sr/units
mk install "$@" > "$T/log" 2>&1 || fail "make install $*: $(cat "$T/log")"
want 755 /opt/sr/sbin/stays-reconcile
want 755 /opt/sr/sbin/pin-runner
want 644 /opt/sr/man/man8/pin-runner.8
want 644 /opt/sr/man/man5/stays-reconcile.conf.5
want 600 /opt/sr/doc/stays-reconcile.conf.example
want 755 /opt/sr/hooks/pin-to-file
want 644 /opt/sr/units/pin-runner@.service
grep -q '^ExecStart=/opt/sr/sbin/pin-runner -c ' "$ROOT/opt/sr/units/pin-runner@.service" || fail "pin-runner@.service ExecStart"
[ ! -e "$ROOT/usr" ] || [ -z "$(cd "$ROOT/usr" && find . ! -type d)" ] || fail "files installed under /usr with $*"
mk uninstall "$@" > "$T/log" 2>&1 || fail "make uninstall $*: $(cat "$T/log")"
empty_root "make uninstall $*"
ok "BINDIR, MANDIR, DOCDIR, LIBEXECDIR, SYSTEMDUNITDIR honoured by install and uninstall"

# 5. The units as systemd reads them, the templates with an instance (where
# systemd-analyze is installed): installed without DESTDIR, so that
# ExecStart= names a program that is there.
if command -v systemd-analyze >/dev/null 2>&1; then
	P=$T/prefix
	(
		unset MAKEFLAGS MFLAGS MAKELEVEL
		make -C "$TOP" --no-print-directory BUILD="$BIN" PREFIX="$P" install
	) > "$T/log" 2>&1 || fail "make install PREFIX=$P: $(cat "$T/log")"
	u=$P/share/doc/stays-reconcile/systemd
	for t in stays-reconcile pin-runner; do
		cp "$u/$t@.service" "$u/$t@acct1.service"
		cp "$u/$t@.timer" "$u/$t@acct1.timer"
	done
	(cd "$u" && systemd-analyze verify --man=no stays-reconcile.service stays-reconcile.timer \
		pin-runner.service pin-runner.timer stays-reconcile@acct1.service stays-reconcile@acct1.timer \
		pin-runner@acct1.service pin-runner@acct1.timer) > "$T/log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/log")"
	[ ! -s "$T/log" ] || fail "systemd-analyze verify: $(cat "$T/log")"
	ok "systemd-analyze verify: the plain units and the templates with an instance"
else
	echo "# no systemd-analyze: the units are not verified"
fi
