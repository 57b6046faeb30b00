# I/O MCU firmware: included by the root Makefile (-include firmware/firmware.mk), run from the
# repository root.
#
#   make firmware   build the QEMU mps2-an385 images (test registers on) and print sizes:
#                   build/fw/fw.elf    the application alone at 0x0 (no bootloader)
#                   build/fw/boot.elf  the bootloader (4 KiB at 0x0)
#                   build/fw/fw.img    the application for slot A and slot B, signed with the
#                                      build-time TEST KEY (build/fw/keys/); fw-alt.img is the
#                                      same with another build hash, fw-32k.img padded to 32 KiB
#                   and the STM32F103 board's images (build/fw/stm32f103/: fw.elf, boot.elf,
#                   app-a/b.elf, fw.img signed the same way for board id 0x0100)
#   make fw-test    host unit tests of firmware/core (ASan/UBSan, fake HAL and flash) + the
#                   QEMU tests (the application alone; bootloader + rinki-flash) + the
#                   STM32F103 signed image checked by rinki-flash on the host
#   make fw-fuzz    build the libFuzzer targets build/fw/fuzz/fuzz_fw_* (clang), run by hand
#
# Only file-specific rules (explicit or static pattern rules over listed files) under build/fw/
# and build/san/fwunit/, so nothing here competes with the root's pattern rules.
# Debian packages: gcc-arm-none-eabi qemu-system-arm socat libmodbus-dev libcmocka-dev
# libsodium-dev (rinki-flash) (plus clang for fw-fuzz).

FW_SAVED_GOAL := $(.DEFAULT_GOAL)

FW_ARM_CC   ?= arm-none-eabi-gcc
FW_ARM_SIZE ?= arm-none-eabi-size
FW_OBJCOPY  ?= arm-none-eabi-objcopy
FW_CLANG    ?= clang

FW_CORE_SRCS := firmware/core/fw_modbus.c firmware/core/fw_io.c firmware/core/fw_wdt.c \
		firmware/core/fw_app.c firmware/core/fw_rxq.c
# The application's start on every Cortex-M3 target: reset handler (C run-time set-up) and the
# portable main loop. Each target adds its vector table (startup.c) and HAL.
FW_CM3_APP_SRCS := firmware/hal/cm3/cm3_start.c firmware/core/fw_main.c
FW_MPS2_SRCS := $(FW_CM3_APP_SRCS) firmware/hal/mps2/startup.c firmware/hal/mps2/hal_mps2.c \
		firmware/hal/mps2/libc_min.c
FW_MPS2_LD   := firmware/hal/mps2/link.ld firmware/hal/mps2/sections.ld
FW_HDRS      := $(sort $(wildcard firmware/core/*.h firmware/hal/cm3/*.h firmware/hal/mps2/*.h \
		firmware/boot/*.h)) \
		include/rinki/regmap.h include/rinki/fwimage.h
# The application in a slot adds the boot control; the bootloader is its own image.
FW_SLOT_SRCS := $(FW_CORE_SRCS) firmware/core/fw_boot.c firmware/core/fw_boot_app.c \
		firmware/core/fw_siphash.c firmware/core/fw_nctr.c firmware/core/fw_entry.c \
		$(FW_MPS2_SRCS) firmware/hal/mps2/flash_mps2.c
FW_BOOT_SRCS := firmware/core/fw_boot.c firmware/core/fw_boot_proto.c firmware/boot/boot_main.c \
		firmware/core/fw_siphash.c firmware/core/fw_nctr.c firmware/core/fw_entry.c \
		firmware/boot/boot_cm3.c firmware/hal/mps2/boot_mps2.c firmware/hal/mps2/flash_mps2.c \
		firmware/hal/mps2/libc_min.c
FW_ALL_LD    := $(sort $(wildcard firmware/hal/mps2/*.ld))

# --- target image (QEMU mps2-an385) ---------------------------------------
# Inter-frame gap of the QEMU build. The real-board value is 1.75 ms (Modbus, > 19200 baud;
# HAL_UART_GAP_US in firmware/core/hal.h, asserted at build time for the STM32F103 image and
# tested on the host by test_fw_modbus), but
# QEMU runs the gap timer on the host clock and feeds received bytes one per main-loop pass, so
# a busy host splits frames. Measured on a 2-CPU host with 1.75 ms: 2 of 3 QEMU test runs
# under three competing busy loops lost a frame (CRC error at the split; 3 of 5 runs without
# extra load also had timed-out transactions, most likely watchdog resets: hal_mps2.c). With 5 ms (and 10 ms): 0 of 3
# under that load; with 5 ms, 0 of 5 without it.
# Since -icount and the clock fix (hal_mps2.c), 1.75 ms passed test_fw_qemu 3 of 3 with QEMU at
# SCHED_IDLE (load 8.5-9.5) and 200 QEMU-starved transactions without a CRC error; kept at 5 ms
# until it is run beside busy loops and with the paced relay (test_fw_boot_qemu).
FW_QEMU_GAP_US ?= 5000
# Board id the images are signed for; compiled in (FW_IMAGE_BOARD_ID) and checked against
# regmap.h by flash_<target>.c.
FW_MPS2_BOARD := 0x0001
FW_ARM_OBJS   := $(patsubst %.c,build/fw/%.o,$(FW_CORE_SRCS) $(FW_MPS2_SRCS))
FW_ARM_BASE_CFLAGS := -mcpu=cortex-m3 -mthumb -Os -g -std=gnu11 -ffreestanding \
		 -ffunction-sections -fdata-sections -fno-common \
		 -fno-tree-loop-distribute-patterns \
		 -Wall -Wextra -Werror -Wshadow -Iinclude -Ifirmware/core -Ifirmware/hal/cm3 \
		 -Ifirmware/hal/mps2 -Ibuild/fw/mps2 -DFW_IMAGE_BOARD_ID=$(FW_MPS2_BOARD) \
		 -DFW_HAL_TEST_INPUTS -DFW_UART_GAP_US=$(FW_QEMU_GAP_US)u -MMD -MP
FW_ARM_CFLAGS := $(FW_ARM_BASE_CFLAGS) -include build/fw/fw_build.h
FW_ARM_LDFLAGS := -Lfirmware/hal/mps2 -nostdlib -nostartfiles -Wl,--gc-sections

# Build hash: CRC32 (cksum) over every firmware source, so it changes with the code and needs
# no git history. The "alt" build (for the rollback test) has the hash inverted.
build/fw/fw_build.h: $(sort $(FW_CORE_SRCS) $(FW_MPS2_SRCS) $(FW_SLOT_SRCS) $(FW_BOOT_SRCS)) \
		     $(FW_ALL_LD) $(FW_HDRS) hw/pins.csv
	@mkdir -p $(@D)
	@h=$$(cat $^ | cksum | cut -d' ' -f1); \
	printf '/* generated by firmware/firmware.mk */\n#define FW_BUILD_HASH 0x%08xu\n' $$h > $@

build/fw/alt/fw_build.h: build/fw/fw_build.h
	@mkdir -p $(@D)
	@h=$$(sed -n 's/.*FW_BUILD_HASH \(0x[0-9a-f]*\)u.*/\1/p' $<); \
	printf '/* generated by firmware/firmware.mk */\n#define FW_BUILD_HASH 0x%08xu\n' \
		$$(( h ^ 0xFFFFFFFF )) > $@

# The mps2 HAL takes its pins from hw/pins.csv (build/fw/mps2/pins.h, generated below).
$(FW_ARM_OBJS): build/fw/%.o: %.c build/fw/fw_build.h build/fw/mps2/pins.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) -c $< -o $@

build/fw/fw.elf: $(FW_ARM_OBJS) $(FW_MPS2_LD)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) $(FW_ARM_LDFLAGS) -T firmware/hal/mps2/link.ld \
		-Wl,-Map=build/fw/fw.map -o $@ $(FW_ARM_OBJS) -lgcc

# --- bootloader and slot images ---------------------------------------------------------------
# Trial time of the QEMU build: the host must confirm a new image within it (the rollback test
# waits for it; production default in fw_boot_app.h).
FW_QEMU_TRIAL_MS ?= 4000
FW_SLOT_CFLAGS := -DFW_BOOT_APP -DFW_BOOT_TRIAL_MS=$(FW_QEMU_TRIAL_MS)u \
		  -include build/fw/fw_entry_key.h
FW_SLOT_OBJS := $(patsubst %.c,build/fw/slot/%.o,$(FW_SLOT_SRCS))
FW_ALT_OBJS  := $(patsubst %.c,build/fw/alt/%.o,$(FW_SLOT_SRCS))
FW_BOOT_OBJS := $(patsubst %.c,build/fw/boot/%.o,$(FW_BOOT_SRCS))

# The bootloader entry key (fw_boot_app.h): a TEST KEY made at build time like the signing
# key, or FW_ENTRY_KEY_FILE (one line of 32 hex digits after # comments). rinki-flash reads
# the same file (its --entry-key; /etc/rinki/fw-entry.key on the board).
FW_TEST_ENTRY_KEY := build/fw/keys/TEST-KEY-fw-entry.key
FW_ENTRY_KEY_FILE ?= $(FW_TEST_ENTRY_KEY)
$(FW_TEST_ENTRY_KEY):
	@mkdir -p $(@D)
	@umask 077; { echo "# TEST KEY: I/O board bootloader entry key (SipHash-2-4), made by the build"; \
	  head -c 16 /dev/urandom | od -An -v -tx1 | tr -d ' \n'; echo; } > $@
	@echo "wrote $@ (TEST KEY)"
# make install (and so the Debian package) puts the same file in /etc/rinki/fw-entry.key, where
# rinki-flash reads it: 0400 here, the package's postinst hands it to rinki:rinki-admin 0440
# (tools/debian/README.md). The key is the build's, not the board's: it is compiled into the
# images, so every board running them has it.
.PHONY: install-fw-entry-key
install-fw-entry-key: $(FW_ENTRY_KEY_FILE)
	install -D -m 0400 $< $(DESTDIR)$(SYSCONFDIR)/rinki/fw-entry.key
install: install-fw-entry-key

build/fw/fw_entry_key.h: $(FW_ENTRY_KEY_FILE)
	@k=$$(sed -n '/^[0-9a-fA-F]\{32\}$$/p' $<); \
	[ $${#k} -eq 32 ] || { echo "$<: no 16-byte entry key" >&2; exit 1; }; \
	printf '/* generated by firmware/firmware.mk from %s */\n#define FW_ENTRY_KEY {%s}\n' \
		"$<" "$$(echo $$k | sed 's/../0x&,/g')" > $@

$(FW_SLOT_OBJS): build/fw/slot/%.o: %.c build/fw/fw_build.h build/fw/mps2/pins.h \
		 build/fw/fw_entry_key.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) $(FW_SLOT_CFLAGS) -c $< -o $@

$(FW_ALT_OBJS): build/fw/alt/%.o: %.c build/fw/alt/fw_build.h build/fw/mps2/pins.h \
		build/fw/fw_entry_key.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_ARM_BASE_CFLAGS) -include build/fw/alt/fw_build.h $(FW_SLOT_CFLAGS) \
		-c $< -o $@

# The bootloaders are linked with link-time optimisation: with the entry authentication
# (SipHash, the nonce counter) they fit their 4 KiB only so (about 300 B less on the STM32F103).
# libc_min.c stays out of it: the calls to memset/memcpy that the compiler makes appear only
# after LTO, which would have dropped them.
FW_BOOT_LTO = $(if $(findstring libc_min,$<),,-flto)

$(FW_BOOT_OBJS): build/fw/boot/%.o: %.c build/fw/fw_build.h build/fw/fw_entry_key.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) $(FW_BOOT_LTO) -Ifirmware/boot \
		-include build/fw/fw_entry_key.h -c $< -o $@

build/fw/boot.elf: $(FW_BOOT_OBJS) $(FW_ALL_LD)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) -flto $(FW_ARM_LDFLAGS) -T firmware/hal/mps2/link_boot.ld \
		-Wl,-Map=build/fw/boot.map -o $@ $(FW_BOOT_OBJS) -lgcc

build/fw/app-a.elf build/fw/app-b.elf: build/fw/app-%.elf: $(FW_SLOT_OBJS) $(FW_ALL_LD)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) $(FW_ARM_LDFLAGS) -T firmware/hal/mps2/link_slot_$*.ld \
		-Wl,-Map=build/fw/app-$*.map -o $@ $(FW_SLOT_OBJS) -lgcc

build/fw/alt-a.elf build/fw/alt-b.elf: build/fw/alt-%.elf: $(FW_ALT_OBJS) $(FW_ALL_LD)
	$(FW_ARM_CC) $(FW_ARM_CFLAGS) $(FW_ARM_LDFLAGS) -T firmware/hal/mps2/link_slot_$*.ld \
		-o $@ $(FW_ALT_OBJS) -lgcc

build/fw/app-a.bin build/fw/app-b.bin build/fw/alt-a.bin build/fw/alt-b.bin: %.bin: %.elf
	$(FW_OBJCOPY) -O binary $< $@

# Signing: a TEST KEY made at build time (never committed, see tools/keys/README.md). A
# production key is passed as FW_SIGN_KEY=path/to/secret (rinki-flash keygen makes one).
FW_TEST_KEY := build/fw/keys/TEST-KEY-fw-signing
FW_SIGN_KEY ?= $(FW_TEST_KEY).sec
FW_VERSION  := $(shell sed -n 's/^\#define FW_VERSION_[A-Z]*[ \t][ \t]*\([0-9][0-9]*\)$$/\1/p' \
		 firmware/core/fw_version.h | paste -sd. -)
# Payload addresses of the slots (hal_mps2.h, link_slot_*.ld).
FW_MPS2_LOAD_A := 0x00001100
FW_MPS2_LOAD_B := 0x0000B100

$(FW_TEST_KEY).sec: | build/rinki-flash-sign
	@mkdir -p $(@D)
	build/rinki-flash-sign keygen --test $(FW_TEST_KEY)

$(FW_TEST_KEY).pub: $(FW_TEST_KEY).sec

# pack: $(1) output, $(2) build-hash header, $(3) bin prefix, $(4) extra options, $(5) target
# prefix: $(5)_BOARD is the board id, $(5)_LOAD_A/B the payload addresses of slots A and B
define fw_pack
	build/rinki-flash-sign pack -k $(FW_SIGN_KEY) --board $($(5)_BOARD) --version $(FW_VERSION) \
		--build-hash $$(sed -n 's/.*FW_BUILD_HASH \(0x[0-9a-f]*\)u.*/\1/p' $(2)) $(4) \
		-o $(1) $($(5)_LOAD_A)=$(3)-a.bin $($(5)_LOAD_B)=$(3)-b.bin
endef

build/fw/fw.img: build/fw/app-a.bin build/fw/app-b.bin $(FW_SIGN_KEY) build/rinki-flash-sign
	$(call fw_pack,$@,build/fw/fw_build.h,build/fw/app,,FW_MPS2)

build/fw/fw-alt.img: build/fw/alt-a.bin build/fw/alt-b.bin $(FW_SIGN_KEY) build/rinki-flash-sign
	$(call fw_pack,$@,build/fw/alt/fw_build.h,build/fw/alt,,FW_MPS2)

build/fw/fw-32k.img: build/fw/app-a.bin build/fw/app-b.bin $(FW_SIGN_KEY) build/rinki-flash-sign
	$(call fw_pack,$@,build/fw/fw_build.h,build/fw/app,--pad 32768,FW_MPS2)

FW_IMAGES := build/fw/fw.img build/fw/fw-alt.img build/fw/fw-32k.img
# The real board's images (section below); set here because `firmware:` needs it when read.
FW_F103_DIR  := build/fw/stm32f103
FW_BOARD_IMAGES := $(FW_F103_DIR)/fw.elf $(FW_F103_DIR)/fw.bin $(FW_F103_DIR)/boot.elf \
		   $(FW_F103_DIR)/fw.img

# Prints the sizes and the use of the budgets (the link already fails when a region
# overflows; RAM includes the 1 KiB stack and 64 B retained words).
firmware: build/fw/fw.elf build/fw/boot.elf build/fw/app-a.elf $(FW_IMAGES) $(FW_BOARD_IMAGES)
	@$(FW_ARM_SIZE) build/fw/fw.elf build/fw/app-a.elf build/fw/boot.elf
	@for f in fw.elf:16384 app-a.elf:16384 boot.elf:4096; do \
		$(FW_ARM_SIZE) build/fw/$${f%:*} | awk -v n=$${f%:*} -v max=$${f#*:} 'NR == 2 { \
		printf "%-10s flash %5d / %5d B, RAM %4d + 1024 stack + 64 retained / 4096 B\n", \
		n, $$1 + $$2, max, $$2 + $$3 - 1024 }'; done
	$(call fw_size_check,$(FW_F103_DIR)/fw.elf,16384)
	$(call fw_size_check,$(FW_F103_DIR)/app-a.elf,16384)
	$(call fw_size_check,$(FW_F103_DIR)/app-b.elf,16384)
	$(call fw_size_check,$(FW_F103_DIR)/boot.elf,4096)


# --- real board: STM32F103 (firmware/hal/stm32f103) ----------------------------------------
# Production build (no test registers), Modbus gap 1.75 ms as the HAL computes it. Pins come from
# hw/pins.csv through tools/pins-gen.sh into build/fw/<target>/pins.h (generated, not committed).
# Images: build/fw/stm32f103/fw.elf (alone at 0x08000000), boot.elf (the bootloader, 4 KiB at
# 0x08000000), app-a.elf / app-b.elf (slot payloads) and fw.img (both, signed like the mps2
# fw.img, board id FW_F103_BOARD). The link fails when a budget region overflows;
# fw_size_check prints the use and fails above the budget as well.
FW_F103_HAL  := $(FW_CM3_APP_SRCS) firmware/hal/stm32f103/startup.c \
		firmware/hal/stm32f103/hal_stm32f103.c firmware/hal/mps2/libc_min.c
