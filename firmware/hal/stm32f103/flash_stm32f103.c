/*
 * Flash and slot layout of the STM32F103 target (hal_stm32f103.h): page erase and half-word
 * programming through the FLASH interface (unlock keys, PER/PG, BSY/EOP/PGERR/WRPRTERR), for
 * the two slots only; the bootloader's own 4 KiB are out of reach. Like the mps2 version it
 * refuses to program a 1 over a 0 (the hardware would set PGERR on a non-erased half-word).
 * The CPU stalls while the flash is busy, so the code may run from flash (unverified, like the
 * page size, half-word programming and the write-1-to-clear SR flags: hw/stm32f103-facts.md).
 * Register addresses, bits and the unlock keys: [CMSIS] (see hal_stm32f103.h). Not run on
 * hardware.
 */
#include <stddef.h>
#include <stdint.h>

#include "fw_boot_hal.h"
#include "hal_stm32f103.h"
#include "regs_stm32f103.h"
#include "rinki/regmap.h"

#define FLASH_BUSY_SPIN_MAX 2000000u /* page erase is 20-40 ms at most; this is far more */

/* The board id the build signs the images with (firmware.mk) is the one the board reports. */
#ifdef FW_IMAGE_BOARD_ID
_Static_assert(FW_IMAGE_BOARD_ID == RINKI_BOARD_ID_REV_A,
	       "firmware.mk signs images for another board id");
#endif

static const struct fw_boot_layout layout = {
    .slot_addr = {F103_SLOT_A, F103_SLOT_B},
    .slot_size = F103_SLOT_SIZE,
    .sector_size = F103_SECTOR_SIZE,
    .nctr_addr = F103_NCTR,
    .board_id = RINKI_BOARD_ID_REV_A,
};

const struct fw_boot_layout *hal_boot_layout(void)
{
	return &layout;
}

/* The slots and the nonce counter after them: all the flash but the bootloader's. */
#define WRITABLE_END (F103_NCTR + 2u * F103_SECTOR_SIZE)
_Static_assert(F103_SLOT_B + F103_SLOT_SIZE == F103_NCTR, "the counter follows slot B");

static int in_slots(uint32_t addr, uint32_t len)
{
	return addr >= F103_SLOT_A && addr < WRITABLE_END && len <= WRITABLE_END - addr;
}

static void unlock(void)
{
	if (FLASH_CR & FLASH_CR_LOCK) {
		FLASH_KEYR = FLASH_KEY1;
		FLASH_KEYR = FLASH_KEY2;
	}
}

static void lock(void)
{
	FLASH_CR = FLASH_CR_LOCK;
}

/* Wait for the operation to end; returns 0, or -1 on an error flag or a stuck BSY. */
static int wait_done(void)
{
	for (uint32_t n = 0; FLASH_SR & FLASH_SR_BSY; n++)
		if (n > FLASH_BUSY_SPIN_MAX)
			return -1;
	uint32_t sr = FLASH_SR;
	FLASH_SR = FLASH_SR_ERR | FLASH_SR_EOP; /* write 1 to clear */
	return sr & FLASH_SR_ERR ? -1 : 0;
}

int hal_flash_erase(uint32_t addr)
{
	if (addr % F103_SECTOR_SIZE || !in_slots(addr, F103_SECTOR_SIZE))
		return -1;
	unlock();
	FLASH_CR = FLASH_CR_PER;
	FLASH_AR = addr;
	FLASH_CR = FLASH_CR_PER | FLASH_CR_STRT;
	int rc = wait_done();
	lock();
	return rc;
}

/* Program one half-word at an even address. */
static int program16(uint32_t addr, uint16_t v)
{
	volatile uint16_t *p = (volatile uint16_t *)addr;

	if (*p == v)
		return 0;
	if (v & ~*p)
		return -1; /* a 0 -> 1 bit: not erased */
	FLASH_CR = FLASH_CR_PG;
	*p = v;
	int rc = wait_done();
	FLASH_CR = 0;
	return rc == 0 && *p == v ? 0 : -1;
}

int hal_flash_write(uint32_t addr, const void *buf, uint32_t len)
{
	const uint8_t *s = buf;
	int rc = 0;

	if (!in_slots(addr, len))
		return -1;
	unlock();
	/* Half-words only: an odd start or end is merged with the byte already there. */
	while (len && rc == 0) {
		uint32_t a = addr & ~1u;
		uint16_t cur = *(volatile uint16_t *)a;
		uint16_t v;
		uint32_t n;

		if (addr & 1u) {
			v = (uint16_t)((cur & 0x00FFu) | (uint16_t)s[0] << 8);
			n = 1;
		} else if (len == 1) {
			v = (uint16_t)((cur & 0xFF00u) | s[0]);
			n = 1;
		} else {
			v = (uint16_t)(s[0] | (uint16_t)s[1] << 8);
			n = 2;
		}
		rc = program16(a, v);
		addr += n;
		s += n;
		len -= n;
	}
	lock();
	return rc;
}

void hal_flash_read(uint32_t addr, void *buf, uint32_t len)
{
	const volatile uint8_t *s = (const volatile uint8_t *)addr;
	uint8_t *d = buf;

	while (len--)
		*d++ = *s++;
}
