/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The retry table (retry.c), one test per row of docs/ERROR-HANDLING.md:
 * each case is a status and sense a target may send, and what the policy
 * must decide.  The last test checks that the cases reached every row.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "retry.h"

#define NO_SENSE_DATA 0xff /* case.key: CHECK CONDITION without sense */

struct retry_case {
	const char *name;
	uint8_t status;
	uint8_t key; /* with CHECK CONDITION; NO_SENSE_DATA: none */
	uint8_t asc, ascq;
	uint16_t row; /* the row of docs/ERROR-HANDLING.md that decides */
	enum iscsi_retry_action action;
	int err;
	enum iscsi_retry_event event;
};

#define ST(n, st, r, act, e)                                                                       \
	{                                                                                          \
		n, ISCSI_SCSI_##st, NO_SENSE_DATA, 0, 0, r, ISCSI_RETRY_##act, e, ISCSI_EVENT_NONE \
	}
#define CC(n, k, a, q, r, act, e, ev)                                                              \
	{                                                                                          \
		n, ISCSI_SCSI_CHECK_CONDITION, ISCSI_SENSE_##k, a, q, r, ISCSI_RETRY_##act, e,     \
			ISCSI_EVENT_##ev                                                           \
	}

static const struct retry_case cases[] = {
	ST("GOOD", GOOD, 1, NONE, 0),
	ST("CONDITION MET", CONDITION_MET, 2, NONE, 0),
	ST("BUSY", BUSY, 3, BACKOFF, -EIO),
	ST("TASK SET FULL", TASK_SET_FULL, 4, BACKOFF, -EIO),
	ST("TASK ABORTED", TASK_ABORTED, 5, NOW, -EIO),
	ST("RESERVATION CONFLICT", RESERVATION_CONFLICT, 6, FAIL, -EBADE),
	ST("ACA ACTIVE", ACA_ACTIVE, 7, FAIL, -EIO),
	CC("RECOVERED ERROR", RECOVERED_ERROR, 0x17, 0x01, 8, NONE, 0, NONE),
	CC("NOT READY 04/01 becoming ready", NOT_READY, 0x04, 0x01, 9, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/04 format", NOT_READY, 0x04, 0x04, 10, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/05 rebuild", NOT_READY, 0x04, 0x05, 11, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/06 recalculation", NOT_READY, 0x04, 0x06, 12, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/07 operation in progress", NOT_READY, 0x04, 0x07, 13, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/08 long write", NOT_READY, 0x04, 0x08, 14, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/09 self-test", NOT_READY, 0x04, 0x09, 15, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/0A ALUA transition", NOT_READY, 0x04, 0x0a, 16, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/0B ALUA standby", NOT_READY, 0x04, 0x0b, 17, FAIL, -EIO, NONE),
	CC("NOT READY 04/0C ALUA unavailable", NOT_READY, 0x04, 0x0c, 18, FAIL, -EIO, NONE),
	CC("NOT READY 04/11 notify required", NOT_READY, 0x04, 0x11, 19, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/14 space allocation", NOT_READY, 0x04, 0x14, 20, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/1A start stop unit", NOT_READY, 0x04, 0x1a, 21, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/1B sanitize", NOT_READY, 0x04, 0x1b, 22, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/1D configuration", NOT_READY, 0x04, 0x1d, 23, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/24 depopulation", NOT_READY, 0x04, 0x24, 24, BACKOFF, -EIO, NONE),
	CC("NOT READY 04/25 depopulation restore", NOT_READY, 0x04, 0x25, 25, BACKOFF, -EIO, NONE),
	CC("NOT READY 3A/00 medium not present", NOT_READY, 0x3a, 0x00, 26, FAIL, -ENOMEDIUM, NONE),
	CC("NOT READY 3A/02 tray open", NOT_READY, 0x3a, 0x02, 26, FAIL, -ENOMEDIUM, NONE),
	CC("NOT READY 04/02 initializing command required", NOT_READY, 0x04, 0x02, 27, FAIL, -EIO,
	   NONE),
	CC("NOT READY 04/00 cause not reportable", NOT_READY, 0x04, 0x00, 27, FAIL, -EIO, NONE),
	CC("MEDIUM ERROR 11/00", MEDIUM_ERROR, 0x11, 0x00, 28, FAIL, -EIO, NONE),
	CC("MEDIUM ERROR 0C/00 write error", MEDIUM_ERROR, 0x0c, 0x00, 28, FAIL, -EIO, NONE),
	CC("HARDWARE ERROR 44/00", HARDWARE_ERROR, 0x44, 0x00, 29, FAIL, -EIO, NONE),
	CC("ILLEGAL REQUEST 10/01 guard check", ILLEGAL_REQUEST, 0x10, 0x01, 30, FAIL, -EILSEQ,
	   NONE),
	CC("ILLEGAL REQUEST 20/00", ILLEGAL_REQUEST, 0x20, 0x00, 31, FAIL, -EOPNOTSUPP, NONE),
	CC("ILLEGAL REQUEST 21/00", ILLEGAL_REQUEST, 0x21, 0x00, 32, FAIL, -EINVAL, NONE),
	CC("ILLEGAL REQUEST 24/00", ILLEGAL_REQUEST, 0x24, 0x00, 33, FAIL, -EINVAL, NONE),
	CC("ILLEGAL REQUEST 25/00", ILLEGAL_REQUEST, 0x25, 0x00, 34, FAIL, -ENXIO, NONE),
	CC("ILLEGAL REQUEST 27/00", ILLEGAL_REQUEST, 0x27, 0x00, 35, FAIL, -EROFS, NONE),
	CC("ILLEGAL REQUEST 26/00", ILLEGAL_REQUEST, 0x26, 0x00, 36, FAIL, -EINVAL, NONE),
	CC("UNIT ATTENTION 29/00 reset", UNIT_ATTENTION, 0x29, 0x00, 37, NOW, -EIO, RESET),
	CC("UNIT ATTENTION 29/07 nexus loss", UNIT_ATTENTION, 0x29, 0x07, 37, NOW, -EIO, RESET),
	CC("UNIT ATTENTION 2A/01 mode", UNIT_ATTENTION, 0x2a, 0x01, 38, NOW, -EIO, MODE_CHANGED),
	CC("UNIT ATTENTION 2A/06 ALUA", UNIT_ATTENTION, 0x2a, 0x06, 39, NOW, -EIO, ALUA_CHANGED),
	CC("UNIT ATTENTION 2A/07 ALUA failed", UNIT_ATTENTION, 0x2a, 0x07, 40, NOW, -EIO,
	   ALUA_CHANGED),
	CC("UNIT ATTENTION 2A/09 capacity", UNIT_ATTENTION, 0x2a, 0x09, 41, NOW, -EIO,
	   CAPACITY_CHANGED),
	CC("UNIT ATTENTION 38/07 thin threshold", UNIT_ATTENTION, 0x38, 0x07, 42, NOW, -EIO,
	   THIN_THRESHOLD),
	CC("UNIT ATTENTION 3F/03 inquiry", UNIT_ATTENTION, 0x3f, 0x03, 43, NOW, -EIO,
	   INQUIRY_CHANGED),
	CC("UNIT ATTENTION 3F/0E luns", UNIT_ATTENTION, 0x3f, 0x0e, 44, NOW, -EIO, LUNS_CHANGED),
	CC("UNIT ATTENTION 28/00 other", UNIT_ATTENTION, 0x28, 0x00, 45, NOW, -EIO, OTHER_UA),
	CC("UNIT ATTENTION 2A/03 other", UNIT_ATTENTION, 0x2a, 0x03, 45, NOW, -EIO, OTHER_UA),
	CC("DATA PROTECT 27/07 space allocation", DATA_PROTECT, 0x27, 0x07, 46, FAIL, -ENOSPC,
	   NONE),
	CC("DATA PROTECT 27/00 write protected", DATA_PROTECT, 0x27, 0x00, 47, FAIL, -EROFS, NONE),
	CC("DATA PROTECT 74/71 other", DATA_PROTECT, 0x74, 0x71, 48, FAIL, -EPERM, NONE),
	CC("ABORTED COMMAND 10/01 protection", ABORTED_COMMAND, 0x10, 0x01, 49, FAIL, -EILSEQ,
	   NONE),
	CC("ABORTED COMMAND 47/00", ABORTED_COMMAND, 0x47, 0x00, 50, BACKOFF, -EIO, NONE),
	CC("VOLUME OVERFLOW", VOLUME_OVERFLOW, 0x00, 0x00, 51, FAIL, -ENOSPC, NONE),
	CC("MISCOMPARE 1D/00", MISCOMPARE, 0x1d, 0x00, 52, FAIL, -EILSEQ, NONE),
	CC("BLANK CHECK", BLANK_CHECK, 0x00, 0x00, 53, FAIL, -ENODATA, NONE),
	CC("NO SENSE with CHECK CONDITION", NO_SENSE, 0x00, 0x00, 54, FAIL, -EIO, NONE),
	CC("COPY ABORTED", COPY_ABORTED, 0x00, 0x00, 54, FAIL, -EIO, NONE),
	CC("COMPLETED with CHECK CONDITION", COMPLETED, 0x00, 0x00, 54, FAIL, -EIO, NONE),
	CC("VENDOR SPECIFIC", VENDOR_SPECIFIC, 0x80, 0x00, 54, FAIL, -EIO, NONE),
	{"CHECK CONDITION without sense", ISCSI_SCSI_CHECK_CONDITION, NO_SENSE_DATA, 0, 0, 54,
	 ISCSI_RETRY_FAIL, -EIO, ISCSI_EVENT_NONE},
	{"unknown status 0x22", 0x22, NO_SENSE_DATA, 0, 0, 54, ISCSI_RETRY_FAIL, -EIO,
	 ISCSI_EVENT_NONE},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))
