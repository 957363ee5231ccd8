#!/bin/sh
# deb.sh VERSION OUTDIR - build the Debian package (debian/) with
# `dpkg-buildpackage -us -uc -b` in a copy of the tree, so that this tree
# stays clean, and leave stays-reconcile_VERSION-N_ARCH.deb with its .changes
# and .buildinfo in OUTDIR, which the last line names.
#
# The copy is what git would commit now (tracked files as they are in the
# working tree, and untracked ones that are not ignored), or, outside a git
# checkout, the whole tree less the build folders.  The package is
# "3.0 (quilt)" with a Debian revision (VERSION-1): the copy is packed as
# the upstream tarball stays-reconcile_VERSION.orig.tar.gz (without
# debian/), as a source build would need it; a binary build (-b) only
# checks that it is there.  VERSION (the Makefile's) must be the upstream
# part of debian/changelog's version: a release bumps both.
set -eu
version=${1:?usage: deb.sh VERSION OUTDIR}
out=${2:?usage: deb.sh VERSION OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

for t in dpkg-buildpackage dpkg-parsechangelog dh; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "deb: $t not found; install: apt-get install -y dpkg-dev debhelper fakeroot build-essential" >&2
		exit 69
	fi
done
debver=$(dpkg-parsechangelog -l debian/changelog -S Version)
case "$debver" in
"$version"-*) ;;
*)
	echo "deb: debian/changelog is at $debver, the Makefile's VERSION is $version: add a changelog entry $version-1 (dch -v $version-1)" >&2
	exit 65
	;;
esac
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

work=$out/src
rm -rf "$work"
mkdir -p "$work/stays-reconcile-$version"
src=$work/stays-reconcile-$version
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Deleted files still in the index are skipped (--ignore-failed-read).
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
else
	tar --exclude=./build --exclude=./build-san --exclude=./build-fuzz --exclude=./.git \
		-cf - . | tar -xf - -C "$src"
fi
[ -f "$src/debian/rules" ] || { echo "deb: the copy in $src has no debian/rules" >&2; exit 70; }
mtime=$(stat -c %Y "$src/debian/changelog")
(cd "$work" && tar --exclude="stays-reconcile-$version/debian" --sort=name --owner=0 --group=0 \
	--mtime="@$mtime" \
	-czf "stays-reconcile_$version.orig.tar.gz" "stays-reconcile-$version")

# The build log goes to a file: on failure its end is shown.
log=$work/build.log
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb: dpkg-buildpackage failed; the whole log: $log" >&2
	exit 1
fi

base=stays-reconcile_${debver}_$arch
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
for f in "$work"/*.deb "$work"/*.ddeb "$work/$base.changes" "$work/$base.buildinfo"; do
	if [ -e "$f" ]; then mv "$f" "$out"/; fi
done
[ -f "$out/$base.deb" ] || { echo "deb: $out/$base.deb was not built (see $log)" >&2; exit 1; }
(cd "$out" && ls -1 -- *.deb *.changes *.buildinfo)
echo "$out"
