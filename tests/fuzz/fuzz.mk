# tests/fuzz/fuzz.mk - libFuzzer targets for the parsers of untrusted and
# operator input; included by the Makefile.
#
#   make fuzz                    build every tests/fuzz/fuzz_*.c into $(FUZZ_BUILD)/
#   make fuzz-regress            each target once over its committed corpus
#   make fuzz-run FUZZ_TIME=30   fuzz each target FUZZ_TIME seconds on a
#                                scratch copy of its corpus; fails on any
#                                crash, leak or timeout
#   FUZZ_TARGETS="fuzz_cron"     limits fuzz-regress and fuzz-run
#
# clang only (libFuzzer).  The lib/ sources are compiled here again with the
# fuzzer's coverage instrumentation and ASan + UBSan, into $(FUZZ_BUILD)/:
# build/libstays.a is gcc's and uninstrumented.  Each target links the
# archive, so it pulls in only the lib/ objects it uses.  The runner is
# tools/fuzz.sh; seeds are tests/fuzz/corpus/<target>/, dictionaries
# tests/fuzz/<target>.dict.  An input that crashes on a bug not fixed yet
# goes to tests/fuzz/crashes/<target>/, which nothing replays; once fixed,
# it moves into the corpus as a regression seed.

CLANG        ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_TIME    ?= 30
FUZZ_TIMEOUT ?= 10
FUZZ_TARGETS ?=
FUZZ_SAN      = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# lib/ is held to -Werror by gcc and the linters.  Here only the targets get
# $(WERROR): clang's -Wformat=2 also flags lib/'s vsnprintf wrappers (turned
# off), and a clang-only warning in lib/ should not stop the fuzzing.
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(WARN) \
                -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
                -I. -Ilib -I$(FUZZ_BUILD) $(PKG_CFLAGS)

FUZZ_SRC     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIBA    = $(FUZZ_BUILD)/libstays.a
FUZZ_ENV     = FUZZ_TARGETS='$(FUZZ_TARGETS)' FUZZ_TIMEOUT='$(FUZZ_TIMEOUT)'

.PHONY: fuzz fuzz-run fuzz-regress fuzz-clean

fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/schema.h: schema.sql tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh schema_sql < schema.sql > $@.tmp && mv $@.tmp $@

$(FUZZ_BUILD)/migrations.h: $(MIGRATIONS) tools/embed.sh
	@mkdir -p $(@D)
	for f in $(MIGRATIONS); do n=$${f##*/}; sh tools/embed.sh migration_$${n%.sql} < $$f || exit 1; done > $@.tmp && mv $@.tmp $@

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) $(FUZZ_BUILD)/schema.h $(FUZZ_BUILD)/migrations.h | deps
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Wno-format-nonliteral -c -o $@ $<

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c $(wildcard lib/*.h) | deps
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(WERROR) -c -o $@ $<

$(FUZZ_LIBA): $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_LIBA)
	$(CLANG) $(LDFLAGS) $(FUZZ_SAN) -o $@ $< $(FUZZ_LIBA) $(PKG_LIBS)

fuzz-regress: $(FUZZ_BINS)
	@$(FUZZ_ENV) sh tools/fuzz.sh regress $(FUZZ_BUILD)

fuzz-run: $(FUZZ_BINS)
	@$(FUZZ_ENV) sh tools/fuzz.sh run $(FUZZ_BUILD) $(FUZZ_TIME)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

clean: fuzz-clean
