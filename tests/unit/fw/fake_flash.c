/*
 * Fake flash for the boot tests (see fake_flash.h). Addresses are offsets into fake_flash;
 * everything below FAKE_SLOT_A stands for the bootloader and may not be erased or written.
 */
#include "fake_flash.h"

#include <string.h>

uint8_t fake_flash[FAKE_FLASH_SIZE];
unsigned fake_flash_ops;
unsigned fake_flash_fail_at;
enum fake_cut fake_flash_cut;
jmp_buf *fake_flash_power_jmp;
unsigned fake_flash_violations;
bool fake_boot_request;
unsigned fake_boot_enters;

const struct fw_boot_layout fake_layout = {
    .slot_addr = {FAKE_SLOT_A, FAKE_SLOT_B},
    .slot_size = FAKE_SLOT_SIZE,
    .sector_size = FAKE_FLASH_SECTOR,
    .nctr_addr = FAKE_NCTR,
    .board_id = FAKE_BOARD,
};

void fake_flash_reset(void)
{
	memset(fake_flash, 0xFF, sizeof(fake_flash));
	fake_flash_ops = 0;
	fake_flash_fail_at = 0;
	fake_flash_cut = FAKE_CUT_NONE;
	fake_flash_power_jmp = NULL;
	fake_flash_violations = 0;
	fake_boot_request = false;
	fake_boot_enters = 0;
}

static bool writable(uint32_t addr, uint32_t len)
{
	return addr >= FAKE_SLOT_A && addr <= FAKE_FLASH_SIZE && len <= FAKE_FLASH_SIZE - addr;
}

/* Count the operation; on the armed one, return how many of n bytes get done (else n). */
static uint32_t power(uint32_t n, bool *cut)
{
	*cut = ++fake_flash_ops == fake_flash_fail_at;
	if (!*cut)
		return n;
	return fake_flash_cut == FAKE_CUT_NONE ? 0 : n / 2;
}

static void power_lost(void)
{
	fake_flash_fail_at = 0;
	longjmp(*fake_flash_power_jmp, 1);
}

const struct fw_boot_layout *hal_boot_layout(void)
{
	return &fake_layout;
}

int hal_flash_erase(uint32_t addr)
{
	bool cut;

	if (addr % FAKE_FLASH_SECTOR || !writable(addr, FAKE_FLASH_SECTOR)) {
		fake_flash_violations++;
		return -1;
	}
	uint32_t n = power(FAKE_FLASH_SECTOR, &cut);
	memset(fake_flash + addr, 0xFF, n);
	if (cut) {
		/* An erase stopped half-way leaves the rest undefined, not as it was. */
		if (fake_flash_cut == FAKE_CUT_GARBAGE)
			for (uint32_t i = n; i < FAKE_FLASH_SECTOR; i++)
				fake_flash[addr + i] = (uint8_t)(fake_flash[addr + i] | (i * 37u));
		power_lost();
	}
	return 0;
}

int hal_flash_write(uint32_t addr, const void *buf, uint32_t len)
{
	const uint8_t *s = buf;
	bool cut;

	if (!writable(addr, len)) {
		fake_flash_violations++;
		return -1;
	}
	for (uint32_t i = 0; i < len; i++)
		if (s[i] & ~fake_flash[addr + i]) {
			fake_flash_violations++;
			return -1;
		}
	uint32_t n = power(len, &cut);
	for (uint32_t i = 0; i < n; i++)
		fake_flash[addr + i] &= s[i];
	if (cut) {
		if (fake_flash_cut == FAKE_CUT_GARBAGE && n < len)
			fake_flash[addr + n] &= (uint8_t)(s[n] | 0x5A);
		power_lost();
	}
	return 0;
}

void hal_flash_read(uint32_t addr, void *buf, uint32_t len)
{
	if (addr > FAKE_FLASH_SIZE || len > FAKE_FLASH_SIZE - addr) {
		fake_flash_violations++;
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, fake_flash + addr, len);
}

void hal_boot_enter(void)
{
	fake_boot_enters++;
	fake_boot_request = true;
}

bool hal_boot_take_request(void)
{
	bool r = fake_boot_request;

	fake_boot_request = false;
	return r;
}
