# ratingd -- a replicated movie-rating service on ONC RPC.
#
#   make            build bin/ratingd (replica), bin/ratingfe (front end), bin/rating (client)
#   make demo       install prerequisites, start rpcbind, 3 replicas, a front end, a session
#   make test       install prerequisites, unit tests (cmocka) and end-to-end tests, then
#                   the multi-host tests (as root with ip netns; otherwise they say why they skip)
#   make test-cluster  the multi-host fault tests alone (tests/cluster, network namespaces)
#   make asan       the whole test suite under AddressSanitizer + UBSan
#
# BUILD names the build directory, so sanitizer builds live beside the normal one.

BUILD    ?= build
BIN      ?= $(BUILD)/bin
SAN      ?=
CC       ?= cc

TIRPC_CFLAGS := $(shell pkg-config --cflags libtirpc 2>/dev/null || echo -I/usr/include/tirpc)
TIRPC_LIBS   := $(shell pkg-config --libs libtirpc 2>/dev/null || echo -ltirpc)

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

OPT      ?= -O2 -g
CPPFLAGS += -I$(BUILD)/gen -Icommon -Iserver -Ifrontend -Iclient $(TIRPC_CFLAGS) -D_GNU_SOURCE
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

PROGS := $(BIN)/ratingd $(BIN)/ratingfe $(BIN)/rating
BENCH := $(BIN)/ratingbench
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

# Keep test objects: they are not temporaries to delete.
.SECONDARY:

.PHONY: all demo test unit e2e asan deps clean bench test-cluster
all: $(PROGS)

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

$(BUILD)/%.o: %.c $(GEN)/rating.h
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

$(BIN)/ratingbench: $(BUILD)/bench/ratingbench.o $(COMMON_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Unit tests link the library part of every program (not the mains).
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(SERVER_LIB) $(FE_LIB) $(CLIENT_LIB) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

deps:
	@scripts/setup.sh

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

e2e: $(PROGS)
	@BIN=$(abspath $(BIN)) tests/e2e/run.sh

test-cluster: $(PROGS)
	@BIN=$(abspath $(BIN)) tests/cluster/run.sh

test: deps
	@$(MAKE) --no-print-directory all unit e2e test-cluster

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT="-O1 -g" all unit e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@BIN=$(abspath $(BIN)) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH)
	@BIN=$(abspath $(BIN)) scripts/bench.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
