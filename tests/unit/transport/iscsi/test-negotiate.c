/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Operational key negotiation, RFC 7143 §6.2 and §13. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "negotiate.h"
#include "text.h"

static struct iscsi_neg neg;
static struct iscsi_text_builder reply;
static struct iscsi_params want, res;

static void start(bool discovery)
{
	struct iscsi_text_builder offer;

	assert_int_equal(iscsi_neg_init(&neg, &want, discovery, NULL), 0);
	iscsi_text_builder_init(&offer, 0);
	assert_int_equal(iscsi_neg_offer(&neg, &offer, NULL), 0);
	iscsi_text_builder_free(&offer);
}

static int setup(void **state)
{
	iscsi_params_init(&want);
	want.header_digest = true;
	want.data_digest = false;
	want.max_recv_dsl = 262144;
	want.max_burst = 1048576;
	want.first_burst = 262144;
	want.initial_r2t = false;
	want.immediate_data = true;
	want.max_outstanding_r2t = 8;
	iscsi_text_builder_init(&reply, 0);
	start(false);
	return 0;
}

static int teardown(void **state)
{
	iscsi_text_builder_free(&reply);
	return 0;
}

static int feed(const char *key, const char *value)
{
	struct iscsi_kv kv = {.key = key, .value = value, .value_len = strlen(value)};

	return iscsi_neg_process(&neg, &kv, &reply, NULL);
}

static void finish(void)
{
	assert_int_equal(iscsi_neg_finish(&neg, &res, NULL), 0);
}

static bool replied(const char *pair)
{
	size_t n = strlen(pair);

	for (size_t pos = 0; pos < reply.len; pos += strlen(reply.buf + pos) + 1)
		if (!strncmp(reply.buf + pos, pair, n) && reply.buf[pos + n] == '\0')
			return true;
	return false;
}

static void test_defaults(void **state)
{
	struct iscsi_params p;

	iscsi_params_init(&p);
	assert_false(p.header_digest);
	assert_int_equal(p.max_connections, 1);
	assert_true(p.initial_r2t);
	assert_true(p.immediate_data);
	assert_int_equal(p.max_recv_dsl, 8192);
	assert_int_equal(p.max_burst, 262144);
	assert_int_equal(p.first_burst, 65536);
	assert_int_equal(p.default_time2wait, 2);
	assert_int_equal(p.default_time2retain, 20);
	assert_int_equal(p.max_outstanding_r2t, 1);
	assert_true(p.data_pdu_in_order);
	assert_true(p.data_seq_in_order);
	assert_int_equal(p.error_recovery_level, 0);
}

static void test_offer_normal(void **state)
{
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_neg_init(&neg, &want, false, NULL), 0);
	assert_int_equal(iscsi_neg_offer(&neg, &b, NULL), 0);
	assert_memory_equal(
		b.buf,
		"HeaderDigest=CRC32C,None\0DataDigest=None\0"
		"MaxRecvDataSegmentLength=262144\0MaxConnections=1\0InitialR2T=No\0",
		sizeof("HeaderDigest=CRC32C,None\0DataDigest=None\0"
		       "MaxRecvDataSegmentLength=262144\0MaxConnections=1\0InitialR2T=No"));
	assert_true(iscsi_text_has(&b, "ErrorRecoveryLevel"));
	assert_false(iscsi_text_has(&b, "IFMarker"));
	iscsi_text_builder_free(&b);
}

static void test_offer_discovery(void **state)
{
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_neg_init(&neg, &want, true, NULL), 0);
	assert_int_equal(iscsi_neg_offer(&neg, &b, NULL), 0);
	assert_true(iscsi_text_has(&b, "HeaderDigest"));
	assert_true(iscsi_text_has(&b, "MaxRecvDataSegmentLength"));
	assert_false(iscsi_text_has(&b, "MaxBurstLength"));
	assert_false(iscsi_text_has(&b, "InitialR2T"));
	iscsi_text_builder_free(&b);
}

static void test_init_rejects_bad_want(void **state)
{
	want.error_recovery_level = 3;
	assert_int_equal(iscsi_neg_init(&neg, &want, false, NULL), -EINVAL);
	want.error_recovery_level = 0;
	want.first_burst = want.max_burst + 1;
	assert_int_equal(iscsi_neg_init(&neg, &want, false, NULL), -EINVAL);
}

static void test_digest_answer(void **state)
{
	assert_int_equal(feed("HeaderDigest", "CRC32C"), 0);
	finish();
	assert_true(res.header_digest);
}

static void test_digest_answer_not_offered(void **state)
{
	assert_int_equal(feed("DataDigest", "CRC32C"), -EPROTO);
}

static void test_digest_answer_list_is_error(void **state)
{
	assert_int_equal(feed("HeaderDigest", "CRC32C,None"), -EPROTO);
}

