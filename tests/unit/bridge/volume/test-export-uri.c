/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `attach --export`: NBD URIs (NetworkBlockDevice/nbd doc/uri.md), kernel
 * NBD and ublk devices, and the canonical form they print as. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export-uri.h"

static struct lb_export e;
static lb_err err;

static void parse_ok(const char *s)
{
	lb_err_clear(&err);
	if (lb_export_parse(s, &e, &err) != 0)
		fail_msg("'%s' refused: %s", s, err.msg);
}

/* Refused with -EINVAL, a message containing want, e untouched. */
static void assert_refused(const char *s, const char *want)
{
	struct lb_export sentinel;

	memset(&sentinel, 0x5a, sizeof(sentinel));
	e = sentinel;
	lb_err_clear(&err);
	assert_int_equal(lb_export_parse(s, &e, &err), -EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("'%.80s': message '%s' lacks '%s'", s, err.msg, want);
	assert_memory_equal(&e, &sentinel, sizeof(e));
}

/* PRE, then n copies of c, then POST (one static buffer). */
static const char *build(const char *pre, char c, size_t n, const char *post)
{
	static char buf[8192];
	size_t pre_len = strlen(pre);

	assert_true(pre_len + n + strlen(post) < sizeof(buf));
	memcpy(buf, pre, pre_len);
	memset(buf + pre_len, c, n);
	strcpy(buf + pre_len + n, post);
	return buf;
}

static void assert_unix(const char *name, const char *socket_path)
{
	assert_int_equal(e.kind, LB_EXPORT_NBD_UNIX);
	assert_string_equal(e.name, name);
	assert_string_equal(e.socket_path, socket_path);
	assert_string_equal(e.host, "");
	assert_int_equal(e.port, 0);
	assert_int_equal(e.index, -1);
}

static void assert_tcp(const char *host, uint16_t port, const char *name)
{
	assert_int_equal(e.kind, LB_EXPORT_NBD_TCP);
	assert_string_equal(e.host, host);
	assert_int_equal(e.port, port);
	assert_string_equal(e.name, name);
	assert_string_equal(e.socket_path, "");
	assert_int_equal(e.index, -1);
}

static void assert_device(enum lb_export_kind kind, int index)
{
	assert_int_equal(e.kind, kind);
	assert_int_equal(e.index, index);
	assert_string_equal(e.name, "");
	assert_string_equal(e.socket_path, "");
	assert_string_equal(e.host, "");
	assert_int_equal(e.port, 0);
}

/* ---- accepted: nbd+unix ------------------------------------------------ */

static void test_unix(void **state)
{
	parse_ok("nbd+unix:///disk?socket=/run/lunbridge/disk.sock");
	assert_unix("disk", "/run/lunbridge/disk.sock");
}

static void test_unix_relative_socket_empty_name(void **state)
{
	parse_ok("nbd+unix:///?socket=nbd.sock");
	assert_unix("", "nbd.sock");
}

static void test_unix_no_path(void **state)
{
	parse_ok("nbd+unix://?socket=nbd.sock");
	assert_unix("", "nbd.sock");
}

static void test_unix_percent_decoded(void **state)
{
	parse_ok("nbd+unix:///my%20disk%2fa?socket=/tmp/a%26b+c%3d.sock");
	assert_unix("my disk/a", "/tmp/a&b+c=.sock");
}

static void test_unix_socket_at_sun_path_limit(void **state)
{
	parse_ok(build("nbd+unix:///d?socket=/", 's', LB_EXPORT_SOCKET_MAX - 1, ""));
	assert_int_equal(strlen(e.socket_path), LB_EXPORT_SOCKET_MAX);
}

static void test_unix_empty_query_segments(void **state)
{
	parse_ok("nbd+unix:///d?&socket=/s&&");
	assert_unix("d", "/s");
}

static void test_scheme_case_insensitive(void **state)
{
	parse_ok("NBD+Unix:///d?socket=/s");
	assert_unix("d", "/s");
}

/* ---- accepted: nbd (TCP) ----------------------------------------------- */

static void test_tcp_host_port(void **state)
{
	parse_ok("nbd://nbd.example.com:10810/disk");
	assert_tcp("nbd.example.com", 10810, "disk");
}

static void test_tcp_default_port(void **state)
{
	parse_ok("nbd://nbd.example.com/disk");
	assert_tcp("nbd.example.com", 10809, "disk");
}

static void test_tcp_no_path(void **state)
{
	parse_ok("nbd://nbd.example.com");
	assert_tcp("nbd.example.com", 10809, "");
}

static void test_tcp_ipv4(void **state)
{
	parse_ok("nbd://192.0.2.1:1/x");
	assert_tcp("192.0.2.1", 1, "x");
}

static void test_tcp_ipv6_canonical(void **state)
{
	parse_ok("nbd://[FD00:0:0::1]:65535/x");
	assert_tcp("fd00::1", 65535, "x");
}

static void test_tcp_ipv6_default_port(void **state)
{
	parse_ok("nbd://[::1]/x");
	assert_tcp("::1", 10809, "x");
}

static void test_tcp_host_trailing_dot(void **state)
{
	parse_ok("nbd://nbd.example.com./x");
	assert_tcp("nbd.example.com.", 10809, "x");
}

static void test_tcp_host_label_at_limit(void **state)
{
	parse_ok(build("nbd://", 'h', 63, ".example/x"));
	assert_int_equal(strlen(e.host), 63 + strlen(".example"));
}

static void test_tcp_host_at_limit(void **state)
{
	char l63[64], s[300];

	memset(l63, 'a', 63);
	l63[63] = '\0';
	(void)snprintf(s, sizeof(s), "nbd://%s.%s.%s.%.61s/x", l63, l63, l63, l63);
	parse_ok(s);
	assert_int_equal(strlen(e.host), LB_EXPORT_HOST_MAX);
}

static void test_tcp_empty_host_is_loopback(void **state)
{
	parse_ok("nbd://:10810/x");
	assert_tcp("127.0.0.1", 10810, "x");
}

static void test_tcp_empty_authority_is_loopback(void **state)
{
	parse_ok("nbd:///x");
	assert_tcp("127.0.0.1", 10809, "x");
}

static void test_tcp_empty_port_is_default(void **state)
{
	/* RFC 3986 §3.2.3: "host:" means the default port. */
	parse_ok("nbd://h:/x");
	assert_tcp("h", 10809, "x");
}

static void test_tcp_port_leading_zeros(void **state)
{
	parse_ok("nbd://h:00080/x");
	assert_tcp("h", 80, "x");
}

static void test_tcp_empty_query(void **state)
{
	parse_ok("nbd://h/x?");
	assert_tcp("h", 10809, "x");
}

static void test_tcp_name_keeps_second_slash(void **state)
{
	parse_ok("nbd://h//disk");
	assert_tcp("h", 10809, "/disk");
}

static void test_tcp_name_raw_utf8(void **state)
{
	parse_ok("nbd://h/caf\xc3\xa9");
	assert_tcp("h", 10809, "caf\xc3\xa9");
}

static void test_name_at_limit(void **state)
{
	parse_ok(build("nbd://h/", 'n', LB_EXPORT_NAME_MAX, ""));
	assert_int_equal(strlen(e.name), LB_EXPORT_NAME_MAX);
}

static void test_name_at_limit_encoded(void **state)
{
	static char s[16 + 3 * LB_EXPORT_NAME_MAX];
	size_t n = (size_t)sprintf(s, "nbd://h/");

	for (int i = 0; i < LB_EXPORT_NAME_MAX; i++)
		n += (size_t)sprintf(s + n, "%%%02X", 0x80 + i % 0x7f);
	parse_ok(s);
	assert_int_equal(strlen(e.name), LB_EXPORT_NAME_MAX);
	assert_int_equal((unsigned char)e.name[0], 0x80);
}

/* ---- accepted: devices ------------------------------------------------- */

static void test_kernel_nbd_any(void **state)
{
	parse_ok("nbd");
	assert_device(LB_EXPORT_NBD_KERNEL, -1);
}

static void test_kernel_nbd_device(void **state)
{
	parse_ok("/dev/nbd0");
	assert_device(LB_EXPORT_NBD_KERNEL, 0);
	parse_ok("/dev/nbd15");
	assert_device(LB_EXPORT_NBD_KERNEL, 15);
}

static void test_kernel_nbd_device_at_limit(void **state)
{
	parse_ok("/dev/nbd1048575");
	assert_device(LB_EXPORT_NBD_KERNEL, LB_EXPORT_INDEX_MAX);
}

static void test_ublk_any(void **state)
{
	parse_ok("ublk");
	assert_device(LB_EXPORT_UBLK, -1);
}

static void test_ublk_id(void **state)
{
	parse_ok("ublk:3");
	assert_device(LB_EXPORT_UBLK, 3);
}

static void test_ublk_device(void **state)
{
	parse_ok("/dev/ublkb7");
	assert_device(LB_EXPORT_UBLK, 7);
}

/* ---- refused ----------------------------------------------------------- */

static void test_refuse_empty(void **state)
{
	assert_refused("", "empty export");
	assert_refused(NULL, "empty export");
}

static void test_refuse_not_an_export(void **state)
{
	assert_refused("/dev/sda", "'/dev/sda' is not an export");
	assert_refused("disk", "is not an export");
}

static void test_refuse_tls_scheme(void **state)
{
	assert_refused("nbds://h/x", "TLS is not supported");
	assert_refused("nbds+unix:///x?socket=/s", "TLS is not supported");
}

static void test_refuse_tls_query(void **state)
{
	assert_refused("nbd+unix:///x?socket=/s&tls-type=x509", "TLS is not supported");
}

static void test_refuse_unknown_scheme(void **state)
{
	assert_refused("http://h/x", "unknown scheme 'http'");
	assert_refused("nbd+vsock:///", "unknown scheme 'nbd+vsock'");
}

static void test_refuse_no_slashes(void **state)
{
	assert_refused("nbd:disk", "expected '//' after 'nbd:'");
	assert_refused("nbd:", "expected '//'");
}

static void test_refuse_unix_without_socket(void **state)
{
	assert_refused("nbd+unix:///d", "needs ?socket=PATH");
	assert_refused("nbd+unix:///d?", "needs ?socket=PATH");
}

static void test_refuse_unix_empty_socket(void **state)
{
	assert_refused("nbd+unix:///d?socket=", "socket path is empty");
	assert_refused("nbd+unix:///d?socket", "socket path is empty");
}

static void test_refuse_socket_twice(void **state)
{
	assert_refused("nbd+unix:///d?socket=/a&socket=/b", "given twice");
}

static void test_refuse_socket_too_long(void **state)
{
	assert_refused(build("nbd+unix:///d?socket=/", 's', LB_EXPORT_SOCKET_MAX, ""),
		       "the socket path is 108 bytes, longer than the 107 that fit in sun_path");
}

static void test_refuse_abstract_socket(void **state)
{
	assert_refused("nbd+unix:///?socket=%00/abstract", "abstract socket");
}

static void test_refuse_socket_on_tcp(void **state)
{
	assert_refused("nbd://h/x?socket=/s", "only for nbd+unix");
}

static void test_refuse_unix_with_host(void **state)
{
	assert_refused("nbd+unix://localhost/d?socket=/s", "takes no host");
}

static void test_refuse_unknown_query(void **state)
{
	assert_refused("nbd+unix:///d?socket=/s&x-foo=1", "unknown query parameter 'x-foo'");
}

static void test_refuse_userinfo(void **state)
{
	assert_refused("nbd://alice@h/x", "user information");
	assert_refused("nbd+unix://alice@/d?socket=/s", "user information");
}

static void test_refuse_fragment(void **state)
{
	assert_refused("nbd://h/x#part", "fragments");
}

static void test_refuse_port_zero(void **state)
{
	assert_refused("nbd://h:0/x", "port 0 is out of range (1-65535)");
}

static void test_refuse_port_too_large(void **state)
{
	assert_refused("nbd://h:65536/x", "port 65536 is out of range");
	assert_refused("nbd://h:99999999999999999999999/x", "out of range");
}

static void test_refuse_port_not_numeric(void **state)
{
	assert_refused("nbd://h:nbd/x", "port 'nbd' is not a number");
	assert_refused("nbd://h:-1/x", "is not a number");
	assert_refused("nbd://h:80x/x", "is not a number");
}

static void test_refuse_name_too_long(void **state)
{
	assert_refused(build("nbd://h/", 'n', LB_EXPORT_NAME_MAX + 1, ""),
		       "the export name is 256 bytes, longer than 255");
}

static void test_refuse_bad_escape(void **state)
{
	assert_refused("nbd://h/a%zz", "bad percent-escape '%zz' in the export name");
	assert_refused("nbd://h/a%4", "bad percent-escape '%4'");
	assert_refused("nbd://h/a%", "bad percent-escape '%'");
	assert_refused("nbd+unix:///d?socket=/a%g0", "in the socket path");
}

static void test_refuse_nul_escape(void **state)
{
	assert_refused("nbd://h/a%00b", "NUL byte (%00) in the export name");
}

static void test_refuse_unbracketed_ipv6(void **state)
{
	assert_refused("nbd://fd00::1/x", "must be in brackets");
}

static void test_refuse_bad_brackets(void **state)
{
	assert_refused("nbd://[::1/x", "'[' without ']'");
	assert_refused("nbd://[::1]x/y", "'x' after ']'");
	assert_refused("nbd://[example.com]/x", "'[example.com]' is not an IPv6 address");
	assert_refused(build("nbd://[", 'a', 50, "]/x"), "is not an IPv6 address");
}

static void test_refuse_scoped_ipv6(void **state)
{
	assert_refused("nbd://[fe80::1%25eth0]/x", "scoped IPv6");
}

static void test_refuse_bad_host(void **state)
{
	assert_refused("nbd://h%41/x", "has characters other than");
	assert_refused("nbd://a,b/x", "has characters other than");
}

static void test_refuse_host_empty_label(void **state)
{
	assert_refused("nbd://a..b/x", "host 'a..b' has an empty label");
	assert_refused("nbd://./x", "has an empty label");
}

static void test_refuse_host_hyphen_edge(void **state)
{
	assert_refused("nbd://-h/x", "host '-h' has a label that starts or ends with '-'");
	assert_refused("nbd://a.h-/x", "starts or ends with '-'");
}

static void test_refuse_host_label_too_long(void **state)
{
	assert_refused(build("nbd://", 'h', 64, ".example/x"), "label longer than 63 bytes");
}

static void test_refuse_bad_ipv4(void **state)
{
	assert_refused("nbd://256.0.0.1/x", "'256.0.0.1' is not an IPv4 address");
	assert_refused("nbd://2130706433/x", "is not an IPv4 address");
}

static void test_refuse_host_too_long(void **state)
{
	assert_refused(build("nbd://", 'h', LB_EXPORT_HOST_MAX + 1, "/x"), "longer than 253");
}

static void test_refuse_device_trailing_garbage(void **state)
{
	assert_refused("/dev/nbd1x", "'/dev/nbd1x' has 'x' after its device number");
	assert_refused("/dev/ublkb2p1", "after its device number");
	assert_refused("ublk:3:", "after its device number");
}

static void test_refuse_device_missing_number(void **state)
{
	assert_refused("/dev/nbd", "has no device number");
	assert_refused("ublk:", "has no device number");
	assert_refused("ublk:+1", "has no device number");
}

static void test_refuse_device_negative(void **state)
{
	assert_refused("/dev/nbd-1", "is negative");
	assert_refused("ublk:-1", "is negative");
}

static void test_refuse_device_huge(void **state)
{
	assert_refused("/dev/nbd1048576", "larger than 1048575");
	assert_refused("/dev/ublkb99999999999999999999999", "larger than 1048575");
}

static void test_refuse_device_leading_zero(void **state)
{
	assert_refused("/dev/nbd01", "leading zero");
}

static void test_refuse_space(void **state)
{
	assert_refused("nbd://h/a b", "space or control character at offset 9");
	assert_refused("nbd\n", "at offset 3");
}

static void test_refuse_too_long(void **state)
{
	assert_refused(build("nbd://h/", 'n', LB_EXPORT_TEXT_MAX, ""), "longer than 4096 bytes");
}

/* ---- format ------------------------------------------------------------ */

static bool same(const struct lb_export *a, const struct lb_export *b)
{
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       !strcmp(a->socket_path, b->socket_path) && !strcmp(a->host, b->host) &&
	       a->port == b->port && a->index == b->index;
}

/* format(parse(in)) is canonical and parses to the same export. */
static void assert_round_trip(const char *in, const char *canonical)
{
	char buf[LB_EXPORT_FORMAT_MAX];
	struct lb_export first;

	parse_ok(in);
	first = e;
	assert_int_equal(lb_export_format(&first, buf, sizeof(buf)), 0);
	assert_string_equal(buf, canonical);
	parse_ok(buf);
	assert_true(same(&first, &e));
}

static void test_round_trip_unix(void **state)
{
	assert_round_trip("nbd+unix:///disk?socket=/run/lb.sock",
			  "nbd+unix:///disk?socket=/run/lb.sock");
	assert_round_trip("nbd+unix://?socket=rel.sock", "nbd+unix:///?socket=rel.sock");
	assert_round_trip("nbd+unix:///my%20disk?socket=/tmp/a%26b+c.sock",
			  "nbd+unix:///my%20disk?socket=/tmp/a%26b%2Bc.sock");
}

static void test_round_trip_tcp(void **state)
{
	assert_round_trip("nbd://nbd.example.com/disk", "nbd://nbd.example.com:10809/disk");
	assert_round_trip("nbd://192.0.2.1:10810", "nbd://192.0.2.1:10810/");
	assert_round_trip("nbd://:10810/x", "nbd://127.0.0.1:10810/x");
	assert_round_trip("nbd://h//disk", "nbd://h:10809//disk");
}

static void test_round_trip_ipv6(void **state)
{
	assert_round_trip("nbd://[FD00:0::1]:10810/x", "nbd://[fd00::1]:10810/x");
	assert_round_trip("nbd://[::ffff:192.0.2.1]/x", "nbd://[::ffff:192.0.2.1]:10809/x");
}

static void test_round_trip_name_encoding(void **state)
{
	/* Unreserved characters are decoded; the rest stay encoded. */
	assert_round_trip("nbd://h/%7e%41", "nbd://h:10809/~A");
	assert_round_trip("nbd://h/caf\xc3\xa9", "nbd://h:10809/caf%C3%A9");
	assert_round_trip("nbd://h/a%3Fb%23c%25d%26e", "nbd://h:10809/a%3Fb%23c%25d%26e");
	assert_round_trip("nbd://h/a:b@c+d,e=f", "nbd://h:10809/a:b@c+d,e=f");
}

static void test_round_trip_devices(void **state)
{
	assert_round_trip("nbd", "nbd");
	assert_round_trip("/dev/nbd3", "/dev/nbd3");
	assert_round_trip("ublk", "ublk");
	assert_round_trip("ublk:5", "/dev/ublkb5");
	assert_round_trip("/dev/ublkb0", "/dev/ublkb0");
}

static void test_format_no_space(void **state)
{
	char buf[16];

	parse_ok("/dev/nbd12");
	assert_int_equal(lb_export_format(&e, buf, strlen("/dev/nbd12")), -ENOSPC);
	assert_string_equal(buf, "/dev/nbd1");
	assert_int_equal(lb_export_format(&e, buf, strlen("/dev/nbd12") + 1), 0);
	assert_string_equal(buf, "/dev/nbd12");
	assert_int_equal(lb_export_format(&e, NULL, 0), -ENOSPC);
}

static void test_format_max_fits(void **state)
{
	/* Every byte of the longest name and socket path encoded. */
	struct lb_export w = {.kind = LB_EXPORT_NBD_UNIX, .index = -1};
	char buf[LB_EXPORT_FORMAT_MAX];

	memset(w.name, 0xff, LB_EXPORT_NAME_MAX);
	memset(w.socket_path, 0xff, LB_EXPORT_SOCKET_MAX);
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), LB_EXPORT_FORMAT_MAX - 1);
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf) - 1), -ENOSPC);
}

