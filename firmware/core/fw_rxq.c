/*
 * UART receive event queue (fw_rxq.h), shared by the target HALs: the interrupt handlers push,
 * hal_uart_getc() pops and hal_idle() checks it is empty before sleeping. head and tail run
 * freely and are reduced modulo FW_RXQ_LEN only to index the ring; head - tail is the fill
 * level, correct across their wrap because FW_RXQ_LEN divides 2^32.
 */
#include "fw_rxq.h"

#include "hal.h"

_Static_assert(HAL_UART_OVERRUN <= UINT16_MAX && HAL_UART_GAP <= UINT16_MAX,
	       "receive events must fit the ring's 16-bit slots");

void fw_rxq_init(struct fw_rxq *q)
{
	q->head = 0;
	q->tail = 0;
	q->lost = 0;
}

void fw_rxq_push(struct fw_rxq *q, uint16_t ev)
{
	if (q->lost) {
		if (q->head - q->tail >= FW_RXQ_LEN)
			return;
		q->ev[q->head % FW_RXQ_LEN] = HAL_UART_OVERRUN;
		q->head++;
		q->lost = 0;
	}
	if (q->head - q->tail >= FW_RXQ_LEN) {
		q->lost = 1;
		return;
	}
	q->ev[q->head % FW_RXQ_LEN] = ev;
	q->head++;
}

int fw_rxq_pop(struct fw_rxq *q)
{
	if (q->tail == q->head)
		return HAL_UART_EMPTY;
	int ev = q->ev[q->tail % FW_RXQ_LEN];
	q->tail++;
	return ev;
}

bool fw_rxq_empty(const struct fw_rxq *q)
{
	return q->tail == q->head;
}
