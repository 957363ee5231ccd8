# stays-reconcile - GNU make, no configure step.
#
#   make            build both programs into $(BUILD)/
#   make check      unit tests (cmocka) + end-to-end tests against tests/fakeapi
#   make sanitize   the whole suite under ASan + UBSan
#   make valgrind   the whole suite under valgrind
#   make demo       a full reconcile on a demo data set, then status --json
#   make install    PREFIX, DESTDIR, BINDIR, MANDIR are honoured

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/stays-reconcile
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
WERROR   ?= -Werror
SANFLAGS ?=
PKG_CONFIG ?= pkg-config

PKGS      = libcurl libcjson sqlite3 libcrypto
TEST_PKGS = cmocka
FAKE_PKGS = libmicrohttpd libcjson libcrypto

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
       -Wmissing-prototypes -Wvla -Wwrite-strings

# Evaluated once, on first use (after the deps check has run).
pkg = $(shell $(PKG_CONFIG) $(1) $(2))
PKG_CFLAGS  = $(eval PKG_CFLAGS := $(call pkg,--cflags,$(PKGS) $(TEST_PKGS) libmicrohttpd))$(PKG_CFLAGS)
PKG_LIBS    = $(eval PKG_LIBS := $(call pkg,--libs,$(PKGS)) -lm)$(PKG_LIBS)
TEST_LIBS   = $(eval TEST_LIBS := $(call pkg,--libs,$(TEST_PKGS)))$(TEST_LIBS)
FAKE_LIBS   = $(eval FAKE_LIBS := $(call pkg,--libs,$(FAKE_PKGS)))$(FAKE_LIBS)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(WARN) $(WERROR) \
             $(CFLAGS) $(SANFLAGS) -I. -Ilib -I$(BUILD) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIB_SRC   = $(wildcard lib/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA      = $(BUILD)/libstays.a
PROGS     = $(BUILD)/stays-reconcile $(if $(wildcard pinjobs.c),$(BUILD)/pin-runner)
TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FAKE_SRC  = $(wildcard tests/fakeapi*.c)
FAKE      = $(BUILD)/fakeapi

.PHONY: all deps check unit e2e sanitize valgrind demo bench clean install uninstall lint
.SUFFIXES:

all: $(PROGS)

deps:
	@sh tools/deps.sh

$(BUILD)/schema.h: schema.sql tools/embed.sh | deps
	@mkdir -p $(@D)
	sh tools/embed.sh schema_sql < schema.sql > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(wildcard lib/*.h) cli.h $(BUILD)/schema.h | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/stays-reconcile: $(BUILD)/reconcile.o $(BUILD)/status.o $(BUILD)/cli.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/reconcile.o $(BUILD)/status.o $(BUILD)/cli.o $(LIBA) $(PKG_LIBS)

$(BUILD)/pin-runner: $(BUILD)/pinjobs.o $(BUILD)/cli.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/pinjobs.o $(BUILD)/cli.o $(LIBA) $(PKG_LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) $(TEST_LIBS) -pthread

$(FAKE): $(FAKE_SRC:%.c=$(BUILD)/%.o)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(FAKE_LIBS) -lpthread

check: $(PROGS) $(TEST_BINS) $(FAKE)
	@sh tests/run.sh $(BUILD)

sanitize:
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" check

valgrind: $(PROGS) $(TEST_BINS) $(FAKE)
	@CHECK_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect" \
	  sh tests/run.sh $(BUILD)

demo: $(PROGS) $(FAKE)
	@sh tools/demo.sh $(BUILD)

bench: $(PROGS) $(FAKE)
	@sh tools/bench.sh $(BUILD)

clean:
	rm -rf build build-san

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stays-reconcile $(DESTDIR)$(BINDIR)/pin-runner
.SECONDARY:
