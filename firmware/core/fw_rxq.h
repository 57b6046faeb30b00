/*
 * The UART receive event queue every HAL keeps between its interrupt handlers and
 * hal_uart_getc(): a fixed ring of events (a byte 0..255, HAL_UART_GAP, HAL_UART_OVERRUN) with
 * one producer (the receive and gap-timer handlers, which must not preempt each other) and one
 * consumer (the main loop). No heap, no locks: the producer writes only head and lost, the
 * consumer only tail. When the ring is full an event is dropped and HAL_UART_OVERRUN is queued
 * in its place as soon as there is room again, so the loss shows where it happened.
 */
#ifndef FW_RXQ_H
#define FW_RXQ_H

#include <stdbool.h>
#include <stdint.h>

#define FW_RXQ_LEN 128u /* events; a power of two, so the free-running indexes may wrap */
_Static_assert((FW_RXQ_LEN & (FW_RXQ_LEN - 1u)) == 0, "FW_RXQ_LEN must be a power of two");

struct fw_rxq {
	volatile uint16_t ev[FW_RXQ_LEN];
	volatile uint32_t head; /* events pushed, mod 2^32 (producer) */
	volatile uint32_t tail; /* events popped, mod 2^32 (consumer) */
	volatile uint8_t lost;	/* events were dropped; a HAL_UART_OVERRUN marker is owed */
};

/* Empty the queue. Call before the producer's interrupts are enabled (all-zero is empty too). */
void fw_rxq_init(struct fw_rxq *q);

/*
 * Producer (interrupt context): queue ev. On a full queue ev is dropped and a HAL_UART_OVERRUN
 * marker is owed: the next push that finds room queues the marker first, then its own event if
 * room is left (else that event is dropped too and a marker is owed again).
 */
void fw_rxq_push(struct fw_rxq *q, uint16_t ev);

/* Consumer (main loop): the oldest event, or HAL_UART_EMPTY if none is queued. */
int fw_rxq_pop(struct fw_rxq *q);

/* True if fw_rxq_pop() would return HAL_UART_EMPTY (the owed marker does not count). */
bool fw_rxq_empty(const struct fw_rxq *q);

#endif /* FW_RXQ_H */
