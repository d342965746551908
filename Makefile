# zergling — build, test, bench.
#   make run    build everything and start the HTTP demo on real io_uring
#   make test   install what a fresh Debian 12 machine lacks, build, run every test
SHELL := /bin/bash
.DEFAULT_GOAL := build

NODE      ?= node
NPX       := ./node_modules/.bin
JCO       := $(NPX)/jco
B         := build

# ---- C -> Wasm toolchain: wasi-sdk when WASI_SDK_PATH is set, else the newest Debian clang.
ifneq ($(WASI_SDK_PATH),)
WCC       := $(WASI_SDK_PATH)/bin/clang
SYSROOT   := $(WASI_SDK_PATH)/share/wasi-sysroot
WTARGET   := wasm32-wasip1
else
WCC       := $(firstword $(foreach v,22 19 18 17 16,$(wildcard /usr/bin/clang-$(v))))
SYSROOT   := $(B)/sysroot
WTARGET   := wasm32-wasi
endif
WCFLAGS   := --target=$(WTARGET) --sysroot=$(SYSROOT) -O2 -std=c11 -Wall -Wextra -Werror \
             -Iwasm/include -mexec-model=reactor -fno-exceptions
WLDFLAGS  := -Wl,--strip-all

CORE_SRC  := $(sort $(wildcard wasm/src/*.c))
PROBE_SRC := $(sort $(wildcard wasm/probe/*.c))
WIT       := $(wildcard wasm/wit/*.wit)
GEN       := bridge/gen

.SECONDARY:
.PHONY: setup deps npm build build-tree wasm native prebuilds ts dist run test test-sim test-native test-package sim soak bench bench-bridge browser clean \
        native-asan test-asan test-asan-run fuzz

# ---- setup: Debian packages + npm ci (only Debian's mirrors and the npm registry).
APT_PKGS  := clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc liburing-dev wrk curl chromium musl musl-tools musl-dev
setup: $(B)/.apt node_modules/.ok
$(B)/.apt: Makefile
	@mkdir -p $(B)
	@if ! dpkg -s $(APT_PKGS) >/dev/null 2>&1; then \
	  echo "setup: apt-get install $(APT_PKGS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi
	@touch $@
node_modules/.ok: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# ---- build
# Tools (clang, wasm-ld) are found when this Makefile is parsed, and on a fresh
# machine they only exist after `setup`: so setup runs first and the build runs
# in a new make that parses the Makefile again, with the tools installed.
build: setup
	@$(MAKE) --no-print-directory build-tree
build-tree: wasm native ts dist prebuilds

$(SYSROOT)/.ok:
	@mkdir -p $(B)/sysroot/include $(B)/sysroot/lib
	@for t in wasm32-wasi wasm32-wasip1; do \
	  ln -sfn /usr/include/wasm32-wasi $(B)/sysroot/include/$$t; \
	  ln -sfn /usr/lib/wasm32-wasi $(B)/sysroot/lib/$$t; done
	@touch $@

# The constants C and TS share: one table, two committed views (the generator's
# header says why committed). Regenerated when the table or the generator changes.
CONSTS    := wasm/include/zl_consts.h bridge/consts.ts
$(CONSTS) &: wasm/abi/constants.mjs scripts/gen-constants.mjs
	$(NODE) scripts/gen-constants.mjs

# core.wasm -> component (jco new fails on a C/WIT signature mismatch) -> ES module.
$(B)/wasm/reactor.core.wasm: $(CORE_SRC) $(wildcard wasm/include/*.h wasm/src/*.h) wasm/include/zl_consts.h | $(if $(WASI_SDK_PATH),,$(SYSROOT)/.ok)
	@mkdir -p $(@D)
	$(WCC) $(WCFLAGS) $(ZL_CFLAGS) $(CORE_SRC) $(WLDFLAGS) -o $@
# Deliberately broken cores, for tests only (never shipped):
#   reactor-broken    the stale-token check compiled out: the simulator must catch it
#   reactor-nobudget  no receive budget: the hostile scenarios must catch it
#   reactor-trap      traps on a 13-byte recv: the TS layer must survive a core bug
FAULT_reactor-broken   := -DZL_FAULT_SKIP_STALE_CHECK
FAULT_reactor-nobudget := -DZL_FAULT_NO_RECV_BUDGET
FAULT_reactor-trap     := -DZL_FAULT_TRAP_RECV_LEN=13
VARIANTS  := reactor-broken reactor-nobudget reactor-trap
$(VARIANTS:%=$(B)/wasm/%.core.wasm): $(B)/wasm/%.core.wasm: $(CORE_SRC) $(wildcard wasm/include/*.h wasm/src/*.h) wasm/include/zl_consts.h | $(if $(WASI_SDK_PATH),,$(SYSROOT)/.ok)
	@mkdir -p $(@D)
	$(WCC) $(WCFLAGS) $(FAULT_$*) $(CORE_SRC) $(WLDFLAGS) -o $@
$(B)/wasm/probe.core.wasm: $(PROBE_SRC) $(wildcard wasm/include/*.h wasm/probe/*.h) wasm/include/zl_consts.h | $(if $(WASI_SDK_PATH),,$(SYSROOT)/.ok)
	@mkdir -p $(@D)
	$(WCC) $(WCFLAGS) $(PROBE_SRC) $(WLDFLAGS) -o $@

$(B)/wasm/%.component.wasm: $(B)/wasm/%.core.wasm $(WIT)
	$(NODE) wasm/embed.mjs wasm/wit $(WORLD_$*) $< $(B)/wasm/$*.embed.wasm
	$(JCO) new $(B)/wasm/$*.embed.wasm -o $@
WORLD_reactor := reactor-core
WORLD_probe   := probe
$(foreach v,$(VARIANTS),$(eval WORLD_$(v) := reactor-core))

$(GEN)/%/.ok: $(B)/wasm/%.component.wasm
	@rm -rf $(GEN)/$*
	$(JCO) transpile $< --instantiation sync --import-bindings js -o $(GEN)/$* --name $(if $(filter $(VARIANTS),$*),reactor,$*) --quiet
	@touch $@

# The backend interface: TypeScript generated from the whole WIT world (jco
# transpile only types the imports a module happens to use).
$(GEN)/types/.ok: $(WIT) node_modules/.ok
	@rm -rf $(GEN)/types
	$(JCO) types wasm/wit --world-name reactor-core -o $(GEN)/types --quiet
	@touch $@

wasm: $(GEN)/types/.ok $(GEN)/reactor/.ok $(VARIANTS:%=$(GEN)/%/.ok) $(if $(PROBE_SRC),$(GEN)/probe/.ok)

NATIVE_SRC := $(wildcard native/src/*.cc native/src/*.h) native/binding.gyp native/exports.map
native/build/Release/zergling_native.node: $(NATIVE_SRC) node_modules/.ok
	cd native && ../$(NPX)/node-gyp rebuild --silent $(if $(wildcard /usr/include/node/node_api.h),--nodedir=/usr)
native: native/build/Release/zergling_native.node

# The npm package's helpers, one per C library (native/tools/prebuild.sh says how
# and why zig). After `native`: node-gyp has the Node headers by then.
PREBUILDS := prebuilds/linux-x64-glibc/zergling_native.node prebuilds/linux-x64-musl/zergling_native.node
prebuilds/linux-x64-%/zergling_native.node: $(NATIVE_SRC) native/tools/prebuild.sh | native/build/Release/zergling_native.node
	bash native/tools/prebuild.sh $* $@
prebuilds: $(PREBUILDS)

ts: node_modules/.ok wasm bridge/consts.ts
	$(NPX)/tsc -p tsconfig.json --noEmit

# Plain JavaScript in dist/ (servers and bench run on bare node, without tsx).
dist: ts native
	@rm -rf dist
	$(NPX)/tsc -p tsconfig.build.json
	cp -r $(GEN) dist/bridge/gen
	ln -sfn ../native dist/native

# ---- run: the HTTP demo on real io_uring
PORT ?= 8080
run: build
	$(NODE) dist/examples/http.js --port $(PORT)

# ---- tests: uvu over test/**/*.test.ts; .ci/run reads the plain summary line.
# The sanitizer run (~45 s) is part of it: zero ASan/UBSan reports required.
test: build
	@$(MAKE) --no-print-directory native-asan
	@asan=0; $(MAKE) --no-print-directory test-asan-run || asan=1; \
	  bash test/run.sh && [ $$asan -eq 0 ]

# ---- sanitizers: the helper built with ASan + UBSan into build/asan (the
# normal build in native/build is untouched); node itself is not instrumented,
# so the ASan runtime is preloaded. Node leaks at exit by design: no leak check.
# ZL_DEBUG turns on ZL_DEBUG_ASSERT (helper bugs a release build survives).
# Every report goes to build/asan/logs; any report fails the target.
ASAN_CXX  := $(firstword $(foreach v,22 19 18 17 16,$(wildcard /usr/bin/clang++-$(v))))
ASAN_NODE := $(B)/asan/zergling_native.node
ASAN_LOGS := $(B)/asan/logs
NODE_INC  := $(firstword $(wildcard /usr/include/node) $(wildcard $(HOME)/.cache/node-gyp/$(shell $(NODE) -p process.versions.node 2>/dev/null)/include/node))
ASAN_TESTS ?= ^test/(native|bridge|security|api|contract)/
$(ASAN_NODE): $(NATIVE_SRC)
	@mkdir -p $(@D)
	$(ASAN_CXX) -std=gnu++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -shared-libsan -shared -fPIC -Wall -Wextra -Werror -fvisibility=hidden -pthread -DNAPI_VERSION=8 -D_GNU_SOURCE -DZL_DEBUG \
	  -I$(NODE_INC) $(filter %.cc,$(NATIVE_SRC)) -Wl,--version-script=native/exports.map -l:liburing.a \
	  -Wl,-rpath,$(dir $(shell $(ASAN_CXX) -print-file-name=libclang_rt.asan-x86_64.so)) -o $@
native-asan: $(ASAN_NODE)

test-asan: build
	@$(MAKE) --no-print-directory native-asan
	@$(MAKE) --no-print-directory test-asan-run
# The run alone (make test calls it after its own build); its summary line is
# labelled so that the plain `N passed, N failed, N skipped` line stays the main suite's.
test-asan-run:
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	@ZERGLING_NATIVE_PATH=$(abspath $(ASAN_NODE)) \
	  LD_PRELOAD=$$($(ASAN_CXX) -print-file-name=libclang_rt.asan-x86_64.so) \
	  ASAN_OPTIONS=detect_leaks=0:log_path=$(abspath $(ASAN_LOGS))/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(abspath $(ASAN_LOGS))/ubsan \
	  TEST_LABEL='asan: ' TEST_FILTER='$(ASAN_TESTS)' bash test/run.sh; rc=$$?; \
	  n=$$(cat $(ASAN_LOGS)/* 2>/dev/null | grep -cE 'ERROR: AddressSanitizer|runtime error:'); \
	  echo "sanitizer reports: $$n (logs in $(ASAN_LOGS))"; \
	  [ $$rc -eq 0 ] && [ $$n -eq 0 ]

# ---- fuzz: the probe fuzzer, longer than in `make test` (FUZZ_CALLS x FUZZ_RUNS seeds).
FUZZ_CALLS ?= 10000000
FUZZ_RUNS  ?= 4
fuzz: build
	FUZZ_CALLS=$(FUZZ_CALLS) FUZZ_RUNS=$(FUZZ_RUNS) TEST_TIMEOUT=3600 TEST_FILTER='^test/bridge/fuzz' bash test/run.sh

# The npm package as a user installs it (offline, no compiler on PATH) under
# Node 20/22/24, Bun and Deno, and the prebuilds' link checks; `make test` runs
# these files too.
test-package: build
	@TEST_FILTER='^test/package/' bash test/run.sh

sim: build
	$(NODE) --import tsx test/sim/runner.ts --seeds $(or $(SEEDS),1000)
	SIM_HOSTILE_SEEDS=$(or $(HOSTILE_SEEDS),100) $(NODE) --import tsx test/sim/hostile.test.ts

# Not in CI: SOAK_MINUTES (10) of 1,000 mixed hostile connections; RSS must stay flat.
soak: build
	$(NODE) --import tsx test/hostile/soak.ts

# The browser example (examples/browser), bundled by esbuild, with the core .wasm files.
browser: build
	$(NODE) --import tsx examples/browser/serve.ts --out $(B)/browser

# ROUNDS interleaved rounds (medians quoted); the README's blocks (bench/readme.mjs) are regenerated from the results.
bench: build
	bash bench/run.sh
	@if [ -z "$${OUT:-}" ]; then $(NODE) bench/readme.mjs --write; else echo "bench: OUT is set, README left alone"; fi

# ns per host call -> bench/results/bridge.json; the README's bridge table is regenerated from it.
bench-bridge: build
	$(NODE) --import tsx bench/bridge.ts
	$(NODE) bench/readme.mjs --write

clean:
	rm -rf $(B) $(GEN) native/build dist prebuilds
