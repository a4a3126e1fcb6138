/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing records in iscsiadm's forms: the file, `-I NAME`, and the list line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iface.h"

typedef int (*writer_fn)(const iface_rec *r, FILE *f);

static char *show(const iface_rec *r, iface_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(iface_rec_write(r, fmt, f), 0);
	fclose(f);
	return buf;
}

static iface_rec *sample(void)
{
	iface_rec *r = NULL;

	assert_int_equal(iface_rec_new("hw1", &r, NULL), 0);
	assert_int_equal(iface_rec_set(r, "iface.transport_name", "cxgb4i", NULL), 0);
	assert_int_equal(iface_rec_set(r, "iface.hwaddress", "00:07:43:28:b2:58", NULL), 0);
	assert_int_equal(iface_rec_set(r, "iface.mtu", "9000", NULL), 0);
	return r;
}

/* The bytes iscsiadm 2.1.8 writes for the same record. */
static void file_form(void **state)
{
	iface_rec *r = sample();
	char *s = show(r, IFACE_FORMAT_FILE);

	assert_string_equal(s, "# BEGIN RECORD 2.1.8\n"
			       "iface.iscsi_ifacename = hw1\n"
			       "iface.prefix_len = 0\n"
			       "iface.hwaddress = 00:07:43:28:b2:58\n"
			       "iface.transport_name = cxgb4i\n"
			       "iface.vlan_id = 0\n"
			       "iface.vlan_priority = 0\n"
			       "iface.iface_num = 0\n"
			       "iface.mtu = 9000\n"
			       "iface.port = 0\n"
			       "iface.tos = 0\n"
			       "iface.ttl = 0\n"
			       "iface.tcp_wsf = 0\n"
			       "iface.tcp_timer_scale = 0\n"
			       "iface.def_task_mgmt_timeout = 0\n"
			       "iface.erl = 0\n"
			       "iface.max_receive_data_len = 0\n"
			       "iface.first_burst_len = 0\n"
			       "iface.max_outstanding_r2t = 0\n"
			       "iface.max_burst_len = 0\n"
			       "# END RECORD\n");
	free(s);
	iface_rec_free(r);
}

static void show_form(void **state)
{
	iface_rec *r = sample();
	char *s = show(r, IFACE_FORMAT_SHOW);
	int lines = 0;

	for (char *p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 55 + 2);
	assert_non_null(strstr(s, "# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = hw1\n"
				  "iface.net_ifacename = <empty>\niface.ipaddress = <empty>\n"
				  "iface.prefix_len = 0\niface.hwaddress = 00:07:43:28:b2:58\n"));
	assert_non_null(strstr(s, "iface.discovery_logout = <empty>\n# END RECORD\n"));
	free(s);
	iface_rec_free(r);
}

static void unknown_keys_after_known(void **state)
{
	const char *t = "iface.future = 7\niface.transport_name = tcp\n";
	iface_rec *r = NULL;
	char *s;

	assert_int_equal(iface_rec_parse("r", t, strlen(t), &r, NULL), 0);
	s = show(r, IFACE_FORMAT_FILE);
	assert_non_null(strstr(s, "iface.max_burst_len = 0\niface.future = 7\n# END RECORD\n"));
	free(s);
	iface_rec_free(r);
}

static void summary_line(void **state)
{
	iface_rec *r = sample();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(iface_rec_write_summary(r, f), 0);
	fclose(f);
	assert_string_equal(buf, "hw1 cxgb4i,00:07:43:28:b2:58,<empty>,<empty>,<empty>\n");
	free(buf);
	iface_rec_free(r);
}

static void builtin_summary(void **state)
{
	iface_rec *r = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(iface_rec_builtin("iser", &r), 0);
	assert_int_equal(iface_rec_write_summary(r, f), 0);
	fclose(f);
	assert_string_equal(buf, "iser iser,<empty>,<empty>,<empty>,<empty>\n");
	free(buf);
	iface_rec_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_form),
		cmocka_unit_test(show_form),
		cmocka_unit_test(unknown_keys_after_known),
		cmocka_unit_test(summary_line),
		cmocka_unit_test(builtin_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