static bool row_seen[256];

static struct iscsi_sense sense_of(const struct retry_case *c)
{
	struct iscsi_sense s = {
		.response_code = 0x70, .key = c->key, .asc = c->asc, .ascq = c->ascq};

	return s;
}

static void decide_case(const struct retry_case *c, unsigned attempt, bool is_write,
			struct iscsi_retry_decision *d)
{
	struct iscsi_sense s = sense_of(c);

	iscsi_retry_decide(c->status, c->key == NO_SENSE_DATA ? NULL : &s, attempt, is_write, d);
}

static void test_row(void **state)
{
	const struct retry_case *c = *state;
	struct iscsi_retry_decision d;

	decide_case(c, 1, false, &d);
	assert_int_equal(d.row, c->row);
	assert_int_equal(d.action, c->action);
	assert_int_equal(d.err, c->err);
	assert_int_equal(d.event, c->event);
	assert_int_equal(d.delay_ms, c->action == ISCSI_RETRY_BACKOFF ? 100 : 0);
	/* a line for everything but a plain success: failures, retries
	 * (BUSY without sense too) and any sense */
	assert_int_equal(d.log, c->action != ISCSI_RETRY_NONE ||
					(c->status == ISCSI_SCSI_CHECK_CONDITION &&
					 c->key != NO_SENSE_DATA));
	/* no row depends on the direction */
	decide_case(c, 1, true, &d);
	assert_int_equal(d.action, c->action);
	assert_int_equal(d.err, c->err);
	row_seen[c->row] = true;
}