FW_F103_SRCS := $(FW_CORE_SRCS) $(FW_F103_HAL)
FW_F103_SLOT_SRCS := $(FW_F103_SRCS) firmware/core/fw_boot.c firmware/core/fw_boot_app.c \
		     firmware/core/fw_siphash.c firmware/core/fw_nctr.c firmware/core/fw_entry.c \
		     firmware/hal/stm32f103/flash_stm32f103.c
FW_F103_BOOT_SRCS := firmware/core/fw_boot.c firmware/core/fw_boot_proto.c \
		     firmware/core/fw_siphash.c firmware/core/fw_nctr.c firmware/core/fw_entry.c \
		     firmware/boot/boot_main.c firmware/boot/boot_cm3.c \
		     firmware/hal/stm32f103/boot_stm32f103.c \
		     firmware/hal/stm32f103/flash_stm32f103.c firmware/hal/mps2/libc_min.c
FW_F103_LD   := $(sort $(wildcard firmware/hal/stm32f103/*.ld))
FW_F103_HDRS := $(sort $(wildcard firmware/core/*.h firmware/hal/cm3/*.h \
		firmware/hal/stm32f103/*.h firmware/boot/*.h)) \
		include/rinki/regmap.h include/rinki/fwimage.h
FW_F103_OBJS := $(patsubst %.c,$(FW_F103_DIR)/%.o,$(FW_F103_SRCS))
FW_F103_SLOT_OBJS := $(patsubst %.c,$(FW_F103_DIR)/slot/%.o,$(FW_F103_SLOT_SRCS))
FW_F103_BOOT_OBJS := $(patsubst %.c,$(FW_F103_DIR)/boot/%.o,$(FW_F103_BOOT_SRCS))
# Board id of the images (RINKI_BOARD_ID_REV_A) and the slot payload addresses (link_slot_*.ld).
FW_F103_BOARD  := 0x0100
FW_F103_LOAD_A := 0x08001100
FW_F103_LOAD_B := 0x08008500
FW_F103_CFLAGS := -mcpu=cortex-m3 -mthumb -Os -g -std=gnu11 -ffreestanding \
		  -ffunction-sections -fdata-sections -fno-common -fno-tree-loop-distribute-patterns \
		  -Wall -Wextra -Werror -Wshadow -Iinclude -Ifirmware/core -Ifirmware/hal/cm3 \
		  -Ifirmware/hal/stm32f103 \
		  -I$(FW_F103_DIR) -include $(FW_F103_DIR)/fw_build.h \
		  -DFW_IMAGE_BOARD_ID=$(FW_F103_BOARD) -MMD -MP
FW_F103_LDFLAGS := -Lfirmware/hal/stm32f103 -nostdlib -nostartfiles -Wl,--gc-sections

# Generated pin headers, one per target (see hw/pins.md). A csv that does not fit the HAL
# fails here (tools/pins-gen.sh) or at the HAL's _Static_asserts.
build/fw/stm32f103/pins.h build/fw/mps2/pins.h: build/fw/%/pins.h: hw/pins.csv \
		firmware/core/hal.h tools/pins-gen.sh
	tools/pins-gen.sh hw/pins.csv firmware/core/hal.h $* $@

$(FW_F103_DIR)/fw_build.h: $(sort $(FW_F103_SLOT_SRCS) $(FW_F103_BOOT_SRCS)) $(FW_F103_LD) \
			   $(FW_F103_HDRS) hw/pins.csv
	@mkdir -p $(@D)
	@h=$$(cat $^ | cksum | cut -d' ' -f1); \
	printf '/* generated by firmware/firmware.mk */\n#define FW_BUILD_HASH 0x%08xu\n' $$h > $@

$(FW_F103_OBJS): $(FW_F103_DIR)/%.o: %.c $(FW_F103_DIR)/fw_build.h $(FW_F103_DIR)/pins.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_F103_CFLAGS) -c $< -o $@

$(FW_F103_SLOT_OBJS): $(FW_F103_DIR)/slot/%.o: %.c $(FW_F103_DIR)/fw_build.h $(FW_F103_DIR)/pins.h \
		      build/fw/fw_entry_key.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_F103_CFLAGS) -DFW_BOOT_APP -include build/fw/fw_entry_key.h -c $< -o $@

