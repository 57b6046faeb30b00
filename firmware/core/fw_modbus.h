/*
 * Modbus RTU slave: frame assembly from received bytes and inter-frame gaps, CRC16, and the
 * PDU engine for function codes 01, 02, 03, 04, 05, 06, 0F and 10. The data model is behind
 * struct fw_mb_ops, one item at a time, so the engine needs no buffers beyond the two ADUs.
 */
#ifndef FW_MODBUS_H
#define FW_MODBUS_H

#include <stdbool.h>
#include <stdint.h>

#define FW_MB_ADU_MAX	     256 /* address + PDU (253) + CRC */
#define FW_MB_ADDR_BROADCAST 0

/* Modbus exception codes (0 = success). */
enum fw_mb_ex {
	FW_MB_EX_NONE = 0,
	FW_MB_EX_ILLEGAL_FUNCTION = 1,
	FW_MB_EX_ILLEGAL_ADDRESS = 2,
	FW_MB_EX_ILLEGAL_VALUE = 3,
	FW_MB_EX_DEVICE_FAILURE = 4,
};

enum fw_mb_table {
	FW_MB_COILS,
	FW_MB_DISCRETE,
	FW_MB_INPUT,
	FW_MB_HOLDING,
};

/* The data model. Bits are passed as 0/1 in val. */
struct fw_mb_ops {
	/* Read one item. Returns 0 or an exception code (02 for an unmapped address). */
	uint8_t (*read)(void *arg, enum fw_mb_table table, uint16_t addr, uint16_t *val);
	/*
	 * Write one coil or holding register. Called first with commit == false for every item
	 * of a request (check only, no side effect), then with commit == true for every item
	 * if all checks passed. Returns 0 or an exception code; a commit call must not fail.
	 */
	uint8_t (*write)(void *arg, enum fw_mb_table table, uint16_t addr, uint16_t val,
			 bool commit);
};

struct fw_mb_stats {
	uint16_t frames;       /* frames with a good CRC, any address */
	uint16_t crc_errors;   /* frames with a bad CRC */
	uint16_t frame_errors; /* frames shorter than 4 bytes, too long, or with lost bytes */
	uint16_t exceptions;   /* exception replies sent */
};

struct fw_mb {
	const struct fw_mb_ops *ops;
	void *arg;
	uint8_t addr; /* own slave address, 1..247 */
	uint16_t rx_len;
	bool rx_bad; /* overflow or overrun seen in the frame being received */
	struct fw_mb_stats stats;
	uint8_t rx[FW_MB_ADU_MAX];
	uint8_t tx[FW_MB_ADU_MAX];
};

/* CRC16 of Modbus RTU (poly 0xA001 reflected, init 0xFFFF); sent low byte first. */
uint16_t fw_mb_crc16(const uint8_t *buf, uint16_t len);

/* Set up mb for slave address addr (1..247) over the data model ops/arg. */
void fw_mb_init(struct fw_mb *mb, uint8_t addr, const struct fw_mb_ops *ops, void *arg);

/* Append one received byte to the frame being assembled. */
void fw_mb_rx_byte(struct fw_mb *mb, uint8_t byte);

/* Bytes were lost while the current frame was being received: it will be discarded. */
void fw_mb_rx_overrun(struct fw_mb *mb);

/*
 * The inter-frame gap was seen: the assembled bytes are one frame. Process it and return the
 * length of the reply now in mb->tx (0: no reply: bad frame, other slave, or broadcast).
 */
uint16_t fw_mb_rx_gap(struct fw_mb *mb);

/*
 * Process one complete ADU (address, PDU, CRC) of len bytes and write the reply ADU to rsp
 * (cap >= FW_MB_ADU_MAX). Returns the reply length, 0 for no reply. Updates mb->stats.
 */
uint16_t fw_mb_process(struct fw_mb *mb, const uint8_t *adu, uint16_t len, uint8_t *rsp,
		       uint16_t cap);

#endif /* FW_MODBUS_H */
