/*
 * Boot control inside the application. It wraps the Modbus data model: the boot registers
 * (input 0x80..0x89, holding 0x80) are answered here, every other item goes to the wrapped
 * model unchanged. Slot states are read once at start and again after a confirmation, so a
 * register read never walks the flash. The trial timer runs only while the running slot is
 * TRIAL; when it ends, fw_boot_app_poll() tells the main loop to stop, the watchdog resets
 * the board and the bootloader rejects the image.
 *
 * Entry into the bootloader needs the MAC of the current nonce under the entry key
 * (fwimage.h): without it anyone on the bus could hold the board in the bootloader and upload.
 * Each ENTER uses the nonce up: fw_entry steps the flash counter before it compares, so a
 * nonce is never offered again, not after a reset or a power cycle either.
 */
#include "fw_boot_app.h"

#include "fw_boot_hal.h"
#include "fw_entry.h"
#include "hal.h"
#include "rinki/fwimage.h"

/* The MAC registers as one 64-bit value (high word first). */
static uint64_t mac_written(const struct fw_boot_app *a)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 4; i++)
		v = v << 16 | a->mac[i];
	return v;
}

static bool in_trial(const struct fw_boot_app *a)
{
	return a->running >= 0 && a->boot.slot[a->running].state == RINKI_SLOT_TRIAL;
}

static uint16_t trial_left_s(const struct fw_boot_app *a)
{
	if (!in_trial(a) || a->expired)
		return 0;
	uint32_t left = a->trial_end - hal_time_ms();
	if (left > FW_BOOT_TRIAL_MS)
		return 0;
	return (uint16_t)((left + 999u) / 1000u);
}

static uint8_t boot_read(const struct fw_boot_app *a, uint16_t addr, uint16_t *val)
{
	if (addr == RINKI_IREG_BOOT_SLOT) {
		*val = a->running < 0 ? 0xFFFFu : (uint16_t)a->running;
		return FW_MB_EX_NONE;
	}
	if (addr == RINKI_IREG_BOOT_TRIAL_LEFT) {
		*val = trial_left_s(a);
		return FW_MB_EX_NONE;
	}
	if (addr >= RINKI_IREG_BOOT_NONCE) {
		*val = (uint16_t)(a->nonce >> (16 * (3 - (addr - RINKI_IREG_BOOT_NONCE))));
		return FW_MB_EX_NONE;
	}
	uint16_t r = (uint16_t)(addr - RINKI_IREG_BOOT_SLOT_BASE);
	const struct fw_boot_slot *s = &a->boot.slot[r / RINKI_BOOT_SLOT_REGS];
	bool img = s->state >= RINKI_SLOT_STAGED;

	switch (r % RINKI_BOOT_SLOT_REGS) {
	case RINKI_BOOT_SLOT_REG_STATE:
		*val = s->state;
		break;
	case RINKI_BOOT_SLOT_REG_VER:
		*val = img ? (uint16_t)((s->hdr.ver_major & 0xFF) << 8 | (s->hdr.ver_minor & 0xFF))
			   : 0;
		break;
	case RINKI_BOOT_SLOT_REG_PATCH:
		*val = img ? s->hdr.ver_patch : 0;
		break;
	default:
		*val = (uint16_t)s->seq;
		break;
	}
	return FW_MB_EX_NONE;
}

static uint8_t mb_read(void *arg, enum fw_mb_table table, uint16_t addr, uint16_t *val)
{
	struct fw_boot_app *a = arg;

	if (table == FW_MB_INPUT && addr >= RINKI_IREG_BOOT_SLOT &&
	    addr < RINKI_IREG_BOOT_SLOT + RINKI_IREG_BOOT_NREGS)
		return boot_read(a, addr, val);
	if (table == FW_MB_HOLDING && addr >= RINKI_HREG_BOOT_CTL &&
	    addr < RINKI_HREG_BOOT_MAC + 4) {
		*val = 0; /* neither the control word nor the MAC reads back */
		return FW_MB_EX_NONE;
	}
	return a->next_ops->read(a->next_arg, table, addr, val);
}