$(FW_F103_BOOT_OBJS): $(FW_F103_DIR)/boot/%.o: %.c $(FW_F103_DIR)/fw_build.h $(FW_F103_DIR)/pins.h \
		      build/fw/fw_entry_key.h
	@mkdir -p $(@D)
	$(FW_ARM_CC) $(FW_F103_CFLAGS) $(FW_BOOT_LTO) -Ifirmware/boot \
		-include build/fw/fw_entry_key.h -c $< -o $@

# fw_size_check: $(1) elf, $(2) flash budget in bytes; fails above it or above 4 KiB RAM (stack
# and retained words included), and removes the elf so the next make tries again.
define fw_size_check
	@$(FW_ARM_SIZE) $(1) | awk -v n=$(1) -v max=$(2) 'NR == 2 { fl = $$1 + $$2; \
		ram = $$2 + $$3 + 64; printf "%-32s flash %5d / %5d B, RAM %4d / 4096 B " \
		"(1024 stack + 64 retained)\n", n, fl, max, ram; \
		if (fl > max || ram > 4096) { print n ": over budget"; exit 1 } } \
		END { if (NR < 2) exit 1 }' || { rm -f $(1); exit 1; }
endef

$(FW_F103_DIR)/fw.elf: $(FW_F103_OBJS) $(FW_F103_LD)
	$(FW_ARM_CC) $(FW_F103_CFLAGS) $(FW_F103_LDFLAGS) -T firmware/hal/stm32f103/link.ld \
		-Wl,-Map=$(FW_F103_DIR)/fw.map -o $@ $(FW_F103_OBJS) -lgcc
	$(call fw_size_check,$@,16384)

$(FW_F103_DIR)/app-a.elf $(FW_F103_DIR)/app-b.elf: $(FW_F103_DIR)/app-%.elf: \
		$(FW_F103_SLOT_OBJS) $(FW_F103_LD)
	$(FW_ARM_CC) $(FW_F103_CFLAGS) $(FW_F103_LDFLAGS) -T firmware/hal/stm32f103/link_slot_$*.ld \
		-Wl,-Map=$(FW_F103_DIR)/app-$*.map -o $@ $(FW_F103_SLOT_OBJS) -lgcc
	$(call fw_size_check,$@,16384)

$(FW_F103_DIR)/boot.elf: $(FW_F103_BOOT_OBJS) $(FW_F103_LD)
	$(FW_ARM_CC) $(FW_F103_CFLAGS) -flto $(FW_F103_LDFLAGS) -T firmware/hal/stm32f103/link_boot.ld \
		-Wl,-Map=$(FW_F103_DIR)/boot.map -o $@ $(FW_F103_BOOT_OBJS) -lgcc
	$(call fw_size_check,$@,4096)

$(FW_F103_DIR)/fw.bin $(FW_F103_DIR)/app-a.bin $(FW_F103_DIR)/app-b.bin: %.bin: %.elf
	$(FW_OBJCOPY) -O binary $< $@

$(FW_F103_DIR)/fw.img: $(FW_F103_DIR)/app-a.bin $(FW_F103_DIR)/app-b.bin $(FW_SIGN_KEY) \
		       build/rinki-flash-sign
	$(call fw_pack,$@,$(FW_F103_DIR)/fw_build.h,$(FW_F103_DIR)/app,,FW_F103)

# --- host unit tests of the core (fake HAL) ---------------------------------
FW_HOST_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 \
		  -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
		  -Iinclude $(shell pkg-config --cflags cmocka 2>/dev/null) -MMD -MP
FW_UNIT_CFLAGS := $(FW_HOST_CFLAGS) -Ifirmware/core -Itests/unit/fw -DFW_BUILD_HASH=0x12345678u \
		  -DFW_ENTRY_KEY='{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}'
FW_CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# Two builds of the core: "test" with FW_HAL_TEST_INPUTS (as in the QEMU image), "prod" without.
FW_UNIT_LIB_SRCS := $(FW_CORE_SRCS) firmware/core/fw_boot.c firmware/core/fw_boot_proto.c \
		    firmware/core/fw_boot_app.c firmware/core/fw_siphash.c firmware/core/fw_nctr.c \
		    firmware/core/fw_entry.c tests/unit/fw/fake_hal.c \
		    tests/unit/fw/fake_flash.c
