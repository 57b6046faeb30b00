/*
 * rinki I/O MCU Modbus RTU register map, shared by the firmware, the gateway's io module and
 * the tools. Addresses are 0-based PDU addresses (what goes on the wire). Every block is
 * contiguous, so one request can read a whole block; an address outside a block is answered with
 * exception 02. Documented for people in hw/registers.md; keep the two in step.
 */
#ifndef RINKI_REGMAP_H
#define RINKI_REGMAP_H

#include <stdint.h>

#define RINKI_REGMAP_VERSION	 ((uint16_t)1u) /* bump on any incompatible change below */
#define RINKI_SLAVE_ADDR_DEFAULT ((uint16_t)1u)
#define RINKI_SLAVE_ADDR_MIN	 ((uint16_t)1u)
#define RINKI_SLAVE_ADDR_MAX	 ((uint16_t)247u)

/* Board identities (RINKI_IREG_BOARD_ID). */
#define RINKI_BOARD_ID_QEMU_MPS2 ((uint16_t)0x0001u) /* firmware/hal/mps2, QEMU mps2-an385 */
#define RINKI_BOARD_ID_REV_A                                                                       \
	((uint16_t)0x0100u) /* real board, rev A: STM32F103C8 HAL, untested on hardware */

/* Coils (FC 01 read, 05/0F write). */
#define RINKI_COIL_PTT	 ((uint16_t)0x0000u) /* 1 = key the radio (see hw/registers.md) */
#define RINKI_COIL_AUX	 ((uint16_t)0x0001u) /* spare relay output */
#define RINKI_COIL_COUNT ((uint16_t)2u)

/* Discrete inputs (FC 02), debounced. */
#define RINKI_DI_COR	((uint16_t)0x0000u) /* squelch open / carrier operated relay */
#define RINKI_DI_SPARE1 ((uint16_t)0x0001u)
#define RINKI_DI_SPARE2 ((uint16_t)0x0002u)
#define RINKI_DI_COUNT	((uint16_t)3u)

/* Input registers (FC 04), read-only. Counters are 16 bit and wrap. */
#define RINKI_IREG_BOARD_ID	  ((uint16_t)0x0000u)
#define RINKI_IREG_FW_MAJOR	  ((uint16_t)0x0001u)
#define RINKI_IREG_FW_MINOR	  ((uint16_t)0x0002u)
#define RINKI_IREG_FW_PATCH	  ((uint16_t)0x0003u)
#define RINKI_IREG_BUILD_HASH_HI  ((uint16_t)0x0004u) /* 32-bit build hash, high word first */
#define RINKI_IREG_BUILD_HASH_LO  ((uint16_t)0x0005u)
#define RINKI_IREG_REGMAP_VERSION ((uint16_t)0x0006u)
#define RINKI_IREG_STATUS	  ((uint16_t)0x0007u) /* RINKI_STATUS_* bits */
#define RINKI_IREG_UPTIME_HI	  ((uint16_t)0x0008u) /* seconds since reset, high word first */
#define RINKI_IREG_UPTIME_LO	  ((uint16_t)0x0009u)
#define RINKI_IREG_BOOT_COUNT	  ((uint16_t)0x000Au) /* resets since power-on, warm ones too */
#define RINKI_IREG_WDT_RESETS	  ((uint16_t)0x000Bu) /* resets caused by the hardware watchdog */
#define RINKI_IREG_PTT_TIMEOUTS	  ((uint16_t)0x000Cu) /* PTT forced off by the time-out timer */
#define RINKI_IREG_HB_LOSSES	  ((uint16_t)0x000Du) /* entries into safe state by heartbeat loss */
#define RINKI_IREG_CRC_ERRORS	  ((uint16_t)0x000Eu) /* received frames with a bad CRC */
#define RINKI_IREG_FRAME_ERRORS	  ((uint16_t)0x000Fu) /* frames too short/long or with lost bytes */
#define RINKI_IREG_COR_CHANGES	  ((uint16_t)0x0010u) /* debounced edges of each input */
#define RINKI_IREG_SPARE1_CHANGES ((uint16_t)0x0011u)
#define RINKI_IREG_SPARE2_CHANGES ((uint16_t)0x0012u)
#define RINKI_IREG_COUNT	  ((uint16_t)0x0013u)

/* RINKI_IREG_STATUS bits. */
#define RINKI_STATUS_PTT	 ((uint16_t)0x0001u) /* PTT relay energised */
#define RINKI_STATUS_SAFE	 ((uint16_t)0x0002u) /* safe state (no heartbeat yet, or lost) */
#define RINKI_STATUS_PTT_TIMEOUT ((uint16_t)0x0004u) /* time-out ended keying; PTT write clears */
#define RINKI_STATUS_WDT_RESET	 ((uint16_t)0x0008u) /* the last reset was caused by the watchdog */
#define RINKI_STATUS_COR	 ((uint16_t)0x0010u) /* debounced COR, same as RINKI_DI_COR */

