/*
 * Modbus RTU slave engine. Bytes are collected into mb->rx until the HAL reports the
 * inter-frame gap; the frame is then checked (length, CRC, address) and its PDU is run against
 * the data model in struct fw_mb_ops. Every length and count in a request is checked against
 * the PDU's real length before it is used. Writes are two-phase (check all, then commit), so a
 * request that gets an exception changes nothing. Broadcast (address 0) runs write functions
 * without a reply and ignores reads. Portable C, no heap; also built on the host for tests.
 */
#include "fw_modbus.h"

#include <stddef.h>

#define FC_READ_COILS	   0x01
#define FC_READ_DISCRETE   0x02
#define FC_READ_HOLDING	   0x03
#define FC_READ_INPUT	   0x04
#define FC_WRITE_COIL	   0x05
#define FC_WRITE_REGISTER  0x06
#define FC_WRITE_COILS	   0x0F
#define FC_WRITE_REGISTERS 0x10

#define MAX_READ_BITS  2000
#define MAX_READ_REGS  125
#define MAX_WRITE_BITS 1968
#define MAX_WRITE_REGS 123
#define ADU_MIN	       4 /* address, function, CRC */

uint16_t fw_mb_crc16(const uint8_t *buf, uint16_t len)
{
	uint16_t crc = 0xFFFF;

	for (uint16_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

void fw_mb_init(struct fw_mb *mb, uint8_t addr, const struct fw_mb_ops *ops, void *arg)
{
	mb->ops = ops;
	mb->arg = arg;
	mb->addr = addr;
	mb->rx_len = 0;
	mb->rx_bad = false;
	mb->stats = (struct fw_mb_stats){0};
}

void fw_mb_rx_byte(struct fw_mb *mb, uint8_t byte)
{
	if (mb->rx_len < FW_MB_ADU_MAX)
		mb->rx[mb->rx_len++] = byte;
	else
		mb->rx_bad = true;
}

void fw_mb_rx_overrun(struct fw_mb *mb)
{
	mb->rx_bad = true;
}

uint16_t fw_mb_rx_gap(struct fw_mb *mb)
{
	uint16_t n = 0;

	if (mb->rx_bad)
		mb->stats.frame_errors++;
	else if (mb->rx_len > 0)
		n = fw_mb_process(mb, mb->rx, mb->rx_len, mb->tx, sizeof(mb->tx));
	mb->rx_len = 0;
	mb->rx_bad = false;
	return n;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* FC 01/02: pdu = fc start(2) qty(2). Reply: fc count bits... */
static uint8_t read_bits(struct fw_mb *mb, enum fw_mb_table table, const uint8_t *pdu,
			 uint16_t pdu_len, uint8_t *out, uint16_t *out_len)
{
	if (pdu_len != 5)
		return FW_MB_EX_ILLEGAL_VALUE;
	uint16_t start = get16(pdu + 1), qty = get16(pdu + 3);
	if (qty < 1 || qty > MAX_READ_BITS)
		return FW_MB_EX_ILLEGAL_VALUE;
	if ((uint32_t)start + qty > 0x10000)
		return FW_MB_EX_ILLEGAL_ADDRESS;

	uint8_t nbytes = (uint8_t)((qty + 7) / 8);
	for (uint16_t i = 0; i < nbytes; i++)
		out[2 + i] = 0;
	for (uint16_t i = 0; i < qty; i++) {
		uint16_t v = 0;
		uint8_t ex = mb->ops->read(mb->arg, table, (uint16_t)(start + i), &v);
		if (ex)
			return ex;
		if (v)
			out[2 + i / 8] |= (uint8_t)(1u << (i % 8));
	}
	out[1] = nbytes;
	*out_len = (uint16_t)(2 + nbytes);
	return FW_MB_EX_NONE;
}

/* FC 03/04: pdu = fc start(2) qty(2). Reply: fc count regs... */
static uint8_t read_regs(struct fw_mb *mb, enum fw_mb_table table, const uint8_t *pdu,
			 uint16_t pdu_len, uint8_t *out, uint16_t *out_len)
{
	if (pdu_len != 5)
		return FW_MB_EX_ILLEGAL_VALUE;
	uint16_t start = get16(pdu + 1), qty = get16(pdu + 3);
	if (qty < 1 || qty > MAX_READ_REGS)
		return FW_MB_EX_ILLEGAL_VALUE;
	if ((uint32_t)start + qty > 0x10000)
		return FW_MB_EX_ILLEGAL_ADDRESS;

	for (uint16_t i = 0; i < qty; i++) {
		uint16_t v = 0;
		uint8_t ex = mb->ops->read(mb->arg, table, (uint16_t)(start + i), &v);
		if (ex)
			return ex;
		put16(out + 2 + 2 * i, v);
	}
	out[1] = (uint8_t)(2 * qty);
	*out_len = (uint16_t)(2 + 2 * qty);
	return FW_MB_EX_NONE;
}

/* Value of item i of a FC 0F/10 request whose data starts at data. */
static uint16_t item(enum fw_mb_table table, const uint8_t *data, uint16_t i)
{
	if (table == FW_MB_COILS)
		return (data[i / 8] >> (i % 8)) & 1;
	return get16(data + 2 * i);
}

/*
 * Check every item, then commit every item. The check answers as the Modbus application
 * protocol orders its checks (6.6, 6.12 and their state diagrams): the address range first,
 * so an unmapped address anywhere in the range is exception 02 even when an item before it
 * has an illegal value (03); otherwise the first item's exception.
 */
static uint8_t write_items(struct fw_mb *mb, enum fw_mb_table table, uint16_t start, uint16_t qty,
			   const uint8_t *data)
{
	uint8_t first = FW_MB_EX_NONE;

	for (uint16_t i = 0; i < qty; i++) {
		uint8_t ex = mb->ops->write(mb->arg, table, (uint16_t)(start + i),
					    item(table, data, i), false);
		if (ex == FW_MB_EX_ILLEGAL_ADDRESS)
			return ex;
		if (ex && !first)
			first = ex;
	}
	if (first)
		return first;
	for (uint16_t i = 0; i < qty; i++) {
		uint8_t ex = mb->ops->write(mb->arg, table, (uint16_t)(start + i),
					    item(table, data, i), true);
		if (ex)
			return ex; /* the data model's contract: a checked write commits */
	}
	return FW_MB_EX_NONE;
}

/* FC 05/06: pdu = fc addr(2) value(2). Reply echoes the request. */
static uint8_t write_single(struct fw_mb *mb, const uint8_t *pdu, uint16_t pdu_len, uint8_t *out,
			    uint16_t *out_len)
{
	if (pdu_len != 5)
		return FW_MB_EX_ILLEGAL_VALUE;
	uint16_t addr = get16(pdu + 1), v = get16(pdu + 3);
	uint8_t data[2];
	enum fw_mb_table table = FW_MB_HOLDING;

	if (pdu[0] == FC_WRITE_COIL) {
		if (v != 0xFF00 && v != 0x0000)
			return FW_MB_EX_ILLEGAL_VALUE;
		table = FW_MB_COILS;
		data[0] = v ? 1 : 0;
	} else {
		put16(data, v);
	}
	uint8_t ex = write_items(mb, table, addr, 1, data);
	if (ex)
		return ex;
	for (uint16_t i = 1; i < 5; i++)
		out[i] = pdu[i];
	*out_len = 5;
	return FW_MB_EX_NONE;
}

/* FC 0F/10: pdu = fc start(2) qty(2) count data... Reply: fc start qty. */
static uint8_t write_multiple(struct fw_mb *mb, const uint8_t *pdu, uint16_t pdu_len, uint8_t *out,
			      uint16_t *out_len)
{
	if (pdu_len < 6)
		return FW_MB_EX_ILLEGAL_VALUE;
	bool coils = pdu[0] == FC_WRITE_COILS;
	uint16_t start = get16(pdu + 1), qty = get16(pdu + 3);
	uint8_t count = pdu[5];
	uint16_t max = coils ? MAX_WRITE_BITS : MAX_WRITE_REGS;

	if (qty < 1 || qty > max)
		return FW_MB_EX_ILLEGAL_VALUE;
	if (count != (coils ? (qty + 7) / 8 : 2 * qty) || pdu_len != 6 + count)
		return FW_MB_EX_ILLEGAL_VALUE;
	if ((uint32_t)start + qty > 0x10000)
		return FW_MB_EX_ILLEGAL_ADDRESS;

	uint8_t ex = write_items(mb, coils ? FW_MB_COILS : FW_MB_HOLDING, start, qty, pdu + 6);
	if (ex)
		return ex;
	for (uint16_t i = 1; i < 5; i++)
		out[i] = pdu[i];
	*out_len = 5;
	return FW_MB_EX_NONE;
}

static bool is_write(uint8_t fc)
{
	return fc == FC_WRITE_COIL || fc == FC_WRITE_REGISTER || fc == FC_WRITE_COILS ||
	       fc == FC_WRITE_REGISTERS;
}

uint16_t fw_mb_process(struct fw_mb *mb, const uint8_t *adu, uint16_t len, uint8_t *rsp,
		       uint16_t cap)
{
	if (len < ADU_MIN || len > FW_MB_ADU_MAX || cap < FW_MB_ADU_MAX) {
		mb->stats.frame_errors++;
		return 0;
	}
	uint16_t crc = (uint16_t)(adu[len - 2] | adu[len - 1] << 8);
	if (fw_mb_crc16(adu, (uint16_t)(len - 2)) != crc) {
		mb->stats.crc_errors++;
		return 0;
	}
	mb->stats.frames++;

	uint8_t addr = adu[0];
	if (addr != mb->addr && addr != FW_MB_ADDR_BROADCAST)
		return 0;
	const uint8_t *pdu = adu + 1;
	uint16_t pdu_len = (uint16_t)(len - 3);
	uint8_t fc = pdu[0];
	if (addr == FW_MB_ADDR_BROADCAST && !is_write(fc))
		return 0;

	/* The reply PDU is built at rsp + 1; out[0] is the function code. */
	uint8_t *out = rsp + 1;
	uint16_t out_len = 0;
	uint8_t ex;

	/* 0x80..0xFF are exception responses' codes, never a request's: exception 01 (the code
	 * already has bit 7, so the reply echoes it), before any length check or data access. */
	if (fc & 0x80) {
		ex = FW_MB_EX_ILLEGAL_FUNCTION;
	} else {
		switch (fc) {
		case FC_READ_COILS:
			ex = read_bits(mb, FW_MB_COILS, pdu, pdu_len, out, &out_len);
			break;
		case FC_READ_DISCRETE:
			ex = read_bits(mb, FW_MB_DISCRETE, pdu, pdu_len, out, &out_len);
			break;
		case FC_READ_HOLDING:
			ex = read_regs(mb, FW_MB_HOLDING, pdu, pdu_len, out, &out_len);
			break;
		case FC_READ_INPUT:
			ex = read_regs(mb, FW_MB_INPUT, pdu, pdu_len, out, &out_len);
			break;
		case FC_WRITE_COIL:
		case FC_WRITE_REGISTER:
			ex = write_single(mb, pdu, pdu_len, out, &out_len);
			break;
		case FC_WRITE_COILS:
		case FC_WRITE_REGISTERS:
			ex = write_multiple(mb, pdu, pdu_len, out, &out_len);
			break;
		default:
			ex = FW_MB_EX_ILLEGAL_FUNCTION;
			break;
		}
	}
	if (addr == FW_MB_ADDR_BROADCAST)
		return 0;

	rsp[0] = addr;
	if (ex) {
		mb->stats.exceptions++;
		out[0] = (uint8_t)(fc | 0x80);
		out[1] = ex;
		out_len = 2;
	} else {
		out[0] = fc;
	}
	uint16_t n = (uint16_t)(1 + out_len);
	crc = fw_mb_crc16(rsp, n);
	rsp[n++] = (uint8_t)crc;
	rsp[n++] = (uint8_t)(crc >> 8);
	return n;
}
