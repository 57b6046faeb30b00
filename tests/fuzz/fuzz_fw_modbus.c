/*
 * libFuzzer target for the firmware's Modbus RTU frame parser and PDU engine
 * (firmware/core/fw_modbus.c). The input is a received byte stream: byte 0xFF followed by
 * 0xFE stands for an inter-frame gap, so one input can hold several frames, partial frames
 * and oversized frames. Checks that every reply fits the ADU, carries a valid CRC and the
 * slave's address, and that the data model is only asked about in-range items.
 * Build: make fw-fuzz; run: build/fw/fuzz/fuzz_fw_modbus -max_len=600
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fw_modbus.h"

#define SLAVE  1
#define NITEMS 64

static uint16_t regs[4][NITEMS];

static uint8_t fz_read(void *arg, enum fw_mb_table t, uint16_t addr, uint16_t *val)
{
	(void)arg;
	if (addr >= NITEMS)
		return FW_MB_EX_ILLEGAL_ADDRESS;
	*val = regs[t][addr];
	return 0;
}

static uint8_t fz_write(void *arg, enum fw_mb_table t, uint16_t addr, uint16_t val, bool commit)
{
	(void)arg;
	if (t != FW_MB_COILS && t != FW_MB_HOLDING)
		abort();
	if (t == FW_MB_COILS && val > 1)
		abort();
	if (addr >= NITEMS)
		return FW_MB_EX_ILLEGAL_ADDRESS;
	if (val == 0xBAD0)
		return FW_MB_EX_ILLEGAL_VALUE;
	if (commit)
		regs[t][addr] = val;
	return 0;
}

static const struct fw_mb_ops ops = {.read = fz_read, .write = fz_write};

static void check_reply(const struct fw_mb *mb, uint16_t n)
{
	if (n == 0)
		return;
	if (n < 5 || n > FW_MB_ADU_MAX)
		abort();
	if (fw_mb_crc16(mb->tx, n) != 0 || mb->tx[0] != SLAVE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fw_mb mb;

	fw_mb_init(&mb, SLAVE, &ops, NULL);
	for (size_t i = 0; i < size; i++) {
		if (data[i] == 0xFF && i + 1 < size && data[i + 1] == 0xFE) {
			check_reply(&mb, fw_mb_rx_gap(&mb));
			i++;
		} else {
			fw_mb_rx_byte(&mb, data[i]);
		}
	}
	check_reply(&mb, fw_mb_rx_gap(&mb));

	/* The same input as one ADU through the pure entry point. */
	if (size <= FW_MB_ADU_MAX) {
		uint16_t n = fw_mb_process(&mb, data, (uint16_t)size, mb.tx, sizeof(mb.tx));
		check_reply(&mb, n);
	}
	return 0;
}
