/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NBD negotiation's TLS modes (doc/proto.md "TLS support"): STARTTLS
 * offered or not, FORCEDTLS refusing the rest with ERR_TLS_REQD, and
 * what changes once TLS is up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <endian.h>
#include <string.h>
#include <cmocka.h>

#include "nbd-negotiate.h"
#include "nbd-proto.h"

static struct nbd_export_desc x = {
	.name = "vol",
	.size = 1 << 20,
	.eflags = NBD_FLAG_HAS_FLAGS,
	.min_block = 512,
	.pref_block = 4096,
	.max_block = NBD_MAX_PAYLOAD,
};
static struct nbd_negotiate n;
static struct nbd_buf out;
static size_t off;

static int setup(void **state)
{
	nbd_negotiate_init(&n, &x);
	assert_int_equal(nbd_negotiate_client_flags(&n, NBD_FLAG_C_FIXED_NEWSTYLE), 0);
	off = 0;
	return 0;
}

static int teardown(void **state)
{
	nbd_buf_free(&out);
	return 0;
}

/* The next reply's type (its option checked); the last reply's message. */
static char msg[128];
static uint32_t next_reply(uint32_t opt)
{
	struct nbd_option_reply h;
	uint32_t len;

	assert_true(off + sizeof(h) <= out.len);
	memcpy(&h, out.p + off, sizeof(h));
	assert_true(be64toh(h.magic) == NBD_REP_MAGIC);
	assert_int_equal(be32toh(h.option), opt);
	off += sizeof(h);
	len = be32toh(h.len);
	assert_true(off + len <= out.len);
	memset(msg, 0, sizeof(msg));
	memcpy(msg, out.p + off, len < sizeof(msg) - 1 ? len : sizeof(msg) - 1);
	off += len;
	return be32toh(h.reply);
}

/* A GO for "vol" with no info requests. */
static int go(void)
{
	static const uint8_t req[] = {0, 0, 0, 3, 'v', 'o', 'l', 0, 0};

	return nbd_negotiate_option(&n, NBD_OPT_GO, req, sizeof(req), &out);
}

static void test_off_refuses_starttls(void **state)
{
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STARTTLS, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STARTTLS), NBD_REP_ERR_UNSUP);
	assert_int_equal(go(), NBD_NEG_TRANSMISSION);
}

static void test_require_refuses_plaintext(void **state)
{
	n.tls_mode = NBD_TLS_REQUIRE;
	assert_int_equal(go(), NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_GO), NBD_REP_ERR_TLS_REQD);
	assert_string_equal(msg, "TLS is required");
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_LIST, NULL, 0, &out), NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_LIST), NBD_REP_ERR_TLS_REQD);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STRUCTURED_REPLY, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STRUCTURED_REPLY), NBD_REP_ERR_TLS_REQD);
	assert_false(n.structured);
	assert_int_equal(nbd_negotiate_option(&n, 4242, NULL, 0, &out), NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(4242), NBD_REP_ERR_TLS_REQD);
	assert_int_equal(n.tls_refused, 4);
	assert_int_equal(off, out.len);
}

static void test_require_export_name_closes(void **state)
{
	n.tls_mode = NBD_TLS_REQUIRE;
	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_EXPORT_NAME, (const uint8_t *)"vol", 3, &out),
		NBD_NEG_CLOSE);
	assert_int_equal(out.len, 0);
}

static void test_require_abort_acked(void **state)
{
	n.tls_mode = NBD_TLS_REQUIRE;
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_ABORT, NULL, 0, &out), NBD_NEG_CLOSE);
	assert_int_equal(next_reply(NBD_OPT_ABORT), NBD_REP_ACK);
}

static void test_starttls_then_tls(void **state)
{
	n.tls_mode = NBD_TLS_REQUIRE;
	/* STARTTLS takes no data */
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STARTTLS, (const uint8_t *)"x", 1, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STARTTLS), NBD_REP_ERR_INVALID);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STARTTLS, NULL, 0, &out),
			 NBD_NEG_STARTTLS);
	assert_int_equal(next_reply(NBD_OPT_STARTTLS), NBD_REP_ACK);
	nbd_negotiate_tls_started(&n);
	/* twice: ERR_INVALID */
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STARTTLS, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STARTTLS), NBD_REP_ERR_INVALID);
	assert_string_equal(msg, "TLS is already negotiated");
	assert_int_equal(go(), NBD_NEG_TRANSMISSION);
	assert_int_equal(next_reply(NBD_OPT_GO), NBD_REP_INFO);
}

static void test_on_allows_both(void **state)
{
	n.tls_mode = NBD_TLS_ON;
	/* plaintext options are answered */
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STRUCTURED_REPLY, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STRUCTURED_REPLY), NBD_REP_ACK);
	assert_true(n.structured);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STARTTLS, NULL, 0, &out),
			 NBD_NEG_STARTTLS);
	assert_int_equal(next_reply(NBD_OPT_STARTTLS), NBD_REP_ACK);
	/* what plaintext agreed does not carry over */
	nbd_negotiate_tls_started(&n);
	assert_false(n.structured);
	assert_true(n.tls);
	assert_int_equal(n.tls_refused, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_off_refuses_starttls),	    T(test_require_refuses_plaintext),
		T(test_require_export_name_closes), T(test_require_abort_acked),
		T(test_starttls_then_tls),	    T(test_on_allows_both),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