static void test_every_row_has_a_case(void **state)
{
	size_t n = iscsi_retry_table_size();

	assert_true(n < sizeof(row_seen));
	for (size_t r = 1; r <= n; r++) {
		if (!row_seen[r])
			fail_msg("row %zu of the retry table has no case", r);
	}
}

static void test_backoff_doubles_to_its_cap(void **state)
{
	static const uint32_t want[] = {100, 200, 400, 800, 1600, 2000, 2000, 2000};
	struct iscsi_retry_decision d;

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		iscsi_retry_decide(ISCSI_SCSI_BUSY, NULL, i + 1, false, &d);
		assert_int_equal(d.action, ISCSI_RETRY_BACKOFF);
		assert_int_equal(d.delay_ms, want[i]);
	}
	iscsi_retry_decide(ISCSI_SCSI_BUSY, NULL, 1000000, false, &d);
	assert_int_equal(d.delay_ms, ISCSI_RETRY_BACKOFF_MAX_MS);
	iscsi_retry_decide(ISCSI_SCSI_BUSY, NULL, 0, false, &d); /* before any answer */
	assert_int_equal(d.delay_ms, ISCSI_RETRY_BACKOFF_MIN_MS);
}

static void test_now_turns_to_backoff_after_a_few_tries(void **state)
{
	struct iscsi_sense ua = {
		.response_code = 0x70, .key = ISCSI_SENSE_UNIT_ATTENTION, .asc = 0x29};
	struct iscsi_retry_decision d;

	for (unsigned a = 1; a <= ISCSI_RETRY_NOW_MAX; a++) {
		iscsi_retry_decide(ISCSI_SCSI_CHECK_CONDITION, &ua, a, false, &d);
		assert_int_equal(d.action, ISCSI_RETRY_NOW);
		assert_int_equal(d.delay_ms, 0);
	}
	iscsi_retry_decide(ISCSI_SCSI_CHECK_CONDITION, &ua, ISCSI_RETRY_NOW_MAX + 1, false, &d);
	assert_int_equal(d.action, ISCSI_RETRY_BACKOFF);
	assert_int_equal(d.delay_ms, 100);
	assert_int_equal(d.event, ISCSI_EVENT_RESET); /* still reported */
	iscsi_retry_decide(ISCSI_SCSI_TASK_ABORTED, NULL, ISCSI_RETRY_NOW_MAX + 3, false, &d);
	assert_int_equal(d.action, ISCSI_RETRY_BACKOFF);
	assert_int_equal(d.delay_ms, 400);
}