FW_UNIT_TEST_OBJS := $(patsubst %.c,build/san/fwunit/test/%.o,$(FW_UNIT_LIB_SRCS))
FW_UNIT_PROD_OBJS := $(patsubst %.c,build/san/fwunit/prod/%.o,$(FW_UNIT_LIB_SRCS))
FW_UNIT_TESTS := test_fw_modbus test_fw_io test_fw_boot test_fw_boot_app test_fw_rxq test_fw_nctr
FW_UNIT_PROD_TESTS := test_fw_prod
FW_UNIT_BINS := $(FW_UNIT_TESTS:%=build/san/fwunit/%) $(FW_UNIT_PROD_TESTS:%=build/san/fwunit/%)

$(FW_UNIT_TEST_OBJS) $(FW_UNIT_TESTS:%=build/san/fwunit/test/tests/unit/fw/%.o): \
build/san/fwunit/test/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FW_UNIT_CFLAGS) -DFW_HAL_TEST_INPUTS -c $< -o $@

$(FW_UNIT_PROD_OBJS) $(FW_UNIT_PROD_TESTS:%=build/san/fwunit/prod/tests/unit/fw/%.o): \
build/san/fwunit/prod/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(FW_UNIT_CFLAGS) -c $< -o $@

$(FW_UNIT_TESTS:%=build/san/fwunit/%): build/san/fwunit/%: \
build/san/fwunit/test/tests/unit/fw/%.o $(FW_UNIT_TEST_OBJS)
	$(CC) $(FW_UNIT_CFLAGS) -o $@ $(INPUTS) $(FW_CMOCKA_LIBS)

$(FW_UNIT_PROD_TESTS:%=build/san/fwunit/%): build/san/fwunit/%: \
build/san/fwunit/prod/tests/unit/fw/%.o $(FW_UNIT_PROD_OBJS)
	$(CC) $(FW_UNIT_CFLAGS) -o $@ $(INPUTS) $(FW_CMOCKA_LIBS)

# --- QEMU test (libmodbus against the real image) ---------------------------
# Both QEMU tests start QEMU through tests/integration/qemu_rig.c (linked in).
FW_QEMU_RIG := tests/integration/qemu_rig.c tests/integration/qemu_rig.h
FW_QEMU_TEST := build/san/fwunit/test_fw_qemu
$(FW_QEMU_TEST): tests/integration/fw/test_fw_qemu.c $(FW_QEMU_RIG) build/fw/fw_build.h \
		 include/rinki/regmap.h firmware/core/fw_version.h
	@mkdir -p $(@D)
	$(CC) $(FW_HOST_CFLAGS) -include build/fw/fw_build.h \
		$(shell pkg-config --cflags libmodbus) -o $@ $(filter %.c,$^) \
		$(shell pkg-config --libs libmodbus) $(FW_CMOCKA_LIBS)

# The bootloader + rinki-flash cycle in QEMU.
FW_BOOT_QEMU_TEST := build/san/fwunit/test_fw_boot_qemu
$(FW_BOOT_QEMU_TEST): tests/integration/fw/test_fw_boot_qemu.c $(FW_QEMU_RIG) \
		      build/fw/fw_build.h include/rinki/regmap.h include/rinki/fwimage.h
	@mkdir -p $(@D)
	$(CC) $(FW_HOST_CFLAGS) -include build/fw/fw_build.h \
		$(shell pkg-config --cflags libmodbus) -o $@ $(filter %.c,$^) \
		$(shell pkg-config --libs libmodbus libsodium) $(FW_CMOCKA_LIBS)

