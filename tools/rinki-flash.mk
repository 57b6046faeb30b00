# rinki-flash: included by firmware/firmware.mk (the firmware build packs and signs images
# with build/rinki-flash-sign). Release binary build/rinki-flash (part of `make`), sanitizer build for the tests
# build/san/bin/rinki-flash. Debian packages: libmodbus-dev libsodium-dev.

RF_PKG_CFLAGS := $(shell pkg-config --cflags libmodbus libsodium 2>/dev/null)
RF_PKG_LIBS   := $(shell pkg-config --libs libmodbus libsodium 2>/dev/null)
RF_DEPS       := tools/rinki-flash.c include/rinki/fwimage.h include/rinki/regmap.h \
		 build/paths.stamp
# The public key built into rinki-flash (RF_BUILTIN_PUBKEY): the package's signing key,
# FW_SIGN_KEY's .pub (firmware.mk; the build's TEST KEY unless a release key is given, and then
# RF_BUILTIN_KEY_TEST=1 lets --dev-pubkey override it). rinki-flash takes no key on the command
# line otherwise. build/rinki-flash-sign is the same program without a key: the build's own
# signing tool (keygen makes the TEST KEY, pack signs the images), never installed.
FW_SIGN_PUB ?= $(FW_SIGN_KEY:.sec=.pub)
# rf_key_cc: $(1) compiler and flags, $(2) the rest, $(3) the public key file to build in
define rf_key_cc
	@k=$$(sed -n '/^[0-9a-fA-F]\{64\}$$/p' $(3)); \
	test=$$(grep -q 'TEST KEY' $(3) && echo 1 || echo 0); \
	[ $${#k} -eq 64 ] || { echo "$(3): no Ed25519 public key" >&2; exit 1; }; \
	echo "$(1) -DRF_BUILTIN_PUBKEY=\"$$k\" -DRF_BUILTIN_KEY_TEST=$$test"; \
	$(1) -DRF_BUILTIN_PUBKEY="\"$$k\"" -DRF_BUILTIN_KEY_TEST=$$test $(2)
endef

# The board's bootloader entry key (firmware.mk) is a secret file, read at run time.
RF_ENTRY_KEY_DEF = -DRF_ENTRY_KEY='"$(SYSCONFDIR)/rinki/fw-entry.key"'

build/rinki-flash: $(RF_DEPS) $(FW_SIGN_PUB)
	@mkdir -p $(@D)
	$(call rf_key_cc,$(CC) $(REL_CFLAGS) $(RF_PKG_CFLAGS) $(RF_ENTRY_KEY_DEF) $(LDFLAGS),-o $@ $< $(RF_PKG_LIBS),$(FW_SIGN_PUB))

build/san/bin/rinki-flash: $(RF_DEPS) $(FW_SIGN_PUB)
	@mkdir -p $(@D)
	$(call rf_key_cc,$(CC) $(SAN_CFLAGS) $(RF_PKG_CFLAGS) $(RF_ENTRY_KEY_DEF),-o $@ $< $(RF_PKG_LIBS),$(FW_SIGN_PUB))

# For tests/integration/fw/test_fw_trust.sh: a rinki-flash with a key that is not a TEST KEY
# built in, as a release build has (made at build time like the TEST KEY, never installed).
RF_RELKEY := build/fw/keys/trust-test-release-key
$(RF_RELKEY).sec: | build/rinki-flash-sign
	@mkdir -p $(@D)
	build/rinki-flash-sign keygen $(RF_RELKEY)
$(RF_RELKEY).pub: $(RF_RELKEY).sec

build/san/bin/rinki-flash-relkey: $(RF_DEPS) $(RF_RELKEY).pub
	@mkdir -p $(@D)
	$(call rf_key_cc,$(CC) $(SAN_CFLAGS) $(RF_PKG_CFLAGS),-o $@ $< $(RF_PKG_LIBS),$(RF_RELKEY).pub)

build/rinki-flash-sign: $(RF_DEPS)
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $(RF_PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(RF_PKG_LIBS)

all: build/rinki-flash
