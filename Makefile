# stays-reconcile - GNU make, no configure step.
#
#   make            build both programs into $(BUILD)/
#   make check      unit tests (cmocka) + end-to-end tests against tests/fakeapi
#   make sanitize   the whole suite under ASan + UBSan
#   make valgrind   the whole suite under valgrind
#   make soak       thousands of random histories (tests/history.c)
#   make demo       a full reconcile on a demo data set, then status --json
#   make timeline-png  docs/timeline.png from the demo's timeline page (chromium)
#   make install    PREFIX, DESTDIR, BINDIR, MANDIR are honoured
#   make deb        the Debian package (debian/), built in a copy of the tree
#   make deb-test   install, upgrade, remove and purge that package (root)

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/stays-reconcile
LIBEXECDIR ?= $(PREFIX)/libexec/stays-reconcile
SYSTEMDUNITDIR ?= $(DOCDIR)/systemd
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
WERROR   ?= -Werror
SANFLAGS ?=
PKG_CONFIG ?= pkg-config

# libcurl and libcrypto: headers only.  The programs load them with
# dlopen() when a run first needs them (lib/netlib.c), so an idle run maps
# neither; linking them would make them NEEDED again (tests/t_netlib.sh).
PKGS      = libcjson sqlite3
DL_PKGS   = libcurl libcrypto
TEST_PKGS = cmocka
FAKE_PKGS = libmicrohttpd libcjson libcrypto

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
       -Wmissing-prototypes -Wvla -Wwrite-strings