static uint8_t boot_ctl(struct fw_boot_app *a, uint16_t v, bool commit)
{
	if (v == RINKI_BOOT_CTL_ENTER) {
		/* One try per nonce. The check pass makes the one check (it uses the nonce up in
		 * flash, so it cannot run twice) and the commit pass acts on its verdict; the MAC
		 * must therefore be written before, in a request of its own. */
		if (commit) {
			if (!a->entry_ok)
				return FW_MB_EX_ILLEGAL_VALUE;
			a->entry_ok = false;
			a->enter = true;
			return FW_MB_EX_NONE;
		}
		a->entry_ok = fw_entry_check(a->boot.lay, mac_written(a));
		a->nonce = fw_entry_nonce(a->boot.lay);
		for (unsigned i = 0; i < 4; i++)
			a->mac[i] = 0;
		return a->entry_ok ? FW_MB_EX_NONE : FW_MB_EX_ILLEGAL_VALUE;
	}
	if (v != RINKI_BOOT_CTL_CONFIRM)
		return FW_MB_EX_ILLEGAL_VALUE;
	if (a->running < 0 || a->expired)
		return FW_MB_EX_DEVICE_FAILURE;
	uint8_t st = a->boot.slot[a->running].state;
	if (st != RINKI_SLOT_TRIAL && st != RINKI_SLOT_CONFIRMED)
		return FW_MB_EX_DEVICE_FAILURE;
	/* A failed flash write leaves the state TRIAL, which the host reads back. */
	if (commit)
		fw_boot_confirm(&a->boot, (unsigned)a->running);
	return FW_MB_EX_NONE;
}

static uint8_t mb_write(void *arg, enum fw_mb_table table, uint16_t addr, uint16_t val, bool commit)
{
	struct fw_boot_app *a = arg;

	if (table == FW_MB_HOLDING && addr == RINKI_HREG_BOOT_CTL)
		return boot_ctl(a, val, commit);
	if (table == FW_MB_HOLDING && addr >= RINKI_HREG_BOOT_MAC &&
	    addr < RINKI_HREG_BOOT_MAC + 4) {
		if (commit)
			a->mac[addr - RINKI_HREG_BOOT_MAC] = val;
		return FW_MB_EX_NONE;
	}
	return a->next_ops->write(a->next_arg, table, addr, val, commit);
}

static const struct fw_mb_ops boot_app_ops = {
    .read = mb_read,
    .write = mb_write,
};

void fw_boot_app_attach(struct fw_boot_app *a, struct fw_mb *mb, uint32_t vectors, uint32_t now)
{
	fw_boot_init(&a->boot, hal_boot_layout());
	a->next_ops = mb->ops;
	a->next_arg = mb->arg;
	a->running = -1;
	for (unsigned i = 0; i < FW_BOOT_NSLOTS; i++)
		if (fw_boot_app_addr(&a->boot, i) == vectors)
			a->running = (int8_t)i;
	a->enter = false;
	a->expired = false;
	a->entry_ok = false;
	for (unsigned i = 0; i < 4; i++)
		a->mac[i] = 0;
	a->nonce = fw_entry_nonce(a->boot.lay);
	a->trial_end = now + FW_BOOT_TRIAL_MS;
	mb->ops = &boot_app_ops;
	mb->arg = a;
}

enum fw_boot_app_run fw_boot_app_poll(struct fw_boot_app *a, uint32_t now)
{
	if (a->enter) {
		a->enter = false;
		hal_boot_enter();
	}
	if (!a->expired && in_trial(a) && (int32_t)(now - a->trial_end) >= 0)
		a->expired = true;
	return a->expired ? FW_BOOT_APP_STOP : FW_BOOT_APP_RUN;
}
