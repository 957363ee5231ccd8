#!/bin/sh
# deps.sh [--tests] - make sure the build dependencies are installed
# (Debian 12); with --tests (make check) also what only the tests use.
#
# Checks each library with pkg-config.  These are the -dev packages: libcurl
# and libcrypto are loaded with dlopen() at run time (lib/netlib.c), but
# their headers still give the types and constants, and the -dev packages
# pull in the runtime ones (libcurl4, libssl3) that the Debian package
# names in its Depends.  When something is missing and we are
# root, installs the Debian packages with apt-get; otherwise prints the exact
# command to run and fails.
set -u

missing=""
need() {	# need PKGCONFIG_NAME DEBIAN_PACKAGE
	if ! pkg-config --exists "$1" 2>/dev/null; then
		missing="$missing $2"
	fi
}

if ! command -v pkg-config >/dev/null 2>&1; then
	missing="$missing pkg-config"
fi
need libcurl libcurl4-openssl-dev
need libcjson libcjson-dev
need sqlite3 libsqlite3-dev
need libcrypto libssl-dev
need cmocka libcmocka-dev
need libmicrohttpd libmicrohttpd-dev
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
[ -d /usr/share/zoneinfo/America ] || missing="$missing tzdata"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
command -v flock >/dev/null 2>&1 || missing="$missing util-linux"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ "${1:-}" = --tests ]; then
	# promtool (test_metrics, t_metrics.sh); xmllint and a headless browser
	# for the timeline page (t_timeline.sh).
	command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
	command -v xmllint >/dev/null 2>&1 || missing="$missing libxml2-utils"
	command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
fi

[ -z "$missing" ] && exit 0

cmd="apt-get install -y$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing" >&2
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive $cmd >/dev/null; }; then
		echo "deps: could not install; run as root: apt-get update && $cmd" >&2
		exit 1
	fi
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: install them with: sudo apt-get update && sudo $cmd" >&2
exit 1