/* Holding registers (FC 03 read, 06/10 write). Out-of-range values get exception 03. */
#define RINKI_HREG_SLAVE_ADDR	 ((uint16_t)0x0000u) /* 1..247, applies after the reply, volatile */
#define RINKI_HREG_PTT_TIMEOUT	 ((uint16_t)0x0001u) /* unit RINKI_PTT_TIMEOUT_UNIT_MS */
#define RINKI_HREG_HB_TIMEOUT_MS ((uint16_t)0x0002u) /* heartbeat loss time-out, ms */
#define RINKI_HREG_HEARTBEAT	 ((uint16_t)0x0003u) /* write anything to feed it */
#define RINKI_HREG_DEBOUNCE_MS	 ((uint16_t)0x0004u) /* input debounce time, ms, all inputs */
#define RINKI_HREG_LED_RADIO_OK	 ((uint16_t)0x0005u) /* LED patterns, RINKI_LED_* */
#define RINKI_HREG_LED_MODEM_OK	 ((uint16_t)0x0006u)
#define RINKI_HREG_LED_ON_CALL	 ((uint16_t)0x0007u)
#define RINKI_HREG_LED_FAULT	 ((uint16_t)0x0008u) /* BLINK_FAST forced in safe state */
#define RINKI_HREG_COUNT	 ((uint16_t)0x0009u)

#define RINKI_PTT_TIMEOUT_UNIT_MS ((uint16_t)100u)
#define RINKI_PTT_TIMEOUT_DEFAULT ((uint16_t)600u) /* 60 s */
#define RINKI_PTT_TIMEOUT_MIN	  ((uint16_t)1u)
#define RINKI_PTT_TIMEOUT_MAX	  ((uint16_t)36000u) /* 1 h */
#define RINKI_HB_TIMEOUT_DEFAULT  ((uint16_t)3000u)
#define RINKI_HB_TIMEOUT_MIN	  ((uint16_t)100u)
#define RINKI_HB_TIMEOUT_MAX	  ((uint16_t)60000u)
#define RINKI_DEBOUNCE_DEFAULT	  ((uint16_t)20u)
#define RINKI_DEBOUNCE_MAX	  ((uint16_t)1000u)

/* LED patterns. */
#define RINKI_LED_OFF	     ((uint16_t)0u)
#define RINKI_LED_ON	     ((uint16_t)1u)
#define RINKI_LED_BLINK_SLOW ((uint16_t)2u) /* 500 ms on, 500 ms off */
#define RINKI_LED_BLINK_FAST ((uint16_t)3u) /* 125 ms on, 125 ms off */
#define RINKI_LED_MAX	     ((uint16_t)3u)

/*
 * Test-only registers: present only in firmware built with FW_HAL_TEST_INPUTS (the QEMU HAL
 * build); production firmware answers exception 02.
 */
#define RINKI_TEST_BASE		 ((uint16_t)0x0100u)
#define RINKI_HREG_TEST_INPUTS	 ((uint16_t)0x0100u) /* raw input levels, RINKI_TEST_IN_* bits */
#define RINKI_HREG_TEST_STALL	 ((uint16_t)0x0101u) /* RINKI_TEST_STALL_MAGIC stops main loop */
#define RINKI_IREG_TEST_OUTPUTS	 ((uint16_t)0x0100u) /* output pin levels, RINKI_TEST_OUT_* bits */
#define RINKI_TEST_STALL_MAGIC	 ((uint16_t)0xDEADu)
#define RINKI_TEST_IN_COR	 ((uint16_t)0x0001u)
#define RINKI_TEST_IN_SPARE1	 ((uint16_t)0x0002u)
#define RINKI_TEST_IN_SPARE2	 ((uint16_t)0x0004u)
#define RINKI_TEST_OUT_PTT	 ((uint16_t)0x0001u)
#define RINKI_TEST_OUT_AUX	 ((uint16_t)0x0002u)
#define RINKI_TEST_OUT_LED_RADIO ((uint16_t)0x0004u)
#define RINKI_TEST_OUT_LED_MODEM ((uint16_t)0x0008u)
#define RINKI_TEST_OUT_LED_CALL	 ((uint16_t)0x0010u)
#define RINKI_TEST_OUT_LED_FAULT ((uint16_t)0x0020u)

#endif /* RINKI_REGMAP_H */
