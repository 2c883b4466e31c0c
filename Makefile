# ratingd -- a replicated movie-rating service on ONC RPC.
#
#   make            build bin/ratingd (replica), bin/ratingfe (front end), bin/rating (client)
#   make demo       install prerequisites, start rpcbind, 3 replicas, a front end, a session
#   make test       install prerequisites, unit tests (cmocka), the simulator, end-to-end tests,
#                   then the multi-host tests (as root with ip netns; otherwise they say why they skip)
#   make sim        the deterministic simulator: 1000 schedules checked for lost writes and
#                   divergence (make sim-long: many more); docs/simulator.md
#   make test-cluster  the multi-host fault tests alone (tests/cluster, network namespaces)
#   make asan       the whole test suite under AddressSanitizer + UBSan (100 simulator schedules)
#   make fuzz       libFuzzer harnesses (fuzz/), FUZZ_SECONDS (15) each; part of make test
#   make fuzz-long  the same for FUZZ_SECONDS=600 each (override on the command line)
#   make soak       the soak test for SOAK_SECONDS (300); make test runs a 20 s one
#   make valgrind   the end-to-end tests (but install, movielens) with the servers under
#                   valgrind: no memory error, no definite or indirect leak; part of CI
#   make install    programs, man pages, example configuration, systemd units, MovieLens and
#                   the /etc/rpc names under DESTDIR/PREFIX (/usr/local); docs/install.md
#   make uninstall  removes them again (a changed configuration stays)
#
# BUILD names the build directory, so sanitizer builds live beside the normal one.

BUILD    ?= build
# Where `make install` puts things (docs/install.md).  SYSCONFDIR is compiled
# into the programs: their default configuration is SYSCONFDIR/ratingd/ratingd.conf.
PREFIX     ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
BIN      ?= $(BUILD)/bin
SAN      ?=
CC       ?= cc

TIRPC_CFLAGS := $(shell pkg-config --cflags libtirpc 2>/dev/null || echo -I/usr/include/tirpc)
TIRPC_LIBS   := $(shell pkg-config --libs libtirpc 2>/dev/null || echo -ltirpc)

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

OPT      ?= -O2 -g
CPPFLAGS += -I$(BUILD)/gen -Icommon -Iserver -Ifrontend -Iclient -Itests/lib $(TIRPC_CFLAGS) -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS   += -std=c11 $(OPT) $(SANFLAGS) -pthread
LDFLAGS  += $(SANFLAGS) -pthread
LDLIBS   += $(TIRPC_LIBS) -lsqlite3 -lcrypto -lm

GEN      := $(BUILD)/gen
GEN_SRC  := $(GEN)/rating_xdr.c $(GEN)/rating_clnt.c
GEN_OBJ  := $(GEN_SRC:$(GEN)/%.c=$(BUILD)/gen/%.o)

