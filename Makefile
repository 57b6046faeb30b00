# rinki: authority field-radio and phone-ring gateway.
#
#   make            build rinkid, rinkictl, rinki-web and the device simulators (build/)
#   make demo       install missing Debian packages (as root), build, play one authority call
#   make test       every test, built with ASan/UBSan; make -j2 test runs them in parallel,
#                   logs in build/test-logs/, last line "N passed, N failed"
#   make bench      benchmarks under tests/bench (print figures)
#   make sync-drills  the county sync drills' long forms (about 2 minutes)
#   make fuzz       fuzz targets under tests/fuzz (clang/libFuzzer), run by hand
#   make fuzz-smoke every fuzz target under gcc + ASan/UBSan, seeds + bounded mutations
#   make browser    rinki-web in headless Chromium (tests/browser/), screenshots in build/
#   make firmware   the I/O MCU image for QEMU mps2-an385 (firmware/firmware.mk)
#   make install    DESTDIR/PREFIX honoured
#   make deb        the Debian package (tools/debian), checked with lintian
#   make deb-test   that package installed, run and purged in a clean Debian 12 root (root)
#
# Layout of build/: build/rel (optimised objects), build/san (sanitizer objects),
# binaries at build/ (release) and build/san/bin (sanitizer builds used by tests).

# A recipe that fails leaves no half-written target behind (tests/lint/check-make-failed-target.sh).
.DELETE_ON_ERROR:

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := libserialport alsa libmodbus sqlite3 libcrypto libsodium spandsp sndfile \
	   samplerate

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
BASEFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Igateway $(PKG_CFLAGS) -MMD -MP
# The release build also takes the usual CPPFLAGS, CFLAGS and LDFLAGS (dpkg-buildflags'
# hardening when make deb builds the package); the sanitizer build keeps its own.
REL_CFLAGS := $(BASEFLAGS) -O2 -g $(CPPFLAGS) $(CFLAGS)
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_CFLAGS := $(BASEFLAGS) -O1 -g $(SAN_FLAGS)

# A compile-and-link rule's inputs: its prerequisites without the headers that the
# dependency files (-MMD) add to them; gcc given a header writes a precompiled header.
INPUTS = $(filter-out %.h,$^)

