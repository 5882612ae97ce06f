# sealtip — build, test and run. Needs only make (and git) to start: `make deps`
# installs the rest from Debian's packages (see .ci/deps).

CC        ?= cc
PKGS       = libsodium jansson libmicrohttpd sqlite3 libseccomp
TEST_PKGS  = cmocka
BUILD     ?= build
WARN       = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wpointer-arith -Wformat=2 -Wvla
# pkg-config runs when a recipe expands these, i.e. after `deps` has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
OPT       ?= -O2 -D_FORTIFY_SOURCE=2
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) -fstack-protector-strong \
             -Icrypto -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) $(SANITIZE) $(CFLAGS)
LDFLAGS_ALL = $(SANITIZE) $(LDFLAGS)

CRYPTO_SRC = $(sort $(wildcard crypto/*.c))
# src/ modules shared by the programs (everything but their mains and commands).
SRC_LIB    = $(filter-out src/sealtip.c src/sealtipd.c src/cmd_%.c,$(sort $(wildcard src/*.c)))
TOOL_SRC   = src/sealtip.c $(sort $(wildcard src/cmd_*.c))
GEN_SRC    = $(BUILD)/gen/formdata.c
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))

CRYPTO_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(CRYPTO_SRC))
LIB_OBJ    = $(patsubst %.c,$(BUILD)/obj/%.o,$(SRC_LIB)) $(BUILD)/obj/gen/formdata.o
TOOL_OBJ   = $(patsubst %.c,$(BUILD)/obj/%.o,$(TOOL_SRC))

Q          = $(if $(V),,@)
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all web-skipped deps run test check unit cli js integration browser web bench clean format help \
        valgrind
.DEFAULT_GOAL := all

# The page and its manifest need libsodium.js from npm (make deps installs
# it). Without it, make still builds both programs (an offline machine needs
# only sealtip) and says what it left out.
WEB_READY  = $(wildcard node_modules/libsodium-wrappers-sumo/package.json)
all: $(BUILD)/sealtip $(BUILD)/sealtipd $(if $(WEB_READY),web,web-skipped)

web-skipped:
	@echo "  (the page and $(BUILD)/web.manifest are not built: run make deps first)"

help:
	@echo "make          build $(BUILD)/sealtip, $(BUILD)/sealtipd, the page and its manifest"
	@echo "make run      install dependencies, build, start a demo"
	@echo "make test     install dependencies, build, run every test (also under ASan+UBSan)"
	@echo "make valgrind unit and CLI tests under valgrind memcheck (about 10 minutes)"
	@echo "make fuzz     libFuzzer on every target, FUZZ_SECONDS each (default 600)"
	@echo "make bench    benchmarks (not tests): ratios to raw limits measured in the same run"
	@echo "make deps     install missing Debian packages (as root) or print the command"
	@echo "make format   apply .clang-format to C sources"
	@echo "make check    what make test runs, without installing dependencies first"
	@echo "make unit | cli | js | integration | browser | fuzz-regress   one kind of test"
	@echo "make web      the served page (build/web) and build/web.manifest"
	@echo "make clean    remove build/"

deps:
	@sh .ci/deps

$(BUILD)/libsealtip.a: $(CRYPTO_OBJ)
	@mkdir -p $(@D)
	@echo '  AR    $@'
	$(Q)ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

# The form definition and English labels are compiled in, so `sealtip open`
# on an offline machine needs nothing but its own binary.
$(BUILD)/gen/formdata.c: web/form.json web/i18n/en.json tests/embed.sh
	@mkdir -p $(@D)
	@echo '  GEN   $@'
	$(Q)sh tests/embed.sh $@ formdata_form web/form.json formdata_labels web/i18n/en.json

# src/ modules go in an archive too, so each program pulls in only what it uses.
$(BUILD)/libsealtip-src.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo '  AR    $@'
	$(Q)ar rcs $@ $^

$(BUILD)/sealtip: $(TOOL_OBJ) $(BUILD)/libsealtip-src.a $(BUILD)/libsealtip.a
	@echo '  CC    $@'
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/sealtipd: $(BUILD)/obj/src/sealtipd.o $(BUILD)/libsealtip-src.a $(BUILD)/libsealtip.a
	@echo '  CC    $@'
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsealtip-src.a $(BUILD)/libsealtip.a
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags $(TEST_PKGS)) -o $@ $^ \
		$(PKG_LIBS) $(shell pkg-config --libs $(TEST_PKGS)) -lpthread $(LDFLAGS_ALL)

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libsealtip-src.a $(BUILD)/libsealtip.a
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread $(LDFLAGS_ALL)

unit: $(UNIT_TESTS)
	@sh tests/run-unit.sh $(UNIT_TESTS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsealtip-src.a $(BUILD)/libsealtip.a
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(LDFLAGS_ALL)

# Preloaded by the CLI and integration tests to make an fsync of one folder
# fail. Built without the sanitizers: it only forwards a system call.
FAIL_FSYNC = $(BUILD)/tools/fail_dir_fsync.so
$(FAIL_FSYNC): tests/tools/fail_dir_fsync.c
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE -O2 $(WARN) -fPIC -shared -o $@ $<

# Preloaded by the CLI and integration tests: a ^C at a chosen moment.
SIGNAL_INJECT = $(BUILD)/tools/signal_inject.so
$(SIGNAL_INJECT): tests/tools/signal_inject.c
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE -O2 $(WARN) -fPIC -shared -o $@ $<

# Writes export files signed by a fixed test key (tests/fuzz/make-seeds.sh
# uses it for the seeds; the CLI tests for an export too large to keep).
SEEDGEN = $(BUILD)/tools/seedgen
$(SEEDGEN): tests/fuzz/seedgen.c $(BUILD)/libsealtip.a
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(LDFLAGS_ALL)

# Preloaded by the integration tests: a wall clock they set (a UTC hour's or
# day's end, a suspend, a clock set back) while sealtipd runs.
FAKE_CLOCK = $(BUILD)/tools/fake_clock.so
$(FAKE_CLOCK): tests/tools/fake_clock.c
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE -O2 $(WARN) -fPIC -shared -o $@ $< -ldl

# Preloaded by the integration tests: a name resolver that stalls, or hands
# out addresses that go nowhere, in front of the client's connection.
SLOW_RESOLVER = $(BUILD)/tools/slow_resolver.so
$(SLOW_RESOLVER): tests/tools/slow_resolver.c
	@mkdir -p $(@D)
	@echo '  CC    $@'
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE -O2 $(WARN) -fPIC -shared -o $@ $< -ldl

cli: $(BUILD)/sealtip $(BUILD)/tools/vector_tool $(FAIL_FSYNC) $(SIGNAL_INJECT) $(SEEDGEN)
	@SEALTIP=$(BUILD)/sealtip VECTOR_TOOL=$(BUILD)/tools/vector_tool FAIL_FSYNC=$(FAIL_FSYNC) \
		SIGNAL_INJECT=$(SIGNAL_INJECT) SEEDGEN=$(SEEDGEN) \
		bash tests/cli/run.sh

# The served page: web/ plus libsodium.js from node_modules (pinned by
# package-lock.json, never committed), assembled by web/build.sh, which also
# writes $(BUILD)/web.manifest, the sha256sum list of it (docs/audit.md).
WEB_SRC = $(shell find web -type f 2>/dev/null)
web: $(BUILD)/web/.built $(BUILD)/web.manifest

# build.sh writes both; a manifest deleted on its own is made again.
$(BUILD)/web.manifest: $(BUILD)/web/.built
	$(Q)test -f $@ || sh web/build.sh $(BUILD)/web

$(BUILD)/web/.built: $(WEB_SRC) package-lock.json
	@echo '  WEB   $(BUILD)/web'
	$(Q)sh web/build.sh $(BUILD)/web
	@touch $@

# Integration tests: the real sealtipd on a random loopback port (node's test runner).
integration: all $(FAIL_FSYNC) $(SIGNAL_INJECT) $(FAKE_CLOCK) $(SLOW_RESOLVER)
	@SEALTIP_BUILD=$(BUILD) node --test tests/integration/

# JS unit tests of the page's crypto (node's test runner): vectors, and
# envelopes it makes opened by $(BUILD)/sealtip; the page's log verifier
# against the C one ($(BUILD)/tools/log_verify, log_differential.test.js).
js: all $(BUILD)/tools/log_verify
	@SEALTIP_BUILD=$(BUILD) node --test tests/js/

# The page in real headless Chromium against the real server.
browser: all web
	@SEALTIP_BUILD=$(BUILD) node --test tests/browser/

# Memcheck over the C unit tests and the CLI tests (docs/server.md,
# "Valgrind"). Not in `check`: about 10 minutes on two busy cores; for CI.
# Exit status 97, not 1: 1 is sealtip's own failure, which the CLI tests
# expect in places. test_sandbox is left out: valgrind 3.19 has no Landlock
# calls and its own system calls would run under the test's seccomp filter.
VALGRIND = valgrind -q --error-exitcode=97 --leak-check=full \
           --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
           --suppressions=$(abspath tests/valgrind.supp)
VALGRIND_DIR = $(BUILD)/valgrind
valgrind: $(UNIT_TESTS) $(BUILD)/sealtip $(BUILD)/tools/vector_tool $(FAIL_FSYNC) $(SIGNAL_INJECT) \
          $(SEEDGEN)
	@UNIT_RUNNER="$(VALGRIND)" sh tests/run-unit.sh $(filter-out %/test_sandbox,$(UNIT_TESTS))
	@rm -rf $(VALGRIND_DIR) && mkdir -p $(VALGRIND_DIR)/logs
	@for p in sealtip tools/vector_tool; do \
		printf '#!/bin/sh\nexec %s --log-file=%s/logs/%%p.log %s "$$@"\n' \
		    "$(VALGRIND)" "$(abspath $(VALGRIND_DIR))" "$(abspath $(BUILD))/$$p" \
		    >$(VALGRIND_DIR)/$${p#tools/}; chmod +x $(VALGRIND_DIR)/$${p#tools/}; done
	@SEALTIP=$(VALGRIND_DIR)/sealtip VECTOR_TOOL=$(VALGRIND_DIR)/vector_tool FAIL_FSYNC=$(FAIL_FSYNC) \
		SIGNAL_INJECT=$(SIGNAL_INJECT) SEEDGEN=$(SEEDGEN) bash tests/cli/run.sh
	@if grep -l . $(VALGRIND_DIR)/logs/*.log; then \
		cat $(VALGRIND_DIR)/logs/*.log; echo "valgrind: errors in the CLI runs above"; exit 1; \
	else echo "valgrind: CLI runs clean ($$(ls $(VALGRIND_DIR)/logs | wc -l) processes)"; fi

# Everything once, then again under ASan+UBSan (the browser tests once: the
# page is JavaScript, and the server under them already ran sanitized).
check: all
	@$(MAKE) --no-print-directory unit cli js integration browser fuzz-regress
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 SANITIZE="$(ASAN_FLAGS)" unit cli integration

test: deps
	@$(MAKE) --no-print-directory check

run: deps
	@$(MAKE) --no-print-directory all web
	@sh src/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all web $(BUILD)/bench/bench_open $(BUILD)/bench/bench_sha256 $(BUILD)/bench/bench_server \
		$(BUILD)/bench/bench_pow $(BUILD)/bench/bench_tlog
	@sh tests/bench/run.sh $(BUILD)

format:
	clang-format -i crypto/*.[ch] src/*.[ch] tests/unit/*.c tests/bench/*.c

clean:
	rm -rf build

# Fuzz targets (make fuzz, make fuzz-regress): rules in their own file.
-include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
