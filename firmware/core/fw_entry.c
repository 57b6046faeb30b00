/*
 * Entry authentication shared by the application's ENTER and the bootloader's AUTH (fw_entry.h,
 * hw/bootloader.md). The nonce is SipHash under the entry key of the flash counter's value (4
 * bytes: a message length no MAC has, so no nonce is a MAC), so it is unpredictable without the key
 * and, because every check steps the counter before it compares, never the same for two checks,
 * across resets and power cycles too.
 */
#include "fw_entry.h"

#include "fw_nctr.h"
#include "fw_siphash.h"
#include "rinki/fwimage.h"

/*
 * The 16-byte bootloader entry key as a C initializer list: the build makes it
 * (firmware/firmware.mk: build/fw/keys/TEST-KEY-fw-entry.key unless FW_ENTRY_KEY_FILE names
 * another) and rinki-flash reads the same file.
 */
#ifndef FW_ENTRY_KEY
#error "FW_ENTRY_KEY (the bootloader entry key) is not defined"
#endif
static const uint8_t entry_key[RINKI_BOOT_ENTRY_KEY_LEN] = FW_ENTRY_KEY;

/* The nonce: SipHash of the counter value. (fw_siphash needs a little-endian CPU anyway.) */
static uint64_t nonce_of(uint32_t ctr)
{
	return fw_siphash(entry_key, &ctr, sizeof(ctr));
}

uint64_t fw_entry_nonce(const struct fw_boot_layout *lay)
{
	return nonce_of(fw_nctr_value(lay));
}

bool fw_entry_check(const struct fw_boot_layout *lay, uint64_t mac)
{
	struct __attribute__((packed)) {
		uint8_t tag[8];
		uint64_t nonce; /* little-endian, as the CPU */
		uint16_t board;
	} m = {RINKI_BOOT_ENTRY_TAG, fw_entry_nonce(lay), lay->board_id};
	_Static_assert(sizeof(m) == RINKI_BOOT_ENTRY_MSG_LEN, "entry message layout");
	uint32_t v;

	if (fw_nctr_step(lay, &v) != 0)
		return false;
	return fw_siphash(entry_key, &m, sizeof(m)) == mac;
}
