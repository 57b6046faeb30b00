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
 * Each ENTER uses the nonce up; the next one is SipHash(key, previous nonce, a counter and the
 * time), so it never repeats within a run. After a power cycle the sequence starts again from
 * the time of the first request (ms): see hw/bootloader.md for what that leaves open.
 */
#include "fw_boot_app.h"

#include "fw_boot_hal.h"
#include "fw_siphash.h"
#include "hal.h"
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

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A fresh nonce: never the same twice in a run, unpredictable without the key. */
static void new_nonce(struct fw_boot_app *a)
{
	uint8_t m[16];

	put_le(m, a->nonce, 8);
	put_le(m + 8, ++a->nonce_ctr, 4);
	put_le(m + 12, hal_time_ms(), 4);
	a->nonce = fw_siphash(entry_key, m, sizeof(m));
}

/* Whether the MAC registers hold the MAC of the current nonce for this board. */
static bool entry_mac_ok(const struct fw_boot_app *a)
{
	uint8_t m[RINKI_BOOT_ENTRY_MSG_LEN];
	uint64_t want, got = 0;

	for (unsigned i = 0; i < 8; i++)
		m[i] = (uint8_t)RINKI_BOOT_ENTRY_TAG[i];
	put_le(m + 8, a->nonce, 8);
	put_le(m + 16, a->boot.lay->board_id, 2);
	want = fw_siphash(entry_key, m, sizeof(m));
	for (unsigned i = 0; i < 4; i++)
		got = got << 16 | a->mac[i];
	return want == got;
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
		/* One try per nonce. A refusal ends the request in the check pass, so that pass
		 * uses the nonce up too (the one side effect of a check); the MAC must therefore
		 * be written before, in a request of its own. */
		bool ok = entry_mac_ok(a);
		if (!ok || commit) {
			new_nonce(a);
			for (unsigned i = 0; i < 4; i++)
				a->mac[i] = 0;
		}
		if (!ok)
			return FW_MB_EX_ILLEGAL_VALUE;
		if (commit)
			a->enter = true;
		return FW_MB_EX_NONE;
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
	a->nonce = 0;
	a->nonce_ctr = 0;
	for (unsigned i = 0; i < 4; i++)
		a->mac[i] = 0;
	new_nonce(a);
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
