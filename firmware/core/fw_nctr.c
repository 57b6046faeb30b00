/*
 * The entry nonce counter in flash (fw_nctr.h). Two sectors take turns; a sector holds a
 * header (base value, then its complement) and after it one word per step, programmed to 0 in
 * order. A sector's value is its base plus the words used (any word not all ones counts, so a
 * step cut by power loss counts too); the counter's value is the higher of the two sectors'
 * (a sector without a valid header counts 0: erased, cut or, in QEMU, zeroed). When the active
 * sector is full, the other one is erased and gets the base value + 1 in its header: until that
 * header is complete the full sector still holds the value, so a power loss at any point leaves the
 * old value or a higher one.
 */
#include "fw_nctr.h"

#define WORDS(lay) ((lay)->sector_size / 4u)

static uint32_t word(uint32_t addr)
{
	uint32_t w;

	hal_flash_read(addr, &w, sizeof(w));
	return w;
}

static uint32_t sect_addr(const struct fw_boot_layout *lay, unsigned i)
{
	return lay->nctr_addr + i * lay->sector_size;
}

/*
 * Sector i's value (0 if its header is not valid: a real header's base is at least 1), and in
 * *used its step words (counted up to the first erased one; they are written in order).
 */
static uint32_t sect(const struct fw_boot_layout *lay, unsigned i, uint32_t *used)
{
	uint32_t a = sect_addr(lay, i), base = word(a), n = 0;

	while (FW_NCTR_HDR_WORDS + n < WORDS(lay) &&
	       word(a + 4u * (FW_NCTR_HDR_WORDS + n)) != 0xFFFFFFFFu)
		n++;
	*used = n;
	if (word(a + 4) != ~base)
		return 0;
	if (base > FW_NCTR_MAX || base + n < base)
		return FW_NCTR_MAX; /* damaged: never wrap, never go below a real value */
	return base + n;
}

/* The counter's value and the sector that holds it (*act), with its used words in *used. */
static uint32_t current(const struct fw_boot_layout *lay, unsigned *act, uint32_t *used)
{
	uint32_t u[2], v0 = sect(lay, 0, &u[0]), v1 = sect(lay, 1, &u[1]);

	*act = v1 > v0;
	*used = u[*act];
	return *act ? v1 : v0;
}

uint32_t fw_nctr_value(const struct fw_boot_layout *lay)
{
	unsigned act;
	uint32_t used;

	return current(lay, &act, &used);
}

int fw_nctr_step(const struct fw_boot_layout *lay, uint32_t *val)
{
	unsigned act;
	uint32_t used, v = current(lay, &act, &used);

	if (v >= FW_NCTR_MAX)
		return -1;
	if (v && FW_NCTR_HDR_WORDS + used < WORDS(lay)) {
		uint32_t zero = 0;
		if (hal_flash_write(sect_addr(lay, act) + 4u * (FW_NCTR_HDR_WORDS + used), &zero,
				    4) != 0)
			return -1;
	} else {
		/* The full (or no) active sector keeps the value until this header is complete. */
		uint32_t o = sect_addr(lay, !act), hdr[FW_NCTR_HDR_WORDS] = {v + 1u, ~(v + 1u)};
		if (hal_flash_erase(o) != 0 || hal_flash_write(o, hdr, sizeof(hdr)) != 0)
			return -1;
	}
	*val = v + 1u;
	return 0;
}