COMMON_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c)) $(GEN_OBJ)
SERVER_LIB := $(patsubst %.c,$(BUILD)/%.o,$(filter-out server/main.c,$(wildcard server/*.c)))
FE_LIB     := $(patsubst %.c,$(BUILD)/%.o,$(filter-out frontend/main.c,$(wildcard frontend/*.c)))
CLIENT_LIB := $(patsubst %.c,$(BUILD)/%.o,$(filter-out client/main.c,$(wildcard client/*.c)))
# The history checker (tests/lib): the simulator links it, histcheck wraps it for the fault tests.
HIST_LIB   := $(patsubst %.c,$(BUILD)/%.o,$(filter-out tests/lib/histcheck.c,$(wildcard tests/lib/*.c)))

PROGS := $(BIN)/ratingd $(BIN)/ratingfe $(BIN)/rating $(BIN)/histcheck
SIM_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/sim/*.c))
BENCH := $(BIN)/ratingbench
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
# Helpers the unit tests share (tests/unit/*.c that are not test_*.c), in an archive: a test
# links only those it calls.
UNIT_LIB   := $(BUILD)/tests/libunit.a
UNIT_LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c)))

# Keep test objects: they are not temporaries to delete.
.SECONDARY:

.PHONY: FORCE all demo test unit e2e asan deps clean bench test-cluster fuzz fuzz-long fuzz-bins \
        fuzz-seeds soak valgrind install uninstall sim sim-long
all: $(PROGS) $(BIN)/ratingsim

$(GEN)/rating.h: rating.x
	@mkdir -p $(GEN)
	cd $(GEN) && rm -f rating.h && cp $(CURDIR)/rating.x . && rpcgen -N -M -h rating.x -o rating.h
$(GEN)/rating_xdr.c: rating.x $(GEN)/rating.h
	cd $(GEN) && rm -f rating_xdr.c && rpcgen -N -M -c rating.x -o rating_xdr.c
$(GEN)/rating_clnt.c: rating.x $(GEN)/rating.h
	cd $(GEN) && rm -f rating_clnt.c && rpcgen -N -M -l rating.x -o rating_clnt.c

# Generated code is not warning-free; it gets its own flags.
$(BUILD)/gen/%.o: $(GEN)/%.c
	$(CC) $(CPPFLAGS) -std=gnu11 $(OPT) $(SANFLAGS) -pthread -w -c $< -o $@

# The compiled-in paths, rewritten only when they change (so that objects are
# rebuilt for another PREFIX, and only then).
$(GEN)/paths.h: FORCE
	@mkdir -p $(GEN)
	@printf '#define RATING_SYSCONFDIR "%s"\n' '$(SYSCONFDIR)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@
FORCE:

$(BUILD)/%.o: %.c $(GEN)/rating.h $(GEN)/paths.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BIN)/ratingd: $(BUILD)/server/main.o $(SERVER_LIB) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BIN)/ratingfe: $(BUILD)/frontend/main.o $(FE_LIB) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BIN)/rating: $(BUILD)/client/main.o $(CLIENT_LIB) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/histcheck: $(BUILD)/tests/lib/histcheck.o $(HIST_LIB) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The deterministic simulator (tests/sim): the replica's library in one process.
$(BIN)/ratingsim: $(SIM_OBJ) $(HIST_LIB) $(SERVER_LIB) $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/ratingbench: $(BUILD)/bench/ratingbench.o $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Unit tests link the library part of every program (not the mains).
$(UNIT_LIB): $(UNIT_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_LIB) $(SERVER_LIB) $(FE_LIB) $(CLIENT_LIB) \
                  $(HIST_LIB) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

deps:
	@scripts/setup.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

e2e: $(PROGS) $(BIN)/rawrpc
	@BIN=$(abspath $(BIN)) tests/e2e/run.sh

test-cluster: $(PROGS)
	@BIN=$(abspath $(BIN)) tests/cluster/run.sh

test: deps
	@$(MAKE) --no-print-directory all unit sim fuzz e2e test-cluster

# ---- the deterministic simulator (docs/simulator.md) -----------------------------------
#
#   make sim        SIM_SCHEDULES (1000) schedules from SIM_SEED (1) in SIM_JOBS (2) processes,
#                   3-5 replicas, with the fault classes SIM_FAULTS; then SIM_LOSS_SCHEDULES
#                   (500) of 3 replicas that also lose state (wipes and restored backups,
#                   SIM_LOSS_FAULTS); part of make test
#   make sim-long   SIM_LONG_SCHEDULES (100000) with every fault class (SIM_LONG_FAULTS), for
#                   at most SIM_SECONDS (1800)
#
# With every class at once, 3-5 replicas, a few schedules in a thousand still end diverged
# after chains of wipes and restores (docs/simulator.md lists seeds): sim-long finds them.
SIM_SCHEDULES      ?= 1000
SIM_LONG_SCHEDULES ?= 100000
SIM_SECONDS        ?= 1800
SIM_SEED           ?= 1
SIM_JOBS           ?= 2
SIM_FAULTS         ?= drop,dup,delay,partition,clock,crash,pause,late
SIM_LOSS_SCHEDULES ?= 500
SIM_LOSS_FAULTS    ?= wipe,restore,crash,partition,drop,delay,pause
SIM_LONG_FAULTS    ?= all
SIM_RUN = $(BIN)/ratingsim --seed $(SIM_SEED) --jobs $(SIM_JOBS)

sim: $(BIN)/ratingsim
	$(SIM_RUN) --faults $(SIM_FAULTS) --schedules $(SIM_SCHEDULES)
	$(SIM_RUN) --faults $(SIM_LOSS_FAULTS) --replicas 3 --schedules $(SIM_LOSS_SCHEDULES)

sim-long: $(BIN)/ratingsim
	$(SIM_RUN) --faults $(SIM_LONG_FAULTS) --schedules $(SIM_LONG_SCHEDULES) \
	    --time-limit $(SIM_SECONDS)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT="-O1 -g" SIM_SCHEDULES=100 SIM_LOSS_SCHEDULES=50 all unit sim e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(abspath $(BIN)) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH)
	@BIN=$(abspath $(BIN)) scripts/bench.sh

# ---- hostile input: fuzzing, soak, valgrind (docs/security.md) ----------------
#
# The fuzz harnesses are built with clang and libFuzzer + ASan + UBSan in their own
# directory, against the project's sources compiled the same way (a sub-make with
# BUILD=$(FUZZ_BUILD)).  fuzz/run.sh runs each for FUZZ_SECONDS from fuzz/corpus (the
# committed seeds) plus $(FUZZ_BUILD)/corpus (what earlier runs found); a crash fails the
# target and leaves the reproducer in $(FUZZ_BUILD)/crashes.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 15
FUZZ_TARGETS := xdr handlers rpc_record
FUZZ_CC      ?= clang
FUZZ_MAKE    := --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="-O1 -g" \
                SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
SOAK_SECONDS ?= 300
# Every end-to-end test but install (no servers of its own to check) and movielens (30 s of
# CSV import, which the unit tests cover under ASan), t_cleanup last; about 3 minutes.
VALGRIND_SKIP  ?= install movielens
VALGRIND_TESTS ?= $(filter-out cleanup $(VALGRIND_SKIP),$(patsubst tests/e2e/t_%.sh,%,$(wildcard tests/e2e/t_*.sh))) cleanup

FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
$(BUILD)/fuzz/%.o: CPPFLAGS += -Ifuzz -DFUZZ_SRCDIR='"$(CURDIR)"'
$(BUILD)/fuzz/fuzz_xdr: $(BUILD)/fuzz/fuzz_xdr.o $(CLIENT_LIB) $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@
$(BUILD)/fuzz/fuzz_handlers: $(BUILD)/fuzz/fuzz_handlers.o $(BUILD)/fuzz/fixture.o $(SERVER_LIB) \
                             $(COMMON_OBJ)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@
# This one includes common/rpcsrv.c itself (its connection loop is static).
$(BUILD)/fuzz/fuzz_rpc_record: $(BUILD)/fuzz/fuzz_rpc_record.o $(BUILD)/fuzz/fixture.o \
                               $(SERVER_LIB) $(filter-out $(BUILD)/common/rpcsrv.o,$(COMMON_OBJ))
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@
$(BUILD)/fuzz/seeds: $(BUILD)/fuzz/seeds.o $(COMMON_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

fuzz-bins: $(FUZZ_BINS)

# Hand-made RPC bytes for tests/e2e/t_hostile.sh (plain libc).
$(BIN)/rawrpc: fuzz/rawrpc.c
	@mkdir -p $(BIN)
	$(CC) -D_GNU_SOURCE $(CFLAGS) $(WARN) $(LDFLAGS) $< -o $@

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found (make deps installs it)" >&2; exit 1; }
	@$(MAKE) $(FUZZ_MAKE) fuzz-bins
	@fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-long:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),600)

# Regenerate the committed seed corpora (fuzz/seeds.c).
fuzz-seeds:
	@$(MAKE) $(FUZZ_MAKE) $(FUZZ_BUILD)/fuzz/seeds
	$(FUZZ_BUILD)/fuzz/seeds fuzz/corpus

soak: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(abspath $(BIN)) SOAK_SECONDS=$(SOAK_SECONDS) E2E_TEST_TIMEOUT=$$(($(SOAK_SECONDS) + 300)) \
	    tests/e2e/run.sh soak

# Servers under valgrind (lib.sh prefixes ratingd and ratingfe with E2E_WRAP); a memory
# error or a definite or indirect leak makes a server exit 99 and its test fail.  (Possible
# leaks are printed, not counted: a connection thread still ending at exit shows as one.)
# Builds in $(BUILD) like `all`: BUILD=build-vg keeps it apart.
valgrind: deps
	@command -v valgrind >/dev/null || { echo "make valgrind: valgrind not found (make deps installs it)" >&2; exit 1; }
	@$(MAKE) --no-print-directory all $(BIN)/rawrpc
	@BIN=$(abspath $(BIN)) E2E_SCALE=$${E2E_SCALE:-6} \
	    E2E_WRAP="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
	    tests/e2e/run.sh $(VALGRIND_TESTS)

# ---- install (docs/install.md) ------------------------------------------------------
#
#   make install [PREFIX=/usr/local] [DESTDIR=]    make uninstall (the same variables)
#
# The programs (daemons in SBINDIR, like rpcbind), their man pages, the example
# configuration (SYSCONFDIR/ratingd/ratingd.conf, never overwritten; also
# DATADIR/doc/ratingd/ratingd.conf.example), the systemd units ratingd@ and ratingfe@, the
# MovieLens small set, and the program names in RPCFILE (scripts/rpc-names.sh: once,
# between marker lines).  docs/install.md lists the files; tests/e2e/t_install.sh checks
# that list.  The @VAR@ placeholders in dist/ and the default paths in man/ are replaced by
# the real directories.  PREFIX and SYSCONFDIR are set above (SYSCONFDIR is compiled in).
BINDIR        ?= $(PREFIX)/bin
SBINDIR       ?= $(PREFIX)/sbin
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
DOCDIR        ?= $(DATADIR)/doc/ratingd
LOCALSTATEDIR ?= /var
UNITDIR       ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
RPCFILE       ?= /etc/rpc
INSTALL       ?= install

MAN_PAGES := man/rating.1 man/ratingd.conf.5 man/ratingd.8 man/ratingfe.8
UNITS     := ratingd@.service ratingfe@.service
ML_FILES  := README.txt links.csv movies.csv ratings.csv tags.csv
ML_DIR     = $(DATADIR)/ratingd/ml-latest-small
CONF       = $(SYSCONFDIR)/ratingd/ratingd.conf
SUBST      = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
                 -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
                 -e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g'
MAN_SUBST  = sed -e 's|/etc/ratingd|$(SYSCONFDIR)/ratingd|g' \
                 -e 's|/usr/share/doc/ratingd|$(DOCDIR)|g' \
                 -e 's|/usr/share/ratingd|$(DATADIR)/ratingd|g' \
                 -e 's|/var/lib/ratingd|$(LOCALSTATEDIR)/lib/ratingd|g' \
                 -e 's|/lib/systemd/system|$(UNITDIR)|g'

install: $(PROGS)
	$(INSTALL) -D -m 755 $(BIN)/ratingd $(DESTDIR)$(SBINDIR)/ratingd
	$(INSTALL) -D -m 755 $(BIN)/ratingfe $(DESTDIR)$(SBINDIR)/ratingfe
	$(INSTALL) -D -m 755 $(BIN)/rating $(DESTDIR)$(BINDIR)/rating
	@set -e; for m in $(MAN_PAGES); do \
	    d=$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; echo "install $$m -> $$d"; \
	    $(MAN_SUBST) $$m | $(INSTALL) -D -m 644 /dev/stdin $$d; done
	@set -e; for u in $(UNITS); do \
	    echo "install dist/$$u -> $(DESTDIR)$(UNITDIR)/$$u"; \
	    $(SUBST) dist/$$u | $(INSTALL) -D -m 644 /dev/stdin $(DESTDIR)$(UNITDIR)/$$u; done
	@echo "install dist/ratingd.conf -> $(DESTDIR)$(DOCDIR)/ratingd.conf.example"
	@$(SUBST) dist/ratingd.conf | $(INSTALL) -D -m 644 /dev/stdin $(DESTDIR)$(DOCDIR)/ratingd.conf.example
	@if [ -e $(DESTDIR)$(CONF) ]; then \
	    echo "kept $(DESTDIR)$(CONF) (the new example is $(DESTDIR)$(DOCDIR)/ratingd.conf.example)"; \
	else \
	    echo "install dist/ratingd.conf -> $(DESTDIR)$(CONF)"; \
	    $(SUBST) dist/ratingd.conf | $(INSTALL) -D -m 644 /dev/stdin $(DESTDIR)$(CONF); fi
	@set -e; for f in $(ML_FILES); do \
	    $(INSTALL) -D -m 644 data/ml-latest-small/$$f $(DESTDIR)$(ML_DIR)/$$f; done
	@echo "installed data/ml-latest-small -> $(DESTDIR)$(ML_DIR)"
	@if [ -n "$(DESTDIR)" ] || [ -e $(RPCFILE) ]; then \
	    scripts/rpc-names.sh add $(if $(DESTDIR),--create) $(DESTDIR)$(RPCFILE) dist/rpc; \
	else echo "no $(RPCFILE) (netbase): the program names are not added"; fi

# Removes what install added.  The configuration only if it is still the example (a
# changed one stays, and so does its directory); the ratingd block of RPCFILE (and the
# file itself under DESTDIR if nothing else is in it).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ratingd $(DESTDIR)$(SBINDIR)/ratingfe $(DESTDIR)$(BINDIR)/rating
	@set -e; for m in $(MAN_PAGES); do \
	    echo "rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}"; \
	    rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; done
	rm -f $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) $(DESTDIR)$(DOCDIR)/ratingd.conf.example
	rm -f $(ML_FILES:%=$(DESTDIR)$(ML_DIR)/%)
	@if [ -e $(DESTDIR)$(CONF) ]; then \
	    if $(SUBST) dist/ratingd.conf | cmp -s - $(DESTDIR)$(CONF); then \
	        echo "rm -f $(DESTDIR)$(CONF)"; rm -f $(DESTDIR)$(CONF); \
	    else echo "kept $(DESTDIR)$(CONF): it is not the installed example"; fi; fi
	-@rmdir $(DESTDIR)$(ML_DIR) $(DESTDIR)$(DATADIR)/ratingd $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/ratingd 2>/dev/null || true
	@scripts/rpc-names.sh remove $(if $(DESTDIR),--delete-empty) $(DESTDIR)$(RPCFILE)

clean:
	rm -rf build build-asan $(FUZZ_BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
