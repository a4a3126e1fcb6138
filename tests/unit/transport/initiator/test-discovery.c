/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SendTargets answers (RFC 7143 Appendix C) and iscsiadm's output format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "discovery.h"

/* A text literal with its embedded NULs and the final one. */
#define TXT(s) s, sizeof(s)

static struct iscsi_discovery d;
static lb_err err;

static int teardown(void **state)
{
	iscsi_discovery_free(&d);
	return 0;
}

/* iscsi_discovery_print() into a string (caller frees). */
static char *print(const char *host, uint16_t port, int32_t tpgt)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(iscsi_discovery_print(&d, host, port, tpgt, f), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void assert_printed(const char *host, uint16_t port, int32_t tpgt, const char *want)
{
	char *out = print(host, port, tpgt);

	assert_string_equal(out, want);
	free(out);
}

static void test_several_targets(void **state)
{
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=iqn.2001-04.com.example:disk1\0"
						   "TargetAddress=10.0.0.1:3260,1\0"
						   "TargetAddress=10.0.1.1:3261,2\0"
						   "TargetName=iqn.2001-04.com.example:disk2\0"
						   "TargetAddress=192.168.1.5,3"),
					       &d, &err),
			 0);
	assert_int_equal(d.n_targets, 2);
	assert_string_equal(d.targets[0].name, "iqn.2001-04.com.example:disk1");
	assert_int_equal(d.targets[0].n_addrs, 2);
	assert_string_equal(d.targets[0].addrs[0].host, "10.0.0.1");
	assert_int_equal(d.targets[0].addrs[0].port, 3260);
	assert_int_equal(d.targets[0].addrs[0].tpgt, 1);
	assert_string_equal(d.targets[0].addrs[1].host, "10.0.1.1");
	assert_int_equal(d.targets[0].addrs[1].port, 3261);
	assert_int_equal(d.targets[0].addrs[1].tpgt, 2);
	assert_string_equal(d.targets[1].name, "iqn.2001-04.com.example:disk2");
	assert_int_equal(d.targets[1].n_addrs, 1);
	assert_int_equal(d.targets[1].addrs[0].port, 3260);
	assert_int_equal(d.targets[1].addrs[0].tpgt, 3);

	assert_printed("10.0.0.9", 3260, 1,
		       "10.0.0.1:3260,1 iqn.2001-04.com.example:disk1\n"
		       "10.0.1.1:3261,2 iqn.2001-04.com.example:disk1\n"
		       "192.168.1.5:3260,3 iqn.2001-04.com.example:disk2\n");
}

static void test_ipv6(void **state)
{
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=iqn.2001-04.com.example:v6\0"
						   "TargetAddress=[fd00::1]:3260,1\0"
						   "TargetAddress=[fe80::2%eth0],4"),
					       &d, &err),
			 0);
	assert_int_equal(d.targets[0].n_addrs, 2);
	assert_string_equal(d.targets[0].addrs[0].host, "fd00::1");
	assert_string_equal(d.targets[0].addrs[1].host, "fe80::2%eth0");
	assert_printed("::1", 3260, 1,
		       "[fd00::1]:3260,1 iqn.2001-04.com.example:v6\n"
		       "[fe80::2%eth0]:3260,4 iqn.2001-04.com.example:v6\n");
}

static void test_no_address(void **state)
{
	/* tgtd always names an address; a target may leave it to the
	 * portal we asked. */
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=iqn.2001-04.com.example:a\0"
						   "TargetName=iqn.2001-04.com.example:b\0"
						   "TargetAddress=10.0.0.2"),
					       &d, &err),
			 0);
	assert_int_equal(d.n_targets, 2);
	assert_int_equal(d.targets[0].n_addrs, 0);
	assert_null(d.targets[0].addrs);
	assert_printed("10.0.0.1", 3260, -1,
		       "10.0.0.1:3260,-1 iqn.2001-04.com.example:a\n"
		       "10.0.0.2:3260,-1 iqn.2001-04.com.example:b\n");
	assert_printed("fd00::9", 3262, 5,
		       "[fd00::9]:3262,5 iqn.2001-04.com.example:a\n"
		       "10.0.0.2:3260,-1 iqn.2001-04.com.example:b\n");
	/* A portal given already in brackets is not bracketed twice. */
	assert_printed("[fd00::9]", 3262, 5,
		       "[fd00::9]:3262,5 iqn.2001-04.com.example:a\n"
		       "10.0.0.2:3260,-1 iqn.2001-04.com.example:b\n");
}

static void test_empty(void **state)
{
	assert_int_equal(iscsi_discovery_parse("", 0, &d, &err), 0);
	assert_int_equal(d.n_targets, 0);
	assert_printed("10.0.0.1", 3260, 1, "");
	assert_int_equal(iscsi_discovery_parse(NULL, 0, &d, &err), 0);
}

static void test_unknown_keys_ignored(void **state)
{
	assert_int_equal(
		iscsi_discovery_parse(TXT("X-vendor=1\0TargetAlias=none\0"
					  "TargetName=iqn.2001-04.com.example:a\0"
					  "TargetAlias=disk\0TargetAddress=h.example:3999"),
				      &d, &err),
		0);
	assert_int_equal(d.n_targets, 1);
	assert_int_equal(d.targets[0].n_addrs, 1);
	assert_string_equal(d.targets[0].addrs[0].host, "h.example");
	assert_int_equal(d.targets[0].addrs[0].port, 3999);
}

static void test_missing_final_nul(void **state)
{
	static const char text[] = "TargetName=iqn.2001-04.com.example:a";

	assert_int_equal(iscsi_discovery_parse(text, sizeof(text) - 1, &d, &err), 0);
	assert_string_equal(d.targets[0].name, "iqn.2001-04.com.example:a");
}

static void test_address_before_name(void **state)
{
	d.n_targets = 77; /* untouched on failure */
	assert_int_equal(iscsi_discovery_parse(TXT("TargetAddress=10.0.0.1:3260,1\0"
						   "TargetName=iqn.2001-04.com.example:a"),
					       &d, &err),
			 -EBADMSG);
	assert_int_equal(d.n_targets, 77);
	d.n_targets = 0;
	assert_string_equal(err.msg, "TargetAddress before any TargetName");
}

static void test_malformed(void **state)
{
	struct iscsi_discovery x = {0};
	char longname[300];

	assert_int_equal(
		iscsi_discovery_parse(TXT("TargetName=iqn.a\0TargetAddress=[::1"), &x, &err),
		-EBADMSG);
	assert_int_equal(
		iscsi_discovery_parse(TXT("TargetName=iqn.a\0TargetAddress=h:0"), &x, &err),
		-EBADMSG);
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName="), &x, &err), -EBADMSG);
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=iqn.a b"), &x, &err), -EBADMSG);
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=iqn.a\nb"), &x, &err), -EBADMSG);
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName"), &x, &err), -EBADMSG);
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=\xff"), &x, &err), -EBADMSG);
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "TargetName=", 11);
	longname[11 + ISCSI_NAME_MAX + 1] = '\0';
	assert_int_equal(iscsi_discovery_parse(longname, strlen(longname), &x, &err), -EBADMSG);
	longname[11 + ISCSI_NAME_MAX] = '\0';
	assert_int_equal(iscsi_discovery_parse(longname, strlen(longname), &x, &err), 0);
	assert_int_equal(strlen(x.targets[0].name), ISCSI_NAME_MAX);
	iscsi_discovery_free(&x);
}

/* "TargetName=iqn.t<i>\0" n times, each followed by addrs addresses. */
static char *make_text(unsigned n, unsigned addrs, size_t *ret_len)
{
	size_t cap = (size_t)n * (32 + addrs * 32) + 1, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	for (unsigned i = 0; i < n; i++) {
		len += (size_t)snprintf(s + len, cap - len, "TargetName=iqn.t%u", i) + 1;
		for (unsigned k = 0; k < addrs; k++)
			len += (size_t)snprintf(s + len, cap - len, "TargetAddress=10.%u.%u.1",
						k / 256, k % 256) +
			       1;
	}
	*ret_len = len;
	return s;
}

static void test_limits(void **state)
{
	size_t len;
	char *s;

	s = make_text(4096, 0, &len);
	assert_int_equal(iscsi_discovery_parse(s, len, &d, &err), 0);
	assert_int_equal(d.n_targets, 4096);
	assert_string_equal(d.targets[4095].name, "iqn.t4095");
	iscsi_discovery_free(&d);
	free(s);

	s = make_text(4097, 0, &len);
	assert_int_equal(iscsi_discovery_parse(s, len, &d, &err), -E2BIG);
	assert_int_equal(d.n_targets, 0);
	free(s);

	s = make_text(2, 256, &len);
	assert_int_equal(iscsi_discovery_parse(s, len, &d, &err), 0);
	assert_int_equal(d.targets[1].n_addrs, 256);
	assert_string_equal(d.targets[1].addrs[255].host, "10.0.255.1");
	iscsi_discovery_free(&d);
	free(s);

	s = make_text(1, 257, &len);
	assert_int_equal(iscsi_discovery_parse(s, len, &d, &err), -E2BIG);
	free(s);
}

static void test_free_null(void **state)
{
	iscsi_discovery_free(NULL);
	iscsi_discovery_free(&d); /* empty */
}

static void test_print_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(iscsi_discovery_parse(TXT("TargetName=iqn.a"), &d, &err), 0);
	assert_true(iscsi_discovery_print(&d, "10.0.0.1", 3260, 1, f) < 0);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_several_targets, teardown),
		cmocka_unit_test_teardown(test_ipv6, teardown),
		cmocka_unit_test_teardown(test_no_address, teardown),
		cmocka_unit_test_teardown(test_empty, teardown),
		cmocka_unit_test_teardown(test_unknown_keys_ignored, teardown),
		cmocka_unit_test_teardown(test_missing_final_nul, teardown),
		cmocka_unit_test_teardown(test_address_before_name, teardown),
		cmocka_unit_test_teardown(test_malformed, teardown),
		cmocka_unit_test_teardown(test_limits, teardown),
		cmocka_unit_test_teardown(test_free_null, teardown),
		cmocka_unit_test_teardown(test_print_error, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
