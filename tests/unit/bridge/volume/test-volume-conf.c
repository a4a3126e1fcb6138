/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Volume configuration files into attach's options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-helpers.h"
#include "volume-conf.h"

static lb_err err;

/* argv joined by spaces */
static char *joined(const struct lb_volume_conf *c)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->argc; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "",
					c->argv[i]);
	assert_null(c->argv[c->argc]);
	return buf;
}

static void full(void **state)
{
	struct lb_volume_conf c;

	assert_int_equal(lb_volume_conf_parse("# vm42's root disk\n"
					      "portal = 192.168.10.5:3260\n"
					      "target=iqn.2026-11.com.example:array1\n"
					      "  lun = 1  \n"
					      "\n"
					      "export = ublk\n"
					      "iface = cxgb4i.00:07:43:28:b2:58\n"
					      "queues = 2\n"
					      "chap_user = vm42\n"
					      "chap_secret_file = /etc/lunbridge/secrets/vm42\n"
					      "fallback = no\n"
					      "recovery = yes\n",
					      "vm42.conf", &c, &err),
			 0);
	assert_string_equal(joined(&c),
			    "--portal 192.168.10.5:3260 --targetname iqn.2026-11.com.example:array1 "
			    "--lun 1 --export ublk --interface cxgb4i.00:07:43:28:b2:58 --queues 2 "
			    "--chap-user vm42 --chap-secret-file /etc/lunbridge/secrets/vm42 "
			    "--no-fallback");
	lb_volume_conf_clear(&c);
}

/* The NBD export's TLS keys: each its attach option; no secret inline. */
static void tls_keys(void **state)
{
	struct lb_volume_conf c;

	assert_int_equal(lb_volume_conf_parse("portal = a\ntarget = t\nlun = 1\n"
					      "export = nbd://192.168.20.7/vm1\n"
					      "tls = require\n"
					      "tls_creds = /etc/pki/lunbridge\n"
					      "tls_verify_peer = yes\n"
					      "insecure = no\n",
					      "tls.conf", &c, &err),
			 0);
	assert_string_equal(joined(&c), "--portal a --targetname t --lun 1 --export "
					"nbd://192.168.20.7/vm1 --tls require --tls-creds "
					"/etc/pki/lunbridge --tls-verify-peer");
	lb_volume_conf_clear(&c);
	assert_int_equal(lb_volume_conf_parse("portal = a\ntarget = t\nlun = 1\n"
					      "export = nbd+unix:///v?socket=/run/v.sock\n"
					      "tls_psk = /etc/lunbridge/v.psk\n"
					      "insecure = yes\n"
					      "socket_group = kvm\n",
					      "psk.conf", &c, &err),
			 0);
	assert_string_equal(joined(&c), "--portal a --targetname t --lun 1 --export "
					"nbd+unix:///v?socket=/run/v.sock --tls-psk "
					"/etc/lunbridge/v.psk --insecure --socket-group kvm");
	lb_volume_conf_clear(&c);
}

static void expect_error(const char *text, const char *msg)
{
	struct lb_volume_conf c;

	assert_int_equal(lb_volume_conf_parse(text, "v.conf", &c, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
	assert_null(c.argv);
}

static void errors(void **state)
{
	static const char base[] = "portal = a\ntarget = t\nlun = 1\nexport = nbd\n";
	char buf[256];

	expect_error("portal = a\nportl = b\n", "v.conf:2: unknown key 'portl'");
	expect_error("portal = a\nportal = b\n", "v.conf:2: 'portal' is set twice");
	expect_error("portal\n", "v.conf:1: not a 'key = value' line");
	expect_error("portal =   \n", "v.conf:1: 'portal' has no value");
	expect_error("portal = a\ntarget = t\nexport = nbd\n", "v.conf: 'lun' is missing");
	snprintf(buf, sizeof(buf), "%srecovery = sometimes\n", base);
	expect_error(buf, "v.conf:5: 'recovery' is 'yes' or 'no', not 'sometimes'");
	/* a secret has no key: it lives in its own file */
	snprintf(buf, sizeof(buf), "%schap_secret = hunter2\n", base);
	expect_error(buf, "v.conf:5: unknown key 'chap_secret'");
}

static void load(void **state)
{
	char dir[64], path[96];
	struct lb_volume_conf c;

	assert_int_equal(test_tmpdir_new("conf", dir, sizeof(dir)), 0);
	assert_int_equal(lb_volume_conf_load(dir, "v1", &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no volume 'v1' is configured"));
	snprintf(path, sizeof(path), "%s/v1.conf", dir);
	assert_int_equal(test_write_file(path, "portal = a\ntarget = t\nlun = 0\nexport = nbd\n"),
			 0);
	assert_int_equal(lb_volume_conf_load(dir, "v1", &c, &err), 0);
	assert_string_equal(joined(&c), "--portal a --targetname t --lun 0 --export nbd");
	lb_volume_conf_clear(&c);
	assert_int_equal(test_tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full),
		cmocka_unit_test(tls_keys),
		cmocka_unit_test(errors),
		cmocka_unit_test(load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
