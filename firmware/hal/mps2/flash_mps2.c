/*
 * Flash and slot layout of the mps2-an385 target, linked into both the bootloader and the
 * application. QEMU's code memory is RAM, so erase and program are plain stores; they keep
 * the rules of NOR flash (1 KiB erase sectors, programming only clears bits) and refuse what
 * real flash would not do, so a missing erase shows up in the QEMU tests. Only the two slots
 * and the nonce counter after them can be erased or written: the bootloader's own 4 KiB are
 * out of reach.
 */
#include <stddef.h>
#include <stdint.h>

#include "fw_boot_hal.h"
#include "hal_mps2.h"
#include "rinki/regmap.h"

/* The board id the build signs the images with (firmware.mk) is the one the board reports. */
#ifdef FW_IMAGE_BOARD_ID
_Static_assert(FW_IMAGE_BOARD_ID == RINKI_BOARD_ID_QEMU_MPS2,
	       "firmware.mk signs images for another board id");
#endif

static const struct fw_boot_layout layout = {
    .slot_addr = {MPS2_SLOT_A, MPS2_SLOT_B},
    .slot_size = MPS2_SLOT_SIZE,
    .sector_size = MPS2_SECTOR_SIZE,
    .nctr_addr = MPS2_NCTR,
    .board_id = RINKI_BOARD_ID_QEMU_MPS2,
};

const struct fw_boot_layout *hal_boot_layout(void)
{
	return &layout;
}

#define WRITABLE_END (MPS2_NCTR + 2u * MPS2_SECTOR_SIZE)
_Static_assert(MPS2_SLOT_B + MPS2_SLOT_SIZE == MPS2_NCTR, "the counter follows slot B");

static int in_slots(uint32_t addr, uint32_t len)
{
	return addr >= MPS2_SLOT_A && len <= WRITABLE_END - addr && addr < WRITABLE_END;
}

int hal_flash_erase(uint32_t addr)
{
	if (addr % MPS2_SECTOR_SIZE || !in_slots(addr, MPS2_SECTOR_SIZE))
		return -1;
	volatile uint32_t *p = (volatile uint32_t *)addr;
	for (uint32_t i = 0; i < MPS2_SECTOR_SIZE / 4; i++)
		p[i] = 0xFFFFFFFFu;
	return 0;
}

int hal_flash_write(uint32_t addr, const void *buf, uint32_t len)
{
	volatile uint8_t *d = (volatile uint8_t *)addr;
	const uint8_t *s = buf;

	if (!in_slots(addr, len))
		return -1;
	for (uint32_t i = 0; i < len; i++)
		if (s[i] & ~d[i])
			return -1; /* a 0 -> 1 bit: not erased */
	for (uint32_t i = 0; i < len; i++)
		d[i] = s[i];
	return 0;
}

void hal_flash_read(uint32_t addr, void *buf, uint32_t len)
{
	const volatile uint8_t *s = (const volatile uint8_t *)addr;
	uint8_t *d = buf;

	while (len--)
		*d++ = *s++;
}