static void test_digest_target_offer_first_acceptable(void **state)
{
	want.header_digest = false;
	start(false);
	neg.offered = 0; /* as if we had not offered HeaderDigest */
	assert_int_equal(feed("HeaderDigest", "CRC32C,None"), 0);
	assert_true(replied("HeaderDigest=None"));
}

static void test_digest_target_offer_none_acceptable(void **state)
{
	want.header_digest = false;
	start(false);
	neg.offered = 0;
	assert_int_equal(feed("HeaderDigest", "CRC32C"), 0);
	assert_true(replied("HeaderDigest=Reject"));
	finish();
	assert_false(res.header_digest);
}

static void test_min_answer(void **state)
{
	assert_int_equal(feed("MaxBurstLength", "524288"), 0);
	finish();
	assert_int_equal(res.max_burst, 524288);
}

static void test_min_answer_above_offer(void **state)
{
	assert_int_equal(feed("MaxBurstLength", "2097152"), -EPROTO);
}

static void test_min_answer_out_of_range(void **state)
{
	assert_int_equal(feed("MaxBurstLength", "511"), -EPROTO);
	assert_int_equal(feed("MaxOutstandingR2T", "junk"), -EPROTO);
}

static void test_min_target_offer(void **state)
{
	neg.offered = 0;
	assert_int_equal(feed("MaxBurstLength", "16776192"), 0);
	assert_true(replied("MaxBurstLength=1048576"));
	finish();
	assert_int_equal(res.max_burst, 1048576);
}

static void test_min_target_offer_out_of_range(void **state)
{
	neg.offered = 0;
	assert_int_equal(feed("MaxOutstandingR2T", "0"), 0);
	assert_true(replied("MaxOutstandingR2T=Reject"));
	finish();
	assert_int_equal(res.max_outstanding_r2t, 1);
}

static void test_max_time2wait(void **state)
{
	neg.offered = 0;
	assert_int_equal(feed("DefaultTime2Wait", "5"), 0);
	assert_true(replied("DefaultTime2Wait=5"));
	finish();
	assert_int_equal(res.default_time2wait, 5);
}

static void test_max_answer_below_offer(void **state)
{
	want.default_time2wait = 10;
	start(false);
	assert_int_equal(feed("DefaultTime2Wait", "3"), -EPROTO);
}

static void test_min_time2retain(void **state)
{
	assert_int_equal(feed("DefaultTime2Retain", "0"), 0);
	finish();
	assert_int_equal(res.default_time2retain, 0);
}

static void test_erl_min(void **state)
{
	want.error_recovery_level = 2;
	start(false);
	assert_int_equal(feed("ErrorRecoveryLevel", "0"), 0);
	finish();
	assert_int_equal(res.error_recovery_level, 0);
}

static void test_or_initial_r2t(void **state)
{
	assert_int_equal(feed("InitialR2T", "Yes"), 0);
	finish();
	assert_true(res.initial_r2t);
}

static void test_or_initial_r2t_no(void **state)
{
	assert_int_equal(feed("InitialR2T", "No"), 0);
	finish();
	assert_false(res.initial_r2t);
}

static void test_and_immediate_data(void **state)
{
	assert_int_equal(feed("ImmediateData", "No"), 0);
	finish();
	assert_false(res.immediate_data);
}

static void test_and_target_offer(void **state)
{
	want.immediate_data = false;
	start(false);
	neg.offered = 0;
	assert_int_equal(feed("ImmediateData", "Yes"), 0);
	assert_true(replied("ImmediateData=No"));
}

static void test_bool_bad_value(void **state)
{
	assert_int_equal(feed("DataPDUInOrder", "maybe"), -EPROTO);
}

static void test_unanswered_implied(void **state)
{
	/* We offered InitialR2T=No (OR) and ImmediateData=Yes (AND): the
	 * target must answer both, so silence leaves the defaults.  With
	 * DataPDUInOrder=Yes (OR) the answer is optional and implied. */
	finish();
	assert_true(res.initial_r2t);
	assert_true(res.immediate_data);
	assert_true(res.data_pdu_in_order);
}

static void test_unanswered_and_no(void **state)
{
	want.immediate_data = false;
	start(false);
	finish();
	assert_false(res.immediate_data);
}

static void test_mrdsl_declared(void **state)
{
	assert_int_equal(feed("MaxRecvDataSegmentLength", "65536"), 0);
	finish();
	assert_int_equal(res.max_xmit_dsl, 65536);
	assert_int_equal(res.max_recv_dsl, 262144);
}

static void test_mrdsl_out_of_range(void **state)
{
	assert_int_equal(feed("MaxRecvDataSegmentLength", "511"), -EPROTO);
	teardown(state);
	setup(state);
	assert_int_equal(feed("MaxRecvDataSegmentLength", "16777216"), -EPROTO);
}

static void test_first_burst_capped(void **state)
{
	assert_int_equal(feed("MaxBurstLength", "65536"), 0);
	assert_int_equal(feed("FirstBurstLength", "262144"), 0);
	finish();
	assert_int_equal(res.first_burst, 65536);
}

static void test_not_understood_keeps_default(void **state)
{
	assert_int_equal(feed("MaxBurstLength", "NotUnderstood"), 0);
	assert_int_equal(feed("FirstBurstLength", "Irrelevant"), 0);
	assert_int_equal(feed("ErrorRecoveryLevel", "Reject"), 0);
	finish();
	assert_int_equal(res.max_burst, 262144);
	assert_int_equal(res.first_burst, 65536);
}

static void test_special_value_unprompted(void **state)
{
	neg.offered = 0;
	assert_int_equal(feed("MaxBurstLength", "Reject"), -EPROTO);
}

static void test_duplicate_key(void **state)
{
	assert_int_equal(feed("MaxBurstLength", "65536"), 0);
	assert_int_equal(feed("MaxBurstLength", "65536"), -EPROTO);
}

static void test_unknown_key(void **state)
{
	assert_int_equal(feed("X-com.example.Foo", "1"), -ENOENT);
	assert_int_equal(feed("AuthMethod", "CHAP"), -ENOENT);
	assert_int_equal(iscsi_neg_not_understood(&reply, "X-com.example.Foo"), 0);
	assert_true(replied("X-com.example.Foo=NotUnderstood"));
}

static void test_discovery_irrelevant(void **state)
{
	start(true);
	assert_int_equal(feed("MaxBurstLength", "65536"), 0);
	assert_true(replied("MaxBurstLength=Irrelevant"));
}

static void test_markers(void **state)
{
	assert_int_equal(feed("IFMarker", "Yes"), 0);
	assert_int_equal(feed("OFMarkInt", "2048~8192"), 0);
	assert_true(replied("IFMarker=No"));
	assert_true(replied("OFMarkInt=Irrelevant"));
}

static void test_target_declaratives(void **state)
{
	assert_int_equal(feed("TargetAlias", "disk one"), 0);
	assert_int_equal(feed("TargetPortalGroupTag", "1"), 0);
	assert_int_equal(feed("TargetName", "iqn.2003-01.org.example:disk"), 0);
	assert_int_equal(feed("TargetAddress", "[fd00::2]:3261,1"), 0);
	finish();
	assert_string_equal(res.target_alias, "disk one");
	assert_int_equal(res.tpgt, 1);
	assert_string_equal(res.target_name, "iqn.2003-01.org.example:disk");
	assert_true(res.has_target_address);
	assert_string_equal(res.target_address.host, "fd00::2");
	assert_int_equal(res.target_address.port, 3261);
	assert_int_equal(reply.len, 0);
}

static void test_alias_may_read_like_a_special_value(void **state)
{
	assert_int_equal(feed("TargetAlias", "Reject"), 0);
	finish();
	assert_string_equal(res.target_alias, "Reject");
}

static void test_target_declaratives_invalid(void **state)
{
	assert_int_equal(feed("TargetPortalGroupTag", "65536"), -EPROTO);
	assert_int_equal(feed("TargetAddress", "host:99999"), -EPROTO);
	assert_int_equal(feed("TargetName", ""), -EPROTO);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_offer_normal),
		T(test_offer_discovery),
		T(test_init_rejects_bad_want),
		T(test_digest_answer),
		T(test_digest_answer_not_offered),
		T(test_digest_answer_list_is_error),
		T(test_digest_target_offer_first_acceptable),
		T(test_digest_target_offer_none_acceptable),
		T(test_min_answer),
		T(test_min_answer_above_offer),
		T(test_min_answer_out_of_range),
		T(test_min_target_offer),
		T(test_min_target_offer_out_of_range),
		T(test_max_time2wait),
		T(test_max_answer_below_offer),
		T(test_min_time2retain),
		T(test_erl_min),
		T(test_or_initial_r2t),
		T(test_or_initial_r2t_no),
		T(test_and_immediate_data),
		T(test_and_target_offer),
		T(test_bool_bad_value),
		T(test_unanswered_implied),
		T(test_unanswered_and_no),
		T(test_mrdsl_declared),
		T(test_mrdsl_out_of_range),
		T(test_first_burst_capped),
		T(test_not_understood_keeps_default),
		T(test_special_value_unprompted),
		T(test_duplicate_key),
		T(test_unknown_key),
		T(test_discovery_irrelevant),
		T(test_markers),
		T(test_target_declaratives),
		T(test_alias_may_read_like_a_special_value),
		T(test_target_declaratives_invalid),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