static void test_deferred_error_retried_now(void **state)
{
	/* 0x71 MEDIUM ERROR: an earlier write was lost; this command was
	 * not executed, so it goes again, and the event is raised */
	struct iscsi_sense s = {.response_code = 0x71,
				.deferred = true,
				.key = ISCSI_SENSE_MEDIUM_ERROR,
				.asc = 0x0c,
				.info_valid = true,
				.info = 4096};
	struct iscsi_retry_decision d;

	iscsi_retry_decide(ISCSI_SCSI_CHECK_CONDITION, &s, 1, true, &d);
	assert_int_equal(d.action, ISCSI_RETRY_NOW);
	assert_int_equal(d.event, ISCSI_EVENT_DEFERRED_ERROR);
	assert_int_equal(d.err, -EIO);
	assert_int_equal(d.row, 0);
	assert_true(d.log);
}

static void test_deferred_descriptor_unit_attention_is_deferred(void **state)
{
	/* 0x73 with any key: deferred comes first */
	struct iscsi_sense s = {.response_code = 0x73,
				.deferred = true,
				.key = ISCSI_SENSE_UNIT_ATTENTION,
				.asc = 0x2a,
				.ascq = 0x09};
	struct iscsi_retry_decision d;

	iscsi_retry_decide(ISCSI_SCSI_CHECK_CONDITION, &s, 1, false, &d);
	assert_int_equal(d.event, ISCSI_EVENT_DEFERRED_ERROR);
}

static void test_good_with_sense_is_success(void **state)
{
	struct iscsi_sense s = {.response_code = 0x70, .key = ISCSI_SENSE_MEDIUM_ERROR};
	struct iscsi_retry_decision d;

	iscsi_retry_decide(ISCSI_SCSI_GOOD, &s, 1, false, &d);
	assert_int_equal(d.action, ISCSI_RETRY_NONE);
	assert_int_equal(d.err, 0);
}

static void test_names(void **state)
{
	assert_string_equal(iscsi_retry_event_name(ISCSI_EVENT_CAPACITY_CHANGED),
			    "capacity data has changed");
	assert_string_equal(iscsi_retry_event_name(ISCSI_EVENT_DEFERRED_ERROR), "deferred error");
	assert_string_equal(iscsi_retry_event_name((enum iscsi_retry_event)99), "unknown");
	assert_string_equal(iscsi_retry_action_name(ISCSI_RETRY_BACKOFF), "retry after backoff");
	assert_string_equal(iscsi_retry_action_name(ISCSI_RETRY_FAIL), "fail");
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_every_row_has_a_case),
		cmocka_unit_test(test_backoff_doubles_to_its_cap),
		cmocka_unit_test(test_now_turns_to_backoff_after_a_few_tries),
		cmocka_unit_test(test_deferred_error_retried_now),
		cmocka_unit_test(test_deferred_descriptor_unit_attention_is_deferred),
		cmocka_unit_test(test_good_with_sense_is_success),
		cmocka_unit_test(test_names),
	};
	struct CMUnitTest tests[N_CASES + sizeof(fixed) / sizeof(fixed[0])];
	size_t n = 0;

	/* one test per case, named after it; the row check runs after them */
	for (size_t i = 0; i < N_CASES; i++)
		tests[n++] = (struct CMUnitTest){.name = cases[i].name,
						 .test_func = test_row,
						 .initial_state = (void *)&cases[i]};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("retry", tests, n, NULL, NULL);
}