static void test_format_refuses_invalid(void **state)
{
	char buf[LB_EXPORT_FORMAT_MAX];
	struct lb_export w;

	w = (struct lb_export){.kind = LB_EXPORT_NBD_KERNEL, .index = -2};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL);
	w = (struct lb_export){.kind = LB_EXPORT_UBLK, .index = LB_EXPORT_INDEX_MAX + 1};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL);
	w = (struct lb_export){.kind = LB_EXPORT_NBD_UNIX, .index = -1};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL); /* no socket */
	w = (struct lb_export){.kind = LB_EXPORT_NBD_TCP, .host = "h", .index = -1};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL); /* port 0 */
	w = (struct lb_export){.kind = LB_EXPORT_NBD_TCP, .host = "a b", .port = 1, .index = -1};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL);
	w = (struct lb_export){.kind = LB_EXPORT_NBD_TCP, .host = "1234", .port = 1, .index = -1};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL);
	w = (struct lb_export){.kind = (enum lb_export_kind)99};
	assert_int_equal(lb_export_format(&w, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_unix_relative_socket_empty_name),
		cmocka_unit_test(test_unix_no_path),
		cmocka_unit_test(test_unix_percent_decoded),
		cmocka_unit_test(test_unix_socket_at_sun_path_limit),
		cmocka_unit_test(test_unix_empty_query_segments),
		cmocka_unit_test(test_scheme_case_insensitive),
		cmocka_unit_test(test_tcp_host_port),
		cmocka_unit_test(test_tcp_default_port),
		cmocka_unit_test(test_tcp_no_path),
		cmocka_unit_test(test_tcp_ipv4),
		cmocka_unit_test(test_tcp_ipv6_canonical),
		cmocka_unit_test(test_tcp_ipv6_default_port),
		cmocka_unit_test(test_tcp_host_trailing_dot),
		cmocka_unit_test(test_tcp_host_label_at_limit),
		cmocka_unit_test(test_tcp_host_at_limit),
		cmocka_unit_test(test_tcp_empty_host_is_loopback),
		cmocka_unit_test(test_tcp_empty_authority_is_loopback),
		cmocka_unit_test(test_tcp_empty_port_is_default),
		cmocka_unit_test(test_tcp_port_leading_zeros),
		cmocka_unit_test(test_tcp_empty_query),
		cmocka_unit_test(test_tcp_name_keeps_second_slash),
		cmocka_unit_test(test_tcp_name_raw_utf8),
		cmocka_unit_test(test_name_at_limit),
		cmocka_unit_test(test_name_at_limit_encoded),
		cmocka_unit_test(test_kernel_nbd_any),
		cmocka_unit_test(test_kernel_nbd_device),
		cmocka_unit_test(test_kernel_nbd_device_at_limit),
		cmocka_unit_test(test_ublk_any),
		cmocka_unit_test(test_ublk_id),
		cmocka_unit_test(test_ublk_device),
		cmocka_unit_test(test_refuse_empty),
		cmocka_unit_test(test_refuse_not_an_export),
		cmocka_unit_test(test_refuse_tls_scheme),
		cmocka_unit_test(test_refuse_tls_query),
		cmocka_unit_test(test_refuse_unknown_scheme),
		cmocka_unit_test(test_refuse_no_slashes),
		cmocka_unit_test(test_refuse_unix_without_socket),
		cmocka_unit_test(test_refuse_unix_empty_socket),
		cmocka_unit_test(test_refuse_socket_twice),
		cmocka_unit_test(test_refuse_socket_too_long),
		cmocka_unit_test(test_refuse_abstract_socket),
		cmocka_unit_test(test_refuse_socket_on_tcp),
		cmocka_unit_test(test_refuse_unix_with_host),
		cmocka_unit_test(test_refuse_unknown_query),
		cmocka_unit_test(test_refuse_userinfo),
		cmocka_unit_test(test_refuse_fragment),
		cmocka_unit_test(test_refuse_port_zero),
		cmocka_unit_test(test_refuse_port_too_large),
		cmocka_unit_test(test_refuse_port_not_numeric),
		cmocka_unit_test(test_refuse_name_too_long),
		cmocka_unit_test(test_refuse_bad_escape),
		cmocka_unit_test(test_refuse_nul_escape),
		cmocka_unit_test(test_refuse_unbracketed_ipv6),
		cmocka_unit_test(test_refuse_bad_brackets),
		cmocka_unit_test(test_refuse_scoped_ipv6),
		cmocka_unit_test(test_refuse_bad_host),
		cmocka_unit_test(test_refuse_host_empty_label),
		cmocka_unit_test(test_refuse_host_hyphen_edge),
		cmocka_unit_test(test_refuse_host_label_too_long),
		cmocka_unit_test(test_refuse_bad_ipv4),
		cmocka_unit_test(test_refuse_host_too_long),
		cmocka_unit_test(test_refuse_device_trailing_garbage),
		cmocka_unit_test(test_refuse_device_missing_number),
		cmocka_unit_test(test_refuse_device_negative),
		cmocka_unit_test(test_refuse_device_huge),
		cmocka_unit_test(test_refuse_device_leading_zero),
		cmocka_unit_test(test_refuse_space),
		cmocka_unit_test(test_refuse_too_long),
		cmocka_unit_test(test_round_trip_unix),
		cmocka_unit_test(test_round_trip_tcp),
		cmocka_unit_test(test_round_trip_ipv6),
		cmocka_unit_test(test_round_trip_name_encoding),
		cmocka_unit_test(test_round_trip_devices),
		cmocka_unit_test(test_format_no_space),
		cmocka_unit_test(test_format_max_fits),
		cmocka_unit_test(test_format_refuses_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