# The gateway's modules (gateway/<layer>/*.c) go into one archive per build; rinkid,
# rinkictl, tests, fuzz targets and benches link it and take only the objects they use.
GW_SRCS   := $(sort $(wildcard gateway/*/*.c))
REL_GW    := build/rel/libgateway.a
SAN_GW    := build/san/libgateway.a
# rinkictl uses the store and the control-socket codec only: no ALSA, spandsp or libmodbus.
CTL_PKGS  := sqlite3 libcrypto libsodium
CTL_LIBS  := $(shell pkg-config --libs $(CTL_PKGS) 2>/dev/null)
# rinki-sync (tools/sync/): the call log to the county's PostgreSQL; only it and its test
# link libpq.
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null)
SYNC_SRCS := $(sort $(wildcard tools/sync/*.c))

# Tools: each tools/<name>.c is one program; tools/sim_*.c is shared simulator code;
# tools/rinkictl_*.c are parts of rinkictl.
SIM_COMMON := $(sort $(wildcard tools/sim_*.c))
CTL_PARTS  := $(sort $(wildcard tools/rinkictl_*.c))
TOOL_NAMES := rinkictl tetra-sim modem-sim
TOOLS      := $(TOOL_NAMES:%=build/%)
SAN_TOOLS  := $(TOOL_NAMES:%=build/san/bin/%)
# rinki-web (tools/web/, the web console): its own objects, plus the store, the control
# socket's codec and core from libgateway; libmicrohttpd only here.
WEB_SRCS     := $(sort $(wildcard tools/web/*.c))
WEB_LIB_SRCS := $(filter-out tools/web/main.c,$(WEB_SRCS))
WEB_LIBS     := $(shell pkg-config --libs libmicrohttpd sqlite3 libcrypto libsodium 2>/dev/null)
WEB_CFLAGS   := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=build/san/unit/%)
INTEG_SRCS := $(filter-out tests/integration/harness.c,$(sort $(wildcard tests/integration/test_*.c)))
INTEG_BINS := $(INTEG_SRCS:tests/integration/%.c=build/san/integ/%)
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))
# Gateway fuzz targets (tests/fuzz/fuzz_fw_* belong to firmware/firmware.mk).
FUZZ_SRCS  := $(filter-out tests/fuzz/fuzz_fw_%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_CC    ?= clang
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=build/bench/%)

# Keep objects that pattern rules build on the way (make would delete them).
.SECONDARY:

.PHONY: all demo test lint unit integration bench fuzz fuzz-smoke install clean deps firmware deb
all: build/rinkid $(TOOLS) build/rinki-web build/rinki-sync

# Debian packages to build, test and run the demo: gateway and tools, then the I/O board's
# firmware (Arm toolchain, QEMU, mbpoll as a second Modbus master). alsa-utils gives the
# audio bench its alsaloop, espeak-ng the VAD test its speech; libmicrohttpd is rinki-web's,
# chromium and python3-websocket drive its browser test (tests/browser/), npm installs
# axe-core for it under build/; debhelper, lintian and devscripts make deb; python3-icalendar
# (with Debian's /usr/bin/python3) checks rinkictl's iCalendar export; postgresql-15
# gives the county sync test its server (initdb, pg_ctl), tzdata the roster test's
# cross-check with the C library. A package counts as
# there when an installed package provides it (NodeSource's nodejs provides npm). As root
# `make deps` installs what is missing with apt-get; otherwise it prints the exact line and
# fails.
DEB_PKGS := gcc make pkg-config libserialport-dev libasound2-dev libmodbus-dev \
	    libsqlite3-dev libcmocka-dev libssl-dev libsodium-dev socat \
	    gcc-arm-none-eabi qemu-system-arm mbpoll \
	    libspandsp-dev libsndfile1-dev libsamplerate0-dev espeak-ng alsa-utils \
	    libmicrohttpd-dev chromium python3-websocket npm debhelper lintian devscripts \
	    python3-icalendar libpq-dev postgresql-15 tzdata systemd

deps:
	@provided=$$(dpkg-query -W -f='$${Status}|$${Provides}\n' 2>/dev/null | \
		sed -n 's/^install ok installed|//p' | tr ',' '\n' | sed 's/ *(.*//; s/^ *//'); \
	missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| echo "$$provided" | grep -qx "$$p" || echo $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then \
		echo "rinki needs these Debian packages; install them with:" >&2; \
		echo "  sudo apt-get install -y" $$missing >&2; exit 1; fi; \
	echo "installing:" $$missing; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

# --- release build ---------------------------------------------------------
build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@

build/rel/libgateway.a: $(GW_SRCS:%.c=build/rel/%.o)
	@rm -f $@
	ar rcs $@ $^

build/san/libgateway.a: $(GW_SRCS:%.c=build/san/%.o)
	@rm -f $@
	ar rcs $@ $^

build/rinkid: build/rel/gateway/main.o $(REL_GW)
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lm

# rinkictl user runs rinki-web's account code (tools/web/usercmd.c on users.c).
CTL_WEB := tools/web/usercmd.c tools/web/users.c tools/web/form.c
build/rinkictl: build/rel/tools/rinkictl.o $(CTL_PARTS:%.c=build/rel/%.o) $(CTL_WEB:%.c=build/rel/%.o) $(REL_GW)
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $(INPUTS) $(CTL_LIBS) -lm
build/rel/tools/rinkictl_user.o: REL_CFLAGS += -Itools
build/san/tools/rinkictl_user.o: SAN_CFLAGS += -Itools

build/rinki-web: $(WEB_SRCS:%.c=build/rel/%.o) $(REL_GW)
	$(CC) $(REL_CFLAGS) -o $@ $(INPUTS) $(WEB_LIBS) -lm
build/rel/tools/web/%.o: REL_CFLAGS += $(WEB_CFLAGS)

build/rinki-sync: $(SYNC_SRCS:%.c=build/rel/%.o) $(REL_GW)
	$(CC) $(REL_CFLAGS) -o $@ $(INPUTS) $(CTL_LIBS) $(PQ_LIBS) -lm

build/tetra-sim: build/rel/tools/tetra-sim.o $(SIM_COMMON:%.c=build/rel/%.o)
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $(INPUTS) -lm

build/modem-sim: build/rel/tools/modem-sim.o $(SIM_COMMON:%.c=build/rel/%.o)
	$(CC) $(REL_CFLAGS) $(LDFLAGS) -o $@ $(INPUTS) -lm

# --- sanitizer build (what make test runs) ---------------------------------
build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c $< -o $@

build/san/bin/rinkid: build/san/gateway/main.o $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lm

build/san/bin/rinkictl: build/san/tools/rinkictl.o $(CTL_PARTS:%.c=build/san/%.o) $(CTL_WEB:%.c=build/san/%.o) $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(CTL_LIBS) -lm

build/san/bin/rinki-web: $(WEB_SRCS:%.c=build/san/%.o) $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(WEB_LIBS) -lm
build/san/tools/web/%.o: SAN_CFLAGS += $(WEB_CFLAGS)
build/san/bin/rinki-sync: $(SYNC_SRCS:%.c=build/san/%.o) $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(CTL_LIBS) $(PQ_LIBS) -lm

build/rel/tools/sync/%.o: REL_CFLAGS += $(PQ_CFLAGS)
build/san/tools/sync/%.o: SAN_CFLAGS += $(PQ_CFLAGS)
# The county sync test talks to its PostgreSQL server itself (libpq) and runs rinki-sync.
build/san/tests/integration/test_sync.o: SAN_CFLAGS += $(PQ_CFLAGS) -Itools/sync
# county.o comes after the archive in $^: the archive again for what it needs (report.o)
build/san/integ/test_sync: PKG_LIBS += $(SAN_GW) $(PQ_LIBS)
build/san/integ/test_sync: build/san/tests/integration/pg_rig.o build/san/tools/sync/county.o \
	build/san/tests/integration/sync_util.o \
	| build/san/bin/rinki-sync
# rinki-web's roster pages against a real rinkid: its objects and libraries.
build/san/tests/integration/test_web_admin.o: SAN_CFLAGS += -Itools
build/san/integ/test_web_admin: build/san/tests/integration/test_web_admin.o \
		build/san/tests/integration/harness.o $(WEB_LIB_SRCS:%.c=build/san/%.o) $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) $(WEB_LIBS) $(CMOCKA_LIBS) -lm

# The county sync drills (test_sync_drills): rinkid, the simulators and rinki-sync, libpq.
# sync_util.o: the county-sync tests' shared helpers (libpq, sqlite3).
build/san/tests/integration/sync_util.o: SAN_CFLAGS += $(PQ_CFLAGS)
build/san/tests/integration/test_sync_drills.o: SAN_CFLAGS += $(PQ_CFLAGS)
build/san/integ/test_sync_drills: PKG_LIBS += $(PQ_LIBS)
build/san/integ/test_sync_drills: build/san/tests/integration/pg_rig.o \
	build/san/tests/integration/sync_util.o | build/san/bin/rinki-sync
# The long forms of the drills, by hand: the county down for 60 s while 100 calls go on.
.PHONY: sync-drills
sync-drills: build/san/integ/test_sync_drills build/san/bin/rinkid $(SAN_TOOLS) build/san/bin/rinki-sync
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 RINKI_BIN=build/san/bin RINKI_DRILL_DOWN_S=60 \
		RINKI_DRILL_GAP_MS=1000 $<

# The standby drill: two rinkid, a county PostgreSQL, rinki-sync.
build/san/tests/integration/test_standby.o: SAN_CFLAGS += $(PQ_CFLAGS)
build/san/integ/test_standby: PKG_LIBS += $(PQ_LIBS)
build/san/integ/test_standby: build/san/tests/integration/pg_rig.o \
	build/san/tests/integration/sync_util.o | build/san/bin/rinki-sync

build/san/bin/%-sim: build/san/tools/%-sim.o $(SIM_COMMON:%.c=build/san/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) -lm

build/san/unit/%: build/san/tests/unit/%.o $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

build/san/integ/%: build/san/tests/integration/%.o build/san/tests/integration/harness.o $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

# pulse: freezes rinkid or a simulator in short random pulses while a test runs, so timing
# races show on an idle machine (tests/integration/pulse.c): build/pulse -n rinkid -- build/san/integ/test_x
all: build/pulse
build/pulse: tests/integration/pulse.c
	$(CC) $(REL_CFLAGS) -o $@ $<

build/bench/%: tests/bench/%.c tests/integration/harness.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests/integration -o $@ $(INPUTS) -lm

build/fuzz/%: tests/fuzz/%.c $(GW_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-Iinclude -Igateway $(PKG_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lm

# --- tests -----------------------------------------------------------------
# make test runs every step: each unit and integration binary, each firmware test, each
# fuzz smoke target, the lint and the short soak. A step is the make target run/<name>
# (tests/run-test.sh), so make -j runs steps in parallel: its output goes to
# build/test-logs/<name>.log, one line "ok|FAIL <seconds> <name>" shows how it went (with
# the log's tail on a failure), and tests/run-test-summary.sh ends with the line
# "N passed, N failed" (a step whose build failed counts as failed). make unit and
# make integration run their part the same way.
TEST_LOG_DIR := build/test-logs
export TEST_LOG_DIR
RUN_TEST   := tests/run-test.sh
UNIT_RUNS  := $(UNIT_BINS:build/san/unit/%=unit-%)
INTEG_RUNS := $(INTEG_BINS:build/san/integ/%=integ-%)
# The firmware steps (FW_RUNS) are defined after firmware/firmware.mk is included.
TEST_RUNS   = lint $(UNIT_RUNS) $(INTEG_RUNS) sim-selftest browser $(FW_RUNS) $(SMOKE_RUNS) soak-short \
	      model-south-savo
# Run alone, after the others: install-check rebuilds what bakes PREFIX in, deb packs.
TEST_LAST  := install-check deb

# $(call run_steps,NAMES): run those steps (keep going past failures), then the summary.
define run_steps
@rm -rf $(TEST_LOG_DIR) && mkdir -p $(TEST_LOG_DIR)
+@$(MAKE) --no-print-directory -k -Otarget $(1:%=run/%) || true
@tests/run-test-summary.sh $(1)
endef

.PHONY: FORCE
FORCE:

run/unit-%: build/san/unit/% FORCE
	@$(RUN_TEST) unit-$* $<

# test_io_board runs the firmware image in QEMU
run/integ-%: build/san/integ/% build/san/bin/rinkid $(SAN_TOOLS) build/san/bin/rinki-sync build/fw/fw.elf \
		FORCE
	@RINKI_BIN=build/san/bin $(RUN_TEST) integ-$* $<

unit: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
unit: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
unit:
	$(call run_steps,$(UNIT_RUNS))

integration: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
integration: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
integration:
	$(call run_steps,$(INTEG_RUNS))

test: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
test: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
# The release build is built too, so nothing that only -O2 warns about slips past make test.
test:
	@$(MAKE) --no-print-directory all
	@rm -rf $(TEST_LOG_DIR) && mkdir -p $(TEST_LOG_DIR)
	+@$(MAKE) --no-print-directory -k -Otarget $(TEST_RUNS:%=run/%) || true
	+@$(MAKE) --no-print-directory -k $(TEST_LAST:%=run/%) || true
	@tests/run-test-summary.sh $(TEST_RUNS) $(TEST_LAST)

# make install PREFIX=/usr into a scratch DESTDIR, then the tree rebuilt for $(PREFIX)
# (tests/install; alone, after everything else: it rebuilds what bakes PREFIX in).
# install-check's voice test: the integration harness and the virtual cards, no gateway code
# (so a PREFIX change does not touch it).
INSTALLED_VOICE := build/san/install/test_installed_voice
.PHONY: install-check
install-check: $(INSTALLED_VOICE) alsa-plugin
	@MAKE="$(MAKE)" RESTORE_PREFIX="$(PREFIX)" INSTALLED_VOICE=$(INSTALLED_VOICE) \
		tests/install/test_install_prefix.sh
build/san/tests/install/test_installed_voice.o: SAN_CFLAGS += -Itests/integration
$(INSTALLED_VOICE): build/san/tests/install/test_installed_voice.o \
		build/san/tests/integration/harness.o build/alsa/san/vcard_rig.o | alsa-plugin
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm
run/install-check: $(INSTALLED_VOICE) alsa-plugin FORCE
	+@$(RUN_TEST) install-check $(MAKE) --no-print-directory install-check
run/deb: FORCE
	+@$(RUN_TEST) deb $(MAKE) --no-print-directory deb

# Layer rules of gateway/ (tests/lint), every rinkictl command in rinkictl(1), a failed build
# step leaving no target behind, and rinkictl's dependencies: no audio, DSP or Modbus.
.PHONY: lint
lint: build/rinkictl
	@tests/lint/check-layers-selftest.sh
	@tests/lint/check-layers.sh
	@tests/lint/check-man-rinkictl.sh
	@tests/lint/check-make-failed-target.sh
	@if readelf -d build/rinkictl | grep -E 'NEEDED.*(libasound|libspandsp|libmodbus)'; then \
		echo "lint: rinkictl links the libraries above"; exit 1; fi; \
		echo "lint: rinkictl links no ALSA, spandsp or libmodbus"
	@big=$$(wc -l gateway/*.c gateway/*/*.c | awk '$$2 != "total" && $$1 > 1500'); \
		if [ -n "$$big" ]; then echo "lint: gateway files over 1,500 lines:"; \
		echo "$$big"; exit 1; fi; echo "lint: no gateway file over 1,500 lines"

# rinki-web's unit test and fuzz target link its objects (tools/web/ is no gateway module).
build/san/tests/unit/test_web.o build/san/tests/fuzz/fuzz_web.o: SAN_CFLAGS += -Itools
build/san/unit/test_web: build/san/tests/unit/test_web.o $(WEB_LIB_SRCS:%.c=build/san/%.o) \
		$(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(WEB_LIBS) $(CMOCKA_LIBS) -lm
build/san/fuzz/fuzz_web: build/san/tests/fuzz/fuzz_web.o build/san/tests/fuzz/smoke_main.o \
		build/san/tools/web/form.o build/san/tools/web/html.o $(SAN_GW)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lm
build/fuzz/fuzz_web: tests/fuzz/fuzz_web.c tools/web/form.c tools/web/html.c gateway/core/text.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-Iinclude -Igateway -Itools -o $@ $(INPUTS) $(shell pkg-config --libs libsodium)

# The browser test (tests/browser/): rinki-web on a temporary database, driven by Debian's
# headless Chromium over the DevTools protocol; screenshots in build/test-artefacts/.
# axe-core, the accessibility checker the browser test runs in every page it opens: npm
# installs it under build/ (never committed); a version of our choosing, not the latest.
AXE_VERSION := 4.14.1
AXE_JS      := build/axe/node_modules/axe-core/axe.min.js
.PHONY: browser
BROWSER_DEPS := build/san/bin/rinki-web build/san/bin/rinkictl build/san/browser/web_fixture \
		$(AXE_JS)
browser: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
browser: $(BROWSER_DEPS)
	@AXE_JS=$(AXE_JS) /usr/bin/python3 tests/browser/test_web.py
run/browser: $(BROWSER_DEPS) FORCE
	@AXE_JS=$(AXE_JS) $(RUN_TEST) browser /usr/bin/python3 tests/browser/test_web.py
$(AXE_JS):
	@mkdir -p build/axe
	npm install --prefix build/axe --no-save --no-package-lock --no-audit --no-fund \
		--ignore-scripts axe-core@$(AXE_VERSION)
build/san/browser/web_fixture: build/san/tests/browser/web_fixture.o $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(CTL_LIBS) -lm

# The independent model of tools/demo/south-savo.csv (tests/model/test_south_savo.py, with
# Debian's python3 and tzdata) against the roster query and rinkictl oncall, all of 2027.
build/san/model/oncall_query: build/san/tests/model/oncall_query.o $(SAN_GW)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(CTL_LIBS) -lm
.PHONY: model-south-savo
model-south-savo: build/san/model/oncall_query build/san/bin/rinkictl
	@/usr/bin/python3 tests/model/test_south_savo.py
run/model-south-savo: build/san/model/oncall_query build/san/bin/rinkictl FORCE
	@$(RUN_TEST) model-south-savo /usr/bin/python3 tests/model/test_south_savo.py

run/sim-selftest: build/san/bin/tetra-sim build/san/bin/modem-sim FORCE
	@$(RUN_TEST) sim-selftest tools/sim-selftest.sh build/san/bin

run/lint: build/rinkictl FORCE
	+@$(RUN_TEST) lint $(MAKE) --no-print-directory lint

bench: all $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; RINKI_BIN=build $$b || exit 1; done

# Long runs by hand: each target FUZZ_SECONDS (default 60); the corpus it grows is in
# build/ (first dir, written to), the committed seeds tests/fuzz/seeds/<target>/ second.
FW_FUZZ := build/fw/fuzz/fuzz_fw_modbus build/fw/fuzz/fuzz_fw_boot \
	   build/fw/fuzz/fuzz_fw_flash_image
fuzz: $(FUZZ_BINS) $(FW_FUZZ)
	@for f in $(FUZZ_BINS) $(FW_FUZZ); do c=$$f.corpus; s=tests/fuzz/seeds/$${f##*/}; \
		mkdir -p $$c; echo "== $$f"; [ -d $$s ] || s=; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $$c $$s || exit 1; done

# Fuzz smoke (part of make test, no clang needed): every tests/fuzz/fuzz_*.c linked with
# tests/fuzz/smoke_main.c under gcc + ASan/UBSan runs its seeds, then deterministic mutations
# of them: FUZZ_SMOKE_RUNS or FUZZ_SMOKE_SECONDS per target, whichever ends first. The fw
# targets' binaries come from firmware/firmware.mk (their own host objects). A crash leaves
# its input in build/san/fuzz/ and prints how to replay it.
FUZZ_SMOKE_RUNS    ?= 100000
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_SMOKE_SEED    ?= 0x52494e4b49
SMOKE_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/san/fuzz/%)
build/san/fuzz/%: build/san/tests/fuzz/%.o build/san/tests/fuzz/smoke_main.o $(SAN_GW)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lm

SMOKE_RUNS := $(SMOKE_BINS:build/san/fuzz/%=fuzz-smoke-%)
run/fuzz-smoke-%: build/san/fuzz/% FORCE
	@mkdir -p build/san/fuzz; s=tests/fuzz/seeds/$*; [ -d $$s ] || s=; \
	$(RUN_TEST) fuzz-smoke-$* $< -n $(FUZZ_SMOKE_RUNS) -t $(FUZZ_SMOKE_SECONDS) \
		-s $(FUZZ_SMOKE_SEED) -o build/san/fuzz $$s

fuzz-smoke: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
fuzz-smoke: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
fuzz-smoke: $(SMOKE_BINS)
	@mkdir -p build/san/fuzz; fail=0; for f in $^; do s=tests/fuzz/seeds/$${f##*/}; \
		[ -d $$s ] || s=; $$f -n $(FUZZ_SMOKE_RUNS) -t $(FUZZ_SMOKE_SECONDS) \
		-s $(FUZZ_SMOKE_SEED) -o build/san/fuzz $$s || fail=1; done; exit $$fail

demo: deps
	@$(MAKE) --no-print-directory all firmware
	@tools/rinki-demo build

# Paths baked into binaries (conf.o's prompt directory):
# the stamp is rewritten only when PREFIX or SYSCONFDIR differ from the last build's, and
# what bakes them in depends on it, so `make install PREFIX=/usr` after `make` rebuilds them.
.PHONY: FORCE
build/paths.stamp: FORCE
	@mkdir -p $(@D); s='PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR)'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$s" ] || { echo "$$s" > $@; echo "paths: $$s"; }

# --- install ---------------------------------------------------------------
include tools/install.mk
install: all install-ops
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 build/rinkid build/rinki-sync $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 build/rinki-web $(DESTDIR)$(PREFIX)/sbin/rinki-web
	install -m 0755 build/rinkictl build/rinki-flash build/tetra-sim build/modem-sim \
		$(DESTDIR)$(PREFIX)/bin/
	cd build/prompts && for f in */*.wav; do \
		install -D -m 0644 $$f $(DESTDIR)$(PREFIX)/share/rinki/prompts/$$f; done

clean:
	rm -rf build

# --- Debian package ----------------------------------------------------------
# make deb: the tree (without build/ and .git) copied to build/deb/rinki-VERSION with
# tools/debian as its debian/, built with dpkg-buildpackage (binary only, unsigned) and
# checked with lintian: any error or warning fails (tools/debian/README.md).
DEB_VERSION := $(shell sed -n 's/^\#define GW_RINKID_VERSION[[:space:]]*"\(.*\)"/\1/p' gateway/service/rinkid.h \
		 gateway/service/rinkid.c 2>/dev/null | head -n 1)
DEB_TREE    := build/deb/rinki-$(DEB_VERSION)
.PHONY: deb
deb:
	@[ -n "$(DEB_VERSION)" ] || { echo "deb: no GW_RINKID_VERSION found"; exit 1; }
	@head -n 1 tools/debian/changelog | grep -q '^rinki ($(DEB_VERSION))' || \
		{ echo "deb: tools/debian/changelog does not start with version $(DEB_VERSION)"; exit 1; }
	rm -rf build/deb && mkdir -p $(DEB_TREE)
	tar -c --exclude=./build --exclude=./.git . | tar -x -C $(DEB_TREE)
	cp -a tools/debian $(DEB_TREE)/debian
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error,warning --info build/deb/rinki_$(DEB_VERSION)_*.changes
	tests/install/deb-modes.sh build/deb/rinki_$(DEB_VERSION)_*.deb
	@echo "deb: build/deb/$$(cd build/deb && ls rinki_$(DEB_VERSION)_*.deb) (lintian: no error, no warning)"

# make deb-test (as root, by hand; not in make test): the package into a clean Debian 12 root
# made with mmdebstrap (cached under build/deb-test/), checked, run against the simulators
# for one call, removed and purged (tests/install/deb-test.sh); output in build/deb-test.log.
# mmdebstrap is this target's only extra package (installed here when missing, not DEB_PKGS).
DEB_TEST_PKGS := mmdebstrap
.PHONY: deb-test
deb-test: deb build/tetra-sim build/modem-sim
	@command -v mmdebstrap > /dev/null || \
		apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $(DEB_TEST_PKGS)
	tests/install/deb-test.sh

# --- benchmarks that link the gateway objects --------------------------------
build/bench/roster_lookup: tests/bench/roster_lookup.c tests/integration/harness.c $(REL_GW)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests/integration -o $@ $(INPUTS) $(PKG_LIBS) -lm

# web_load: rinkid and the simulators (the harness) and rinki-web (build/rinki-web) under
# 50 clients; it fills the call log through the store itself.
build/bench/web_load: tests/bench/web_load.c tests/integration/harness.c $(REL_GW)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests/integration -o $@ $(INPUTS) $(PKG_LIBS) -lpthread -lm

build/bench/db_stall: tests/bench/db_stall.c $(REL_GW)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $(INPUTS) $(PKG_LIBS) -lpthread -lm

# The county sync's drain rate: a scratch PostgreSQL (tests/integration/pg_rig.c), rinki-sync.
build/bench/sync_drain: tests/bench/sync_drain.c tests/integration/pg_rig.c \
		tests/integration/sync_util.c $(REL_GW)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(PQ_CFLAGS) -Itests/integration -o $@ $(INPUTS) $(PKG_LIBS) $(PQ_LIBS) -lm
# The county sync's figures (issue #17): rinkid and the simulators (the harness), rinki-sync,
# a scratch PostgreSQL.
build/bench/sync_figures: tests/bench/sync_figures.c tests/integration/harness.c \
		tests/integration/pg_rig.c tests/integration/sync_util.c $(REL_GW)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(PQ_CFLAGS) -Itests/integration -o $@ $(INPUTS) $(PKG_LIBS) $(PQ_LIBS) -lm

build/bench/sync_lag: tests/bench/sync_lag.c tests/integration/pg_rig.c \
		tests/integration/sync_util.c $(REL_GW)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(PQ_CFLAGS) -Itests/integration -o $@ $(INPUTS) $(PKG_LIBS) $(PQ_LIBS) -lm

# make soak: long load runs by hand (tests/soak/soak.mk), not part of make test.
include tests/soak/soak.mk

# Virtual sound cards for the audio tests and bench (tools/alsa/alsa.mk).
include tools/alsa/alsa.mk
build/san/integ/test_audio: build/alsa/san/vcard_rig.o | alsa-plugin
# The I/O board in QEMU (tests/integration/qemu_rig.c).
build/san/integ/test_io_board: build/san/tests/integration/qemu_rig.o
build/san/integ/test_faults: build/san/tests/integration/qemu_rig.o
build/san/integ/test_qrig_relay: build/san/tests/integration/qemu_rig.o
build/san/integ/test_voice: build/alsa/san/vcard_rig.o | alsa-plugin prompts
build/san/integ/test_voice_call: build/alsa/san/vcard_rig.o | alsa-plugin prompts
build/san/integ/test_callback_voice: build/alsa/san/vcard_rig.o | alsa-plugin prompts
build/san/integ/test_record: build/alsa/san/vcard_rig.o | alsa-plugin
build/san/integ/test_audio_tap: build/alsa/san/vcard_rig.o | alsa-plugin
build/san/integ/test_floor_call: build/alsa/san/vcard_rig.o | alsa-plugin
# rinki-web's account commands (audit times): the binary itself
build/san/integ/test_web_cli: | build/san/bin/rinki-web
build/bench/audio_latency: tests/bench/audio_latency.c build/alsa/rel/vcard_rig.o $(REL_GW) | alsa-plugin
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(PKG_LIBS) -lpthread -lm

# Voice: prompts and the DTMF tests' speech corpus are built from text with espeak-ng
# (fixed voice, rate and pitch) and tools/prompt-wav (libsndfile + libsamplerate), never
# committed. build/speech: tests/data/speech/<lang>.txt in two voices per language, 8 kHz.
SPEECH_LANGS  := fi sv en
SPEECH_VOICES := $(foreach l,$(SPEECH_LANGS),$(l) $(l)+f3)
SPEECH_WAVS   := $(SPEECH_VOICES:%=build/speech/%.wav)
build/prompt-wav: tools/prompt-wav.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -o $@ $< $(shell pkg-config --libs sndfile samplerate)
define speech_rule
build/speech/$(1).wav: build/prompt-wav tests/data/speech/$(firstword $(subst +, ,$(1))).txt
	@mkdir -p $$(dir $$@)
	espeak-ng -v $(1) -s 160 -p 50 -f $$(word 2,$$^) -w $$@.22k
	build/prompt-wav $$@.22k 8000 $$@ && rm -f $$@.22k
endef
$(foreach v,$(SPEECH_VOICES),$(eval $(call speech_rule,$(v))))
build/san/unit/test_dtmf: | $(SPEECH_WAVS)
# test_ctl counts the passwd look-ups ctl makes.
build/san/unit/test_ctl: CMOCKA_LIBS += -Wl,--wrap=getpwuid_r

# Prompts: tools/prompts/<lang>/<name>.txt -> build/prompts/<lang>/<name>.wav at PROMPT_RATE
# (audio.rate of the field config). Same text, same bytes (make prompts-check shows it).
PROMPT_RATE ?= 8000
PROMPT_TXTS := $(sort $(wildcard tools/prompts/*/*.txt))
PROMPT_WAVS := $(PROMPT_TXTS:tools/prompts/%.txt=build/prompts/%.wav)
build/prompts/%.wav: tools/prompts/%.txt build/prompt-wav
	@mkdir -p $(dir $@)
	espeak-ng -v $(firstword $(subst /, ,$*)) -s 150 -p 50 -f $< -w $@.22k
	build/prompt-wav $@.22k $(PROMPT_RATE) $@ && rm -f $@.22k
PROMPT_DIR_DEF := -DGW_PROMPT_DIR='"$(PREFIX)/share/rinki/prompts"'
build/rel/gateway/core/conf.o: REL_CFLAGS += $(PROMPT_DIR_DEF)
build/san/gateway/core/conf.o: SAN_CFLAGS += $(PROMPT_DIR_DEF)
build/rel/gateway/core/conf.o build/san/gateway/core/conf.o: build/paths.stamp
.PHONY: prompts prompts-check
prompts: $(PROMPT_WAVS)
all: prompts
prompts-check: prompts
	@rm -rf build/prompts.again && cp -a build/prompts build/prompts.again && \
	rm -f $(PROMPT_WAVS) && $(MAKE) --no-print-directory -s prompts && \
	diff -r build/prompts build/prompts.again && rm -rf build/prompts.again && \
	echo "prompts: two builds, identical bytes ($(words $(PROMPT_WAVS)) files)"

# The I/O microcontroller firmware: make firmware, fw-test (part of make test), fw-fuzz.
include firmware/firmware.mk

# make test's firmware steps: what fw-test (firmware/firmware.mk) runs, one step each.
FW_RUNS := $(FW_UNIT_BINS:build/san/fwunit/%=fw-%) fw-qemu fw-boot-qemu fw-mbpoll fw-f103-image
FW_RUNS += fw-trust
run/fw-%: build/san/fwunit/% FORCE
	@$(RUN_TEST) fw-$* $<
run/fw-qemu: $(FW_QEMU_TEST) build/fw/fw.elf FORCE
	@FW_ELF=build/fw/fw.elf $(RUN_TEST) fw-qemu $(FW_QEMU_TEST)
run/fw-boot-qemu: $(FW_BOOT_QEMU_TEST) build/fw/boot.elf $(FW_IMAGES) build/san/bin/rinki-flash FORCE
	@RINKI_FLASH=build/san/bin/rinki-flash FW_BOOT_ELF=build/fw/boot.elf FW_IMG_DIR=build/fw \
		FW_KEY=$(FW_TEST_KEY) RINKI_FLASH_ENTRY_KEY=$(FW_ENTRY_KEY_FILE) \
		$(RUN_TEST) fw-boot-qemu $(FW_BOOT_QEMU_TEST)
run/fw-mbpoll: build/fw/fw.elf build/fw/fw_build.h FORCE
	@FW_ELF=build/fw/fw.elf FW_BUILD_H=build/fw/fw_build.h \
		$(RUN_TEST) fw-mbpoll tests/integration/fw/test_fw_mbpoll.sh
run/fw-f103-image: build/san/bin/rinki-flash $(FW_IMAGES) $(FW_BOARD_IMAGES) FORCE
	@RINKI_FLASH=build/san/bin/rinki-flash FW_F103_DIR=$(FW_F103_DIR) FW_KEY=$(FW_TEST_KEY) \
		FW_MPS2_IMG=build/fw/fw.img $(RUN_TEST) fw-f103-image \
		tests/integration/fw/test_fw_f103_image.sh
run/fw-trust: build/san/bin/rinki-flash build/san/bin/rinki-flash-relkey build/rinki-flash-sign \
		build/fw/fw.img FORCE
	@RINKI_FLASH=build/san/bin/rinki-flash RINKI_FLASH_RELKEY=build/san/bin/rinki-flash-relkey \
		RINKI_FLASH_SIGN=build/rinki-flash-sign FW_IMG_DIR=build/fw $(RUN_TEST) fw-trust \
		tests/integration/fw/test_fw_trust.sh

-include $(shell find build -path build/deb -prune -o -path build/deb-test -prune -o -name '*.d' -type f -print 2>/dev/null)
