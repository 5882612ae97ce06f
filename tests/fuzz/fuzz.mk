# Fuzz targets (docs/fuzzing.md). Included by the Makefile; uses its BUILD,
# PKGS, WARN, CRYPTO_SRC, SRC_LIB, GEN_SRC and ASAN_FLAGS.
#
#   make fuzz                      every target, FUZZ_SECONDS each (clang + libFuzzer)
#   make fuzz FUZZ_TARGETS=fuzz_envelope FUZZ_SECONDS=60
#   make fuzz-build                only build the libFuzzer binaries
#   make fuzz-regress              every seed and saved crash once through every
#                                  target, without libFuzzer (gcc, ASan+UBSan)
#
# Two builds of the same harnesses and library sources, each with its own
# objects so they never mix with the normal or the asan build:
#   $(FUZZ_DIR)/<target>           clang -fsanitize=fuzzer,address,undefined
#   $(FUZZ_DIR)/regress/<target>   $(FUZZ_REGRESS_CC) + tests/fuzz/standalone.c
# Inputs the fuzzer finds go to $(FUZZ_DIR)/corpus/<target> (scratch, not the
# repository), crashes to $(FUZZ_DIR)/artifacts/<target>/. Scripts: run.sh
# (make fuzz), regress.sh (make fuzz-regress), make-seeds.sh (the corpora).

FUZZ_ALL      = fuzz_envelope fuzz_payload fuzz_keyfile fuzz_exportfile fuzz_config \
                fuzz_request fuzz_note fuzz_pow fuzz_jsonbuf fuzz_httpclient
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 600
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_CC      ?= clang
FUZZ_REGRESS_CC ?= gcc
# Extra libFuzzer options for every run, e.g. FUZZ_FLAGS=-jobs=2.
FUZZ_FLAGS   ?=

# The fuzz builds only (never the shipped programs): KEYFILE_FUZZING asks
# crypto/keyfile.c to accept less Argon2id work, so a key file cannot make one
# execution take seconds. No _FORTIFY_SOURCE: ASan checks more.
FUZZ_DEFS     = -DKEYFILE_FUZZING
FUZZ_BASE     = -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Icrypto -Isrc \
                -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS)) $(FUZZ_DEFS)
FUZZ_LIBS     = $(shell pkg-config --libs $(PKGS)) -lpthread
# Harnesses are ours: -Werror. The library is built with the same warnings but
# not -Werror, so a warning only clang gives in someone else's module does not
# stop the fuzzers (the normal build keeps -Werror for it).
FUZZ_LF_SAN   = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_SRC  = $(CRYPTO_SRC) $(SRC_LIB) $(GEN_SRC)
FUZZ_LF_OBJ   = $(patsubst %.c,$(FUZZ_DIR)/obj/lf/%.o,$(FUZZ_LIB_SRC))
FUZZ_RE_OBJ   = $(patsubst %.c,$(FUZZ_DIR)/obj/re/%.o,$(FUZZ_LIB_SRC))

.PHONY: fuzz fuzz-build fuzz-regress fuzz-regress-build

# --- libFuzzer build (clang) -------------------------------------------------
$(FUZZ_DIR)/obj/lf/%.o: %.c
	@mkdir -p $(@D)
	@echo '  FUZZCC $@'
	$(Q)$(FUZZ_CC) $(FUZZ_BASE) $(filter-out -Werror,$(WARN)) $(FUZZ_LF_SAN) \
		-fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/lf/libfuzzlib.a: $(FUZZ_LF_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/lf/libfuzzlib.a
	@mkdir -p $(@D)
	@echo '  FUZZLD $@'
	$(Q)$(FUZZ_CC) $(FUZZ_BASE) $(WARN) $(FUZZ_LF_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

fuzz-build: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

# Each target in turn (the corpus of the repository is read, never written),
# then one summary; exits non-zero when any target crashed.
fuzz: fuzz-build
	@sh tests/fuzz/run.sh '$(FUZZ_DIR)' '$(FUZZ_SECONDS)' '$(FUZZ_FLAGS)' $(FUZZ_TARGETS)

# --- regression build (gcc, no libFuzzer) ------------------------------------
$(FUZZ_DIR)/obj/re/%.o: %.c
	@mkdir -p $(@D)
	@echo '  REGCC $@'
	$(Q)$(FUZZ_REGRESS_CC) $(FUZZ_BASE) $(filter-out -Werror,$(WARN)) $(ASAN_FLAGS) \
		-MMD -MP -c $< -o $@

$(FUZZ_DIR)/re/libfuzzlib.a: $(FUZZ_RE_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/obj/re/standalone.o: tests/fuzz/standalone.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_REGRESS_CC) $(FUZZ_BASE) $(WARN) $(ASAN_FLAGS) -c $< -o $@

$(FUZZ_DIR)/regress/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/obj/re/standalone.o \
		$(FUZZ_DIR)/re/libfuzzlib.a
	@mkdir -p $(@D)
	@echo '  REGLD $@'
	$(Q)$(FUZZ_REGRESS_CC) $(FUZZ_BASE) $(WARN) $(ASAN_FLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz-regress-build: $(addprefix $(FUZZ_DIR)/regress/,$(FUZZ_TARGETS))

# Every seed and every saved crash once through its target, then each known
# bug alone (reported, not failing): tests/fuzz/regress.sh.
fuzz-regress: fuzz-regress-build
	$(Q)sh tests/fuzz/regress.sh '$(FUZZ_DIR)/regress' $(FUZZ_TARGETS)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
