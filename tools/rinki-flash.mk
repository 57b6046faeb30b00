# rinki-flash: included by firmware/firmware.mk (the firmware build packs and signs images
# with it). Release binary build/rinki-flash (part of `make`), sanitizer build for the tests
# build/san/bin/rinki-flash. Debian packages: libmodbus-dev libsodium-dev.

RF_PKG_CFLAGS := $(shell pkg-config --cflags libmodbus libsodium 2>/dev/null)
RF_PKG_LIBS   := $(shell pkg-config --libs libmodbus libsodium 2>/dev/null)
RF_DEPS       := tools/rinki-flash.c include/rinki/fwimage.h include/rinki/regmap.h
# Default public key: the build tree's TEST KEY (override with --pubkey or RINKI_FLASH_PUBKEY).
RF_DEFAULT_PUBKEY := -DRF_DEFAULT_PUBKEY='"$(abspath build/fw/keys/TEST-KEY-fw-signing.pub)"'

build/rinki-flash: $(RF_DEPS)
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $(RF_PKG_CFLAGS) $(RF_DEFAULT_PUBKEY) -o $@ $< $(RF_PKG_LIBS)

build/san/bin/rinki-flash: $(RF_DEPS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(RF_PKG_CFLAGS) $(RF_DEFAULT_PUBKEY) -o $@ $< $(RF_PKG_LIBS)

all: build/rinki-flash