# Evaluated once, on first use (after the deps check has run).  The flags of
# the test packages are added when they are installed: the programs alone
# build without them (debian/rules does).
pkg = $(shell $(PKG_CONFIG) $(1) $(2))
pkg_if = $(foreach p,$(2),$(shell $(PKG_CONFIG) --exists $(p) 2>/dev/null && $(PKG_CONFIG) $(1) $(p)))
PKG_CFLAGS  = $(eval PKG_CFLAGS := $(call pkg,--cflags,$(PKGS) $(DL_PKGS)) $(call pkg_if,--cflags,$(TEST_PKGS) libmicrohttpd))$(PKG_CFLAGS)
PKG_LIBS    = $(eval PKG_LIBS := $(call pkg,--libs,$(PKGS)) -lm)$(PKG_LIBS)
TEST_LIBS   = $(eval TEST_LIBS := $(call pkg,--libs,$(TEST_PKGS)))$(TEST_LIBS)
FAKE_LIBS   = $(eval FAKE_LIBS := $(call pkg,--libs,$(FAKE_PKGS)))$(FAKE_LIBS)
CURL_LIBS   = $(eval CURL_LIBS := $(call pkg,--libs,libcurl))$(CURL_LIBS)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(WARN) $(WERROR) \
             $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -I. -Ilib -I$(BUILD) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIB_SRC   = $(wildcard lib/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA      = $(BUILD)/libstays.a
PROGS     = $(BUILD)/stays-reconcile $(if $(wildcard pinjobs.c),$(BUILD)/pin-runner)
TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FAKE_SRC  = $(wildcard tests/fakeapi*.c)
FAKE      = $(BUILD)/fakeapi
HISTORY   = $(BUILD)/tests/history

.PHONY: all deps check unit e2e sanitize valgrind soak demo timeline-png bench clean install \
        uninstall lint deb deb-test
.SUFFIXES:

all: $(PROGS)

# tools/deps.sh checks what the build and the tests need (and, as root,
# installs it).  A package build, whose Build-Depends dpkg-buildpackage has
# already checked, passes DEPS_CHECK=true.
DEPS_CHECK ?= sh tools/deps.sh
deps:
	@$(DEPS_CHECK)

$(BUILD)/schema.h: schema.sql tools/embed.sh | deps
	@mkdir -p $(@D)
	sh tools/embed.sh schema_sql < schema.sql > $@.tmp && mv $@.tmp $@

MIGRATIONS = $(sort $(wildcard migrations/*.sql))
$(BUILD)/migrations.h: $(MIGRATIONS) tools/embed.sh | deps
	@mkdir -p $(@D)
	for f in $(MIGRATIONS); do n=$${f##*/}; sh tools/embed.sh migration_$${n%.sql} < $$f || exit 1; done > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(wildcard *.h lib/*.h tests/*.h) $(BUILD)/schema.h $(BUILD)/migrations.h | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

SR_OBJ = $(addprefix $(BUILD)/,reconcile.o status.o onboard.o check.o pins.o maint.o timeline.o \
         cli.o)
$(BUILD)/stays-reconcile: $(SR_OBJ) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(SR_OBJ) $(LIBA) $(PKG_LIBS)

$(BUILD)/pin-runner: $(BUILD)/pinjobs.o $(BUILD)/cli.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/pinjobs.o $(BUILD)/cli.o $(LIBA) $(PKG_LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) $(TEST_LIBS) -pthread

# history.c drives the fake with its own curl calls: it links libcurl.
$(HISTORY): $(BUILD)/tests/history.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) $(CURL_LIBS)

$(FAKE): $(FAKE_SRC:%.c=$(BUILD)/%.o)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(FAKE_LIBS) -lpthread

check: $(PROGS) $(TEST_BINS) $(FAKE) $(HISTORY)
	@$(DEPS_CHECK) --tests
	@sh tests/run.sh $(BUILD)

# Many more random histories than make check runs (tests/history.c).
SOAK_SEEDS ?= 2000
SOAK_JOBS  ?= 2
soak: $(PROGS) $(FAKE) $(HISTORY)
	BIN=$(CURDIR)/$(BUILD) $(HISTORY) --seeds $(SOAK_SEEDS) --first 1000 --jobs $(SOAK_JOBS)

sanitize:
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" check

valgrind: $(PROGS) $(TEST_BINS) $(FAKE) $(HISTORY)
	@CHECK_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect" \
	  sh tests/run.sh $(BUILD)

demo: $(PROGS) $(FAKE)
	@sh tools/demo.sh $(BUILD)

# The README's picture, regenerated from the demo's data, never drawn by hand.
timeline-png: $(PROGS) $(FAKE)
	@sh tools/timeline-png.sh $(BUILD) docs/timeline.png

bench: $(PROGS) $(FAKE)
	@sh tools/bench.sh $(BUILD)

clean:
	rm -rf build build-san

# ---- install: PREFIX, DESTDIR, BINDIR, MANDIR, DOCDIR, LIBEXECDIR ---------
# The programs 755, the pages 644, the docs 644 (the sample Prometheus
# alert rules among them), the example configuration 600 (it is meant to be
# copied to /etc with its credentials filled in), the example on_pin hooks
# 755 in $(LIBEXECDIR) (the path their headers give).
# The systemd units, plain and templates (stays-reconcile@NAME: one Stays
# account each), go to $(SYSTEMDUNITDIR) (default $(DOCDIR)/systemd: they
# are copied to /etc/systemd/system by hand; the Debian package puts them in
# /lib/systemd/system) with ExecStart= in $(BINDIR).
MAN8    = man/stays-reconcile.8 man/pin-runner.8
MAN5    = man/stays-reconcile.conf.5
HOOKS   = contrib/hooks/pin-to-file contrib/hooks/pin-to-url
UNITS   = contrib/systemd/stays-reconcile.service contrib/systemd/stays-reconcile.timer \
          contrib/systemd/pin-runner.service contrib/systemd/pin-runner.timer \
          contrib/systemd/stays-reconcile@.service contrib/systemd/stays-reconcile@.timer \
          contrib/systemd/pin-runner@.service contrib/systemd/pin-runner@.timer
RULES   = contrib/prometheus/stays-reconcile.rules.yml
INSTALL ?= install

install: $(PROGS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 README.md crontab.example $(RULES) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 600 contrib/stays-reconcile.conf.example $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 755 $(HOOKS) $(DESTDIR)$(LIBEXECDIR)/
	for u in $(UNITS); do \
	  f=$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; \
	  sed 's|/usr/local/bin/|$(BINDIR)/|' $$u > $$f && chmod 644 $$f || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stays-reconcile $(DESTDIR)$(BINDIR)/pin-runner
	rm -f $(MAN8:man/%=$(DESTDIR)$(MANDIR)/man8/%) $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%)
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/crontab.example \
	  $(DESTDIR)$(DOCDIR)/stays-reconcile.conf.example \
	  $(HOOKS:contrib/hooks/%=$(DESTDIR)$(LIBEXECDIR)/%) \
	  $(RULES:contrib/prometheus/%=$(DESTDIR)$(DOCDIR)/%) \
	  $(UNITS:contrib/systemd/%=$(DESTDIR)$(SYSTEMDUNITDIR)/%)
	rmdir $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true

# ---- the Debian package (debian/) ----------------------------------------
# deb: dpkg-buildpackage -us -uc -b in a copy of the tree under
# $(BUILD)/deb/src (this tree stays clean); the .deb, .changes and
# .buildinfo land in $(BUILD)/deb/, which the last line names.
# deb-test: install, check, upgrade, remove and purge it on this machine
# (root; refuses to touch an existing installation, see tools/deb-test.sh).
deb:
	@sh tools/deb.sh $(VERSION) $(BUILD)/deb

deb-test: deb $(FAKE)
	@sh tools/deb-test.sh $(BUILD)/deb $(BUILD)

# ---- lint: mandoc on each page, cppcheck and clang-tidy on the sources ---
MANDOC     ?= mandoc
CPPCHECK   ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_SRC    = $(wildcard *.c lib/*.c)
LINT_DEFS   = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -I. -Ilib -I$(BUILD)
# clang-analyzer and bugprone, minus checks that only flag this code's
# deliberate idioms (sizeof of pointer arrays, strcmp as a truth value,
# parameter order, identical branches) or that misfire on va_start.
# ($\ at the end of a line joins it to the next without a space.)
TIDY_CHECKS = -*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.*,$\
-clang-analyzer-optin.performance.Padding,-clang-analyzer-valist.Uninitialized,$\
bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,$\
-bugprone-assignment-in-if-condition,-bugprone-narrowing-conversions,$\
-bugprone-suspicious-string-compare,-bugprone-branch-clone,-bugprone-sizeof-expression

lint: $(BUILD)/schema.h $(BUILD)/migrations.h
	@for m in $(MAN8) $(MAN5); do \
	  echo "$(MANDOC) -Tlint -W warning $$m"; \
	  $(MANDOC) -Tlint -W warning $$m || exit 1; \
	done
	$(CPPCHECK) --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	  --inline-suppr --suppress=missingIncludeSystem $(LINT_DEFS) $(LINT_SRC)
	$(CLANG_TIDY) --quiet --checks='$(TIDY_CHECKS)' --warnings-as-errors='*' \
	  $(LINT_SRC) -- -std=c11 $(LINT_DEFS) $(PKG_CFLAGS)

include tests/fuzz/fuzz.mk

.SECONDARY:
