/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NAME.conf's multipath keys into attach's options (docs/MULTIPATH.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "volume-conf.h"

#define BASE "portal = 10.0.0.1\ntarget = iqn.2026-12.com.example:a\nlun = 1\nexport = ublk\n"

static const char *argv_of(const char *text, struct lb_volume_conf *c)
{
	static char buf[1024];
	lb_err err = {{0}};
	size_t off = 0;

	assert_int_equal(lb_volume_conf_parse(text, "v.conf", c, &err), 0);
	buf[0] = '\0';
	for (size_t i = 8; i < c->argc; i++) /* past the four required keys */
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i > 8 ? " " : "",
					c->argv[i]);
	return buf;
}

static void paths(void **state)
{
	struct lb_volume_conf c;

	(void)state;
	assert_string_equal(argv_of(BASE "paths = 10.0.1.1 10.0.2.1:3261,,,eth1\n"
					 "path_policy = round-robin\n"
					 "failback = 30\n"
					 "no_path_timeout = 120\n"
					 "all_portals = yes\n",
				    &c),
			    "--paths 10.0.1.1 10.0.2.1:3261,,,eth1 --path-policy round-robin "
			    "--failback 30 --no-path-timeout 120 --all-portals");
	lb_volume_conf_clear(&c);
	assert_string_equal(argv_of(BASE "all_portals = no\n", &c), "");
	lb_volume_conf_clear(&c);
}

static void all_portals_yes_or_no(void **state)
{
	struct lb_volume_conf c;
	lb_err err = {{0}};

	(void)state;
	assert_int_equal(lb_volume_conf_parse(BASE "all_portals = maybe\n", "v.conf", &c, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "v.conf:5: 'all_portals' is 'yes' or 'no', not 'maybe'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths),
		cmocka_unit_test(all_portals_yes_or_no),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
