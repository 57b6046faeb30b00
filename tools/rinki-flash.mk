# rinki-flash: included by firmware/firmware.mk (the firmware build packs and signs images
# with it). Release binary build/rinki-flash (part of `make`), sanitizer build for the tests
# build/san/bin/rinki-flash. Debian packages: libmodbus-dev libsodium-dev.

RF_PKG_CFLAGS := $(shell pkg-config --cflags libmodbus libsodium 2>/dev/null)
RF_PKG_LIBS   := $(shell pkg-config --libs libmodbus libsodium 2>/dev/null)
RF_DEPS       := tools/rinki-flash.c include/rinki/fwimage.h include/rinki/regmap.h \
		 build/paths.stamp
# Default public key: the board's, $(SYSCONFDIR)/rinki/fw-signing.pub (install.mk's SYSCONFDIR,
# /etc), never a file of the build tree; --pubkey or RINKI_FLASH_PUBKEY name another (the
# tests give the build's TEST KEY explicitly).
RF_DEFAULT_PUBKEY = -DRF_DEFAULT_PUBKEY='"$(SYSCONFDIR)/rinki/fw-signing.pub"'

build/rinki-flash: $(RF_DEPS)
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $(RF_PKG_CFLAGS) $(RF_DEFAULT_PUBKEY) $(LDFLAGS) -o $@ $< $(RF_PKG_LIBS)

build/san/bin/rinki-flash: $(RF_DEPS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(RF_PKG_CFLAGS) $(RF_DEFAULT_PUBKEY) -o $@ $< $(RF_PKG_LIBS)

all: build/rinki-flash
