/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "text.h"

#define TXT(s) s, sizeof(s) - 1

static struct iscsi_text_seq seq;

static int setup(void **state)
{
	iscsi_text_seq_init(&seq, 0);
	return 0;
}

static int teardown(void **state)
{
	iscsi_text_seq_free(&seq);
	return 0;
}

/* Parse one complete set; returns the number of pairs or -errno. */
static int parse_all(const char *data, size_t len, struct iscsi_kv *out, int max)
{
	struct iscsi_text_iter it;
	int n = 0, r;

	iscsi_text_seq_reset(&seq);
	assert_int_equal(iscsi_text_seq_append(&seq, data, len, false, NULL), 1);
	iscsi_text_iter_init(&it, &seq);
	while ((r = iscsi_text_next(&it, &out[n < max ? n : max - 1], NULL)) > 0)
		n++;
	return r < 0 ? r : n;
}

static void test_parse_pairs(void **state)
{
	struct iscsi_kv kv[4];

	assert_int_equal(parse_all(TXT("HeaderDigest=None\0MaxBurstLength=262144\0"), kv, 4), 2);
	assert_string_equal(kv[0].key, "HeaderDigest");
	assert_string_equal(kv[0].value, "None");
	assert_string_equal(kv[1].key, "MaxBurstLength");
	assert_int_equal(kv[1].value_len, 6);
}

static void test_parse_empty_value(void **state)
{
	struct iscsi_kv kv[1];

	assert_int_equal(parse_all(TXT("TargetAlias=\0"), kv, 1), 1);
	assert_string_equal(kv[0].value, "");
}

static void test_parse_missing_final_nul_tolerated(void **state)
{
	struct iscsi_kv kv[2];

	assert_int_equal(parse_all(TXT("A=1\0B=2"), kv, 2), 2);
	assert_string_equal(kv[1].value, "2");
}

static void test_parse_skips_stray_nuls(void **state)
{
	struct iscsi_kv kv[2];

	assert_int_equal(parse_all(TXT("A=1\0\0\0B=2\0\0"), kv, 2), 2);
}

static void test_parse_no_equals(void **state)
{
	struct iscsi_kv kv[1];

	assert_int_equal(parse_all(TXT("HeaderDigest\0"), kv, 1), -EBADMSG);
}

static void test_parse_bad_key_chars(void **state)
{
	struct iscsi_kv kv[1];

	assert_int_equal(parse_all(TXT("Bad Key=1\0"), kv, 1), -EBADMSG);
	assert_int_equal(parse_all(TXT("=1\0"), kv, 1), -EBADMSG);
}

static void test_parse_key_too_long(void **state)
{
	char buf[100];
	struct iscsi_kv kv[1];

	memset(buf, 'K', 64);
	memcpy(buf + 64, "=v", 3);
	assert_int_equal(parse_all(buf, 67, kv, 1), -EBADMSG);
	buf[63] = '=';
	buf[64] = 'v';
	buf[65] = '\0';
	assert_int_equal(parse_all(buf, 66, kv, 1), 1);
}

static void test_parse_value_too_long(void **state)
{
	char buf[300] = "TargetAlias=";
	struct iscsi_kv kv[1];

	memset(buf + 12, 'a', 256);
	buf[12 + 256] = '\0';
	assert_int_equal(parse_all(buf, 12 + 257, kv, 1), -EBADMSG);
	buf[12 + 255] = '\0';
	assert_int_equal(parse_all(buf, 12 + 256, kv, 1), 1);
}

static void test_parse_large_value_for_chap(void **state)
{
	static char buf[3000] = "CHAP_C=0x";
	struct iscsi_kv kv[1];

	memset(buf + 9, 'a', 2048);
	assert_int_equal(parse_all(buf, 9 + 2048 + 1, kv, 1), 1);
	assert_int_equal(kv[0].value_len, 2050);
}

static void test_parse_invalid_utf8(void **state)
{
	struct iscsi_kv kv[1];

	assert_int_equal(parse_all(TXT("TargetAlias=\xc3\0"), kv, 1), -EBADMSG);
	assert_int_equal(parse_all(TXT("TargetAlias=\xc0\xaf\0"), kv, 1), -EBADMSG); /* overlong */
	assert_int_equal(parse_all(TXT("TargetAlias=\xed\xa0\x80\0"), kv, 1), -EBADMSG);
	assert_int_equal(parse_all(TXT("TargetAlias=caf\xc3\xa9 \xf0\x9f\x92\xbe\0"), kv, 1), 1);
}

static void test_continuation_split_key(void **state)
{
	struct iscsi_text_iter it;
	struct iscsi_kv kv;

	iscsi_text_seq_reset(&seq);
	assert_int_equal(iscsi_text_seq_append(&seq, TXT("MaxBurstLe"), true, NULL), 0);
	assert_int_equal(iscsi_text_seq_append(&seq, TXT("ngth=65"), true, NULL), 0);
	assert_int_equal(iscsi_text_seq_append(&seq, TXT("536\0"), false, NULL), 1);
	iscsi_text_iter_init(&it, &seq);
	assert_int_equal(iscsi_text_next(&it, &kv, NULL), 1);
	assert_string_equal(kv.key, "MaxBurstLength");
	assert_string_equal(kv.value, "65536");
	assert_int_equal(iscsi_text_next(&it, &kv, NULL), 0);
}

static void test_continuation_limit(void **state)
{
	struct iscsi_text_seq small;
	char chunk[100] = {0};

	iscsi_text_seq_init(&small, 150);
	assert_int_equal(iscsi_text_seq_append(&small, chunk, 100, true, NULL), 0);
	assert_int_equal(iscsi_text_seq_append(&small, chunk, 100, true, NULL), -EMSGSIZE);
	iscsi_text_seq_free(&small);
}

static void test_builder_emits_each_key_once(void **state)
{
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_text_add(&b, "InitiatorName", "iqn.2024-01.org.example:a"), 0);
	assert_int_equal(iscsi_text_add_u32(&b, "MaxBurstLength", 1048576), 0);
	assert_int_equal(iscsi_text_add(&b, "InitiatorName", "other"), -EEXIST);
	assert_int_equal(iscsi_text_add_bool(&b, "Initiator", true), 0); /* prefix is not a dup */
	assert_int_equal(b.len, sizeof("InitiatorName=iqn.2024-01.org.example:a\0"
				       "MaxBurstLength=1048576\0Initiator=Yes\0") -
					1);
	assert_memory_equal(b.buf,
			    "InitiatorName=iqn.2024-01.org.example:a\0MaxBurstLength=1048576", 62);
	iscsi_text_builder_free(&b);
}

static void test_builder_rejects_bad_input(void **state)
{
	struct iscsi_text_builder b;
	char big[300];

	memset(big, 'x', 299);
	big[299] = '\0';
	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_text_add(&b, "bad key", "1"), -EINVAL);
	assert_int_equal(iscsi_text_add(&b, "TargetAlias", big), -EINVAL);
	assert_int_equal(iscsi_text_add(&b, "TargetAlias", "\xff"), -EINVAL);
	iscsi_text_builder_free(&b);
}

static void test_builder_max(void **state)
{
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 10);
	assert_int_equal(iscsi_text_add(&b, "A", "1234567"), 0); /* 10 bytes */
	assert_int_equal(iscsi_text_add(&b, "B", ""), -EMSGSIZE);
	iscsi_text_builder_free(&b);
}

static void test_number(void **state)
{
	uint64_t v;

	assert_int_equal(iscsi_text_parse_number("8192", 16777215, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(iscsi_text_parse_number("0x2000", 16777215, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(iscsi_text_parse_number("16777216", 16777215, &v), -ERANGE);
	assert_int_equal(iscsi_text_parse_number("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(iscsi_text_parse_number("", 10, &v), -EINVAL);
	assert_int_equal(iscsi_text_parse_number("0x", 10, &v), -EINVAL);
	assert_int_equal(iscsi_text_parse_number("-1", 10, &v), -EINVAL);
	assert_int_equal(iscsi_text_parse_number("12a", 1000, &v), -EINVAL);
}

static void test_bool(void **state)
{
	bool b;

	assert_int_equal(iscsi_text_parse_bool("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(iscsi_text_parse_bool("No", &b), 0);
	assert_false(b);
	assert_int_equal(iscsi_text_parse_bool("yes", &b), -EINVAL);
}

static void test_target_address_ipv4(void **state)
{
	struct iscsi_target_address a;

	assert_int_equal(iscsi_target_address_parse("192.0.2.1:3261,5", &a), 0);
	assert_string_equal(a.host, "192.0.2.1");
	assert_int_equal(a.port, 3261);
	assert_int_equal(a.tpgt, 5);
}

static void test_target_address_defaults(void **state)
{
	struct iscsi_target_address a;

	assert_int_equal(iscsi_target_address_parse("storage.example.com", &a), 0);
	assert_string_equal(a.host, "storage.example.com");
	assert_int_equal(a.port, 3260);
	assert_int_equal(a.tpgt, -1);
}

static void test_target_address_ipv6(void **state)
{
	struct iscsi_target_address a;

	assert_int_equal(iscsi_target_address_parse("[2001:db8::1]:3260,1", &a), 0);
	assert_string_equal(a.host, "2001:db8::1");
	assert_int_equal(a.tpgt, 1);
	assert_int_equal(iscsi_target_address_parse("[2001:db8::1],7", &a), 0);
	assert_int_equal(a.port, 3260);
}

static void test_target_address_invalid(void **state)
{
	struct iscsi_target_address a;

	assert_int_equal(iscsi_target_address_parse("", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("host:", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("host:0", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("host:65536", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("host,70000", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("[::1", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("host:3260,1x", &a), -EINVAL);
	assert_int_equal(iscsi_target_address_parse("a b", &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pairs),
		cmocka_unit_test(test_parse_empty_value),
		cmocka_unit_test(test_parse_missing_final_nul_tolerated),
		cmocka_unit_test(test_parse_skips_stray_nuls),
		cmocka_unit_test(test_parse_no_equals),
		cmocka_unit_test(test_parse_bad_key_chars),
		cmocka_unit_test(test_parse_key_too_long),
		cmocka_unit_test(test_parse_value_too_long),
		cmocka_unit_test(test_parse_large_value_for_chap),
		cmocka_unit_test(test_parse_invalid_utf8),
		cmocka_unit_test(test_continuation_split_key),
		cmocka_unit_test(test_continuation_limit),
		cmocka_unit_test(test_builder_emits_each_key_once),
		cmocka_unit_test(test_builder_rejects_bad_input),
		cmocka_unit_test(test_builder_max),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_target_address_ipv4),
		cmocka_unit_test(test_target_address_defaults),
		cmocka_unit_test(test_target_address_ipv6),
		cmocka_unit_test(test_target_address_invalid),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