fw-test: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
fw-test: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
fw-test: $(FW_UNIT_BINS) $(FW_QEMU_TEST) build/fw/fw.elf $(FW_BOOT_QEMU_TEST) build/fw/boot.elf \
	 $(FW_IMAGES) build/san/bin/rinki-flash $(FW_BOARD_IMAGES) build/san/bin/rinki-flash-relkey \
	 build/rinki-flash-sign
	@fail=0; for t in $(FW_UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	echo "== $(FW_QEMU_TEST)"; FW_ELF=build/fw/fw.elf $(FW_QEMU_TEST) || fail=1; \
	echo "== $(FW_BOOT_QEMU_TEST)"; RINKI_FLASH=build/san/bin/rinki-flash \
		FW_BOOT_ELF=build/fw/boot.elf FW_IMG_DIR=build/fw FW_KEY=$(FW_TEST_KEY) \
		RINKI_FLASH_ENTRY_KEY=$(FW_ENTRY_KEY_FILE) $(FW_BOOT_QEMU_TEST) || fail=1; \
	echo "== tests/integration/fw/test_fw_mbpoll.sh"; FW_ELF=build/fw/fw.elf \
		FW_BUILD_H=build/fw/fw_build.h tests/integration/fw/test_fw_mbpoll.sh || fail=1; \
	echo "== tests/integration/fw/test_fw_f103_image.sh"; RINKI_FLASH=build/san/bin/rinki-flash \
		FW_F103_DIR=$(FW_F103_DIR) FW_KEY=$(FW_TEST_KEY) FW_MPS2_IMG=build/fw/fw.img \
		tests/integration/fw/test_fw_f103_image.sh || fail=1; \
	echo "== tests/integration/fw/test_fw_trust.sh"; RINKI_FLASH=build/san/bin/rinki-flash \
		RINKI_FLASH_RELKEY=build/san/bin/rinki-flash-relkey \
		RINKI_FLASH_SIGN=build/rinki-flash-sign FW_IMG_DIR=build/fw \
		tests/integration/fw/test_fw_trust.sh || fail=1; \
	exit $$fail

# --- fuzz target (not part of make test) ------------------------------------
build/fw/fuzz/fuzz_fw_modbus: tests/fuzz/fuzz_fw_modbus.c firmware/core/fw_modbus.c \
			      firmware/core/fw_modbus.h
	@mkdir -p $(@D)
	$(FW_CLANG) -std=gnu11 -g -O1 -Wall -Wextra -Werror -Ifirmware/core -Iinclude \
		-fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_fw_modbus.c \
		firmware/core/fw_modbus.c

FW_FUZZ_BOOT_SRCS := tests/fuzz/fuzz_fw_boot.c firmware/core/fw_boot.c \
		     firmware/core/fw_boot_proto.c firmware/core/fw_siphash.c \
		     firmware/core/fw_nctr.c firmware/core/fw_entry.c tests/unit/fw/fake_flash.c
build/fw/fuzz/fuzz_fw_boot: $(FW_FUZZ_BOOT_SRCS) $(FW_HDRS)
	@mkdir -p $(@D)
	$(FW_CLANG) -std=gnu11 -g -O1 -Wall -Wextra -Werror -Ifirmware/core -Iinclude \
		-Itests/unit/fw -DFW_ENTRY_KEY='{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}' \
		-fsanitize=fuzzer,address,undefined -o $@ $(FW_FUZZ_BOOT_SRCS)

# rinki-flash's image-file parser (tools/rinki-flash.c included whole, its main renamed).
build/fw/fuzz/fuzz_fw_flash_image: tests/fuzz/fuzz_fw_flash_image.c tools/rinki-flash.c \
				   include/rinki/fwimage.h include/rinki/regmap.h
	@mkdir -p $(@D)
	$(FW_CLANG) -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Iinclude \
		$(RF_PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(RF_PKG_LIBS)

fw-fuzz: build/fw/fuzz/fuzz_fw_modbus build/fw/fuzz/fuzz_fw_boot build/fw/fuzz/fuzz_fw_flash_image

# rinki-flash (host tool) has its own rules.
include tools/rinki-flash.mk

# --- fuzz smoke of the fw targets (root Makefile's fuzz-smoke, part of make test) ----------
# Every tests/fuzz/fuzz_fw_*.c with tests/fuzz/smoke_main.c under gcc + ASan/UBSan, linked
# against the host objects of the unit tests (an archive: each target takes what it uses).
FW_SMOKE_SRCS := $(sort $(wildcard tests/fuzz/fuzz_fw_*.c))
FW_SMOKE_BINS := $(FW_SMOKE_SRCS:tests/fuzz/%.c=build/san/fwunit/smoke/%)

build/san/fwunit/libfwhost.a: $(FW_UNIT_TEST_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FW_SMOKE_BINS): build/san/fwunit/smoke/%: tests/fuzz/%.c build/san/tests/fuzz/smoke_main.o \
		  build/san/fwunit/libfwhost.a $(FW_HDRS) $(RF_DEPS)
	@mkdir -p $(@D)
	$(CC) $(FW_UNIT_CFLAGS) -DFW_HAL_TEST_INPUTS $(RF_PKG_CFLAGS) \
		-o $@ $< build/san/tests/fuzz/smoke_main.o build/san/fwunit/libfwhost.a \
		$(RF_PKG_LIBS)

fuzz-smoke: $(FW_SMOKE_BINS)

.PHONY: firmware fw-test fw-fuzz
.DEFAULT_GOAL := $(FW_SAVED_GOAL)
