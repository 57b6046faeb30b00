/*
 * Unit tests of the UART receive event queue (firmware/core/fw_rxq.c) that both target HALs
 * feed from their interrupt handlers: events come out in order, the ring and the free-running
 * indexes wrap, a full queue drops events and puts HAL_UART_OVERRUN where they were lost, and
 * an empty queue says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fw_rxq.h"
#include "hal.h"

static struct fw_rxq q;

static int setup(void **state)
{
	(void)state;
	fw_rxq_init(&q);
	return 0;
}

static void test_empty(void **state)
{
	(void)state;
	assert_true(fw_rxq_empty(&q));
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);

	fw_rxq_push(&q, 0x00);
	assert_false(fw_rxq_empty(&q));
	assert_int_equal(fw_rxq_pop(&q), 0x00);
	assert_true(fw_rxq_empty(&q));
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY); /* popping empty changes nothing */
	fw_rxq_push(&q, 0x7F);
	assert_int_equal(fw_rxq_pop(&q), 0x7F);
	assert_true(fw_rxq_empty(&q));
}

static void test_order(void **state)
{
	static const uint16_t evs[] = {0x01, 0xFF, HAL_UART_GAP, 0x00, HAL_UART_OVERRUN, 0x80};

	(void)state;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		fw_rxq_push(&q, evs[i]);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		assert_int_equal(fw_rxq_pop(&q), evs[i]);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
}

/* The queue holds exactly FW_RXQ_LEN events, all of them kept. */
static void test_full_keeps_all(void **state)
{
	(void)state;
	for (unsigned i = 0; i < FW_RXQ_LEN; i++)
		fw_rxq_push(&q, (uint16_t)(i & 0xFF));
	for (unsigned i = 0; i < FW_RXQ_LEN; i++)
		assert_int_equal(fw_rxq_pop(&q), (int)(i & 0xFF));
	assert_true(fw_rxq_empty(&q));
}

/* Producer ahead of the consumer by a varying amount while the ring wraps several times. */
static void test_wrap_ring(void **state)
{
	unsigned in = 0, out = 0;

	(void)state;
	for (unsigned round = 0; round < 5 * FW_RXQ_LEN; round++) {
		unsigned burst = round % 7 + 1;

		for (unsigned i = 0; i < burst && in - out < FW_RXQ_LEN; i++)
			fw_rxq_push(&q, (uint16_t)(in++ % 251));
		for (unsigned i = 0; i < burst / 2 + 1 && out < in; i++)
			assert_int_equal(fw_rxq_pop(&q), (int)(out++ % 251));
	}
	while (out < in)
		assert_int_equal(fw_rxq_pop(&q), (int)(out++ % 251));
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
	assert_true(in > 4 * FW_RXQ_LEN); /* the ring did wrap */
}

/* head and tail run past 2^32 without losing the fill level. */
static void test_wrap_index(void **state)
{
	(void)state;
	q.head = q.tail = UINT32_MAX - 2u;
	for (unsigned i = 0; i < FW_RXQ_LEN; i++)
		fw_rxq_push(&q, (uint16_t)i);
	fw_rxq_push(&q, 0xAA); /* full across the wrap: dropped */
	for (unsigned i = 0; i < FW_RXQ_LEN; i++)
		assert_int_equal(fw_rxq_pop(&q), (int)i);
	assert_true(fw_rxq_empty(&q));
	fw_rxq_push(&q, 0xBB);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_OVERRUN);
	assert_int_equal(fw_rxq_pop(&q), 0xBB);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
}

static void fill(void)
{
	for (unsigned i = 0; i < FW_RXQ_LEN; i++)
		fw_rxq_push(&q, (uint16_t)(i & 0xFF));
}

/* Events pushed into a full queue are dropped; the marker comes where they were lost. */
static void test_overrun_marker(void **state)
{
	(void)state;
	fill();
	fw_rxq_push(&q, 0xA1);	       /* dropped */
	fw_rxq_push(&q, HAL_UART_GAP); /* dropped: no room for the marker yet either */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(fw_rxq_pop(&q), (int)i);
	fw_rxq_push(&q, 0xA2);
	fw_rxq_push(&q, 0xA3);
	for (unsigned i = 4; i < FW_RXQ_LEN; i++)
		assert_int_equal(fw_rxq_pop(&q), (int)(i & 0xFF));
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_OVERRUN); /* exactly one for the two lost */
	assert_int_equal(fw_rxq_pop(&q), 0xA2);
	assert_int_equal(fw_rxq_pop(&q), 0xA3);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);

	/* After the marker is out, a new loss gets a new marker. */
	fill();
	fw_rxq_push(&q, 0xC0);
	for (unsigned i = 0; i < FW_RXQ_LEN; i++)
		assert_int_equal(fw_rxq_pop(&q), (int)(i & 0xFF));
	fw_rxq_push(&q, 0xC1);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_OVERRUN);
	assert_int_equal(fw_rxq_pop(&q), 0xC1);
	assert_true(fw_rxq_empty(&q));
}

/* Room for the marker only: it goes in, the event is dropped and another marker is owed. */
static void test_overrun_one_slot(void **state)
{
	(void)state;
	fill();
	fw_rxq_push(&q, 0xD0); /* dropped */
	assert_int_equal(fw_rxq_pop(&q), 0);
	fw_rxq_push(&q, 0xD1); /* marker takes the one free slot, 0xD1 dropped */
	assert_false(fw_rxq_empty(&q));
	for (unsigned i = 1; i < FW_RXQ_LEN; i++)
		assert_int_equal(fw_rxq_pop(&q), (int)(i & 0xFF));
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_OVERRUN);
	/* The owed marker is not an event: the queue is empty until the next push. */
	assert_true(fw_rxq_empty(&q));
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
	fw_rxq_push(&q, HAL_UART_GAP);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_OVERRUN);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_GAP);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
}

/* fw_rxq_init() empties a queue and forgets an owed marker. */
static void test_init(void **state)
{
	(void)state;
	fill();
	fw_rxq_push(&q, 0xE0); /* dropped, marker owed */
	fw_rxq_init(&q);
	assert_true(fw_rxq_empty(&q));
	fw_rxq_push(&q, 0xE1);
	assert_int_equal(fw_rxq_pop(&q), 0xE1);
	assert_int_equal(fw_rxq_pop(&q), HAL_UART_EMPTY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_empty, setup),
	    cmocka_unit_test_setup(test_order, setup),
	    cmocka_unit_test_setup(test_full_keeps_all, setup),
	    cmocka_unit_test_setup(test_wrap_ring, setup),
	    cmocka_unit_test_setup(test_wrap_index, setup),
	    cmocka_unit_test_setup(test_overrun_marker, setup),
	    cmocka_unit_test_setup(test_overrun_one_slot, setup),
	    cmocka_unit_test_setup(test_init, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
