/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NBD fixed newstyle negotiation: each option's answer, byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nbd-negotiate.h"
#include "nbd-proto.h"

static struct nbd_export_desc x = {
	.name = "vol",
	.description = "a test LUN",
	.size = 1 << 20,
	.eflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA,
	.min_block = 512,
	.pref_block = 4096,
	.max_block = NBD_MAX_PAYLOAD,
};
static struct nbd_negotiate n;
static struct nbd_buf out;

static int setup(void **state)
{
	x.min_block = 512;
	nbd_negotiate_init(&n, &x);
	assert_int_equal(nbd_negotiate_client_flags(&n, NBD_FLAG_C_FIXED_NEWSTYLE), 0);
	return 0;
}

static int teardown(void **state)
{
	nbd_buf_free(&out);
	return 0;
}

/* An INFO/GO payload: name, then the info requests. */
static size_t info_req(uint8_t *buf, const char *name, const uint16_t *infos, uint16_t count)
{
	uint32_t nl = htobe32((uint32_t)strlen(name));
	uint16_t c = htobe16(count);
	size_t off = 0;

	memcpy(buf, &nl, 4);
	off = 4;
	memcpy(buf + off, name, strlen(name));
	off += strlen(name);
	memcpy(buf + off, &c, 2);
	off += 2;
	for (uint16_t i = 0; i < count; i++) {
		uint16_t t = htobe16(infos[i]);

		memcpy(buf + off, &t, 2);
		off += 2;
	}
	return off;
}

/* The reply at *off: checks its header, returns its type, advances. */
static uint32_t next_reply(uint32_t opt, size_t *off, const uint8_t **data, uint32_t *len)
{
	struct nbd_option_reply h;

	assert_true(*off + sizeof(h) <= out.len);
	memcpy(&h, out.p + *off, sizeof(h));
	assert_true(be64toh(h.magic) == NBD_REP_MAGIC);
	assert_int_equal(be32toh(h.option), opt);
	*off += sizeof(h);
	*len = be32toh(h.len);
	assert_true(*off + *len <= out.len);
	*data = out.p + *off;
	*off += *len;
	return be32toh(h.reply);
}

static uint16_t info_type(const uint8_t *d)
{
	uint16_t t;

	memcpy(&t, d, 2);
	return be16toh(t);
}

static void test_greeting(void **state)
{
	struct nbd_greeting g;

	assert_int_equal(nbd_negotiate_greeting(&out), 0);
	assert_int_equal(out.len, sizeof(g));
	memcpy(&g, out.p, sizeof(g));
	assert_true(be64toh(g.nbdmagic) == NBD_MAGIC);
	assert_true(be64toh(g.version) == NBD_OPTS_MAGIC);
	assert_int_equal(be16toh(g.gflags), NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}

static void test_client_flags(void **state)
{
	struct nbd_negotiate m;

	nbd_negotiate_init(&m, &x);
	assert_int_equal(nbd_negotiate_client_flags(&m, 0), -EPROTO);
	assert_int_equal(nbd_negotiate_client_flags(&m, NBD_FLAG_C_FIXED_NEWSTYLE | 4), -EPROTO);
	assert_int_equal(
		nbd_negotiate_client_flags(&m, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES),
		0);
	assert_true(m.no_zeroes);
}

static void test_go(void **state)
{
	uint8_t req[64];
	uint16_t infos[] = {NBD_INFO_BLOCK_SIZE};
	size_t len = info_req(req, "vol", infos, 1), off = 0;
	const uint8_t *d;
	uint32_t dl;
	struct nbd_info_export ie;
	struct nbd_info_block_size bs;

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_GO, req, (uint32_t)len, &out),
			 NBD_NEG_TRANSMISSION);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_INFO);
	assert_int_equal(dl, sizeof(ie));
	memcpy(&ie, d, sizeof(ie));
	assert_int_equal(be16toh(ie.info), NBD_INFO_EXPORT);
	assert_true(be64toh(ie.size) == x.size);
	assert_int_equal(be16toh(ie.eflags), x.eflags);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_INFO);
	assert_int_equal(dl, sizeof(bs));
	memcpy(&bs, d, sizeof(bs));
	assert_int_equal(be16toh(bs.info), NBD_INFO_BLOCK_SIZE);
	assert_int_equal(be32toh(bs.minimum), 512);
	assert_int_equal(be32toh(bs.preferred), 4096);
	assert_int_equal(be32toh(bs.maximum), NBD_MAX_PAYLOAD);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_ACK);
	assert_int_equal(dl, 0);
	assert_int_equal(off, out.len);
}

static void test_go_default_export(void **state)
{
	uint8_t req[16];
	size_t len = info_req(req, "", NULL, 0);

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_GO, req, (uint32_t)len, &out),
			 NBD_NEG_TRANSMISSION);
}

static void test_go_unknown_export(void **state)
{
	uint8_t req[16];
	size_t len = info_req(req, "other", NULL, 0), off = 0;
	const uint8_t *d;
	uint32_t dl;

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_GO, req, (uint32_t)len, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_ERR_UNKNOWN);
	assert_int_equal(off, out.len);
}

static void test_go_needs_block_size(void **state)
{
	uint8_t req[16];
	size_t len = info_req(req, "vol", NULL, 0), off = 0;
	const uint8_t *d;
	uint32_t dl;

	x.min_block = 4096;
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_GO, req, (uint32_t)len, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_ERR_BLOCK_SIZE_REQD);
}

static void test_info_name_description(void **state)
{
	uint8_t req[32];
	uint16_t infos[] = {NBD_INFO_NAME, NBD_INFO_DESCRIPTION, 77 /* unknown: ignored */};
	size_t len = info_req(req, "vol", infos, 3), off = 0;
	const uint8_t *d;
	uint32_t dl;

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_INFO, req, (uint32_t)len, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_INFO, &off, &d, &dl), NBD_REP_INFO);
	assert_int_equal(info_type(d), NBD_INFO_EXPORT);
	assert_int_equal(next_reply(NBD_OPT_INFO, &off, &d, &dl), NBD_REP_INFO);
	assert_int_equal(info_type(d), NBD_INFO_NAME);
	assert_int_equal(dl, 2 + 3);
	assert_memory_equal(d + 2, "vol", 3);
	assert_int_equal(next_reply(NBD_OPT_INFO, &off, &d, &dl), NBD_REP_INFO);
	assert_int_equal(info_type(d), NBD_INFO_DESCRIPTION);
	assert_memory_equal(d + 2, "a test LUN", dl - 2);
	assert_int_equal(next_reply(NBD_OPT_INFO, &off, &d, &dl), NBD_REP_INFO);
	assert_int_equal(info_type(d), NBD_INFO_BLOCK_SIZE); /* always given */
	assert_int_equal(next_reply(NBD_OPT_INFO, &off, &d, &dl), NBD_REP_ACK);
}

static void test_info_bad_lengths(void **state)
{
	uint8_t req[32];
	uint16_t infos[] = {NBD_INFO_NAME};
	size_t len = info_req(req, "vol", infos, 1), off = 0;
	const uint8_t *d;
	uint32_t dl;
	uint32_t huge = htobe32(1000);

	/* one byte short of the request list */
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_INFO, req, (uint32_t)len - 1, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_INFO, &off, &d, &dl), NBD_REP_ERR_INVALID);
	/* a name longer than the option */
	memcpy(req, &huge, 4);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_GO, req, (uint32_t)len, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_ERR_INVALID);
	/* too short for anything */
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_GO, req, 3, &out), NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_GO, &off, &d, &dl), NBD_REP_ERR_INVALID);
	assert_int_equal(off, out.len);
}

static void test_list(void **state)
{
	size_t off = 0;
	const uint8_t *d;
	uint32_t dl, nl;

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_LIST, NULL, 0, &out), NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_LIST, &off, &d, &dl), NBD_REP_SERVER);
	memcpy(&nl, d, 4);
	assert_int_equal(be32toh(nl), 3);
	assert_int_equal(dl, 4 + 3);
	assert_memory_equal(d + 4, "vol", 3);
	assert_int_equal(next_reply(NBD_OPT_LIST, &off, &d, &dl), NBD_REP_ACK);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_LIST, (const uint8_t *)"x", 1, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_LIST, &off, &d, &dl), NBD_REP_ERR_INVALID);
}

static void test_export_name(void **state)
{
	struct nbd_export_name_reply er;

	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_EXPORT_NAME, (const uint8_t *)"vol", 3, &out),
		NBD_NEG_TRANSMISSION);
	assert_int_equal(out.len, sizeof(er));
	memcpy(&er, out.p, sizeof(er));
	assert_true(be64toh(er.size) == x.size);
	assert_int_equal(be16toh(er.eflags), x.eflags);
}

static void test_export_name_no_zeroes(void **state)
{
	n.no_zeroes = true;
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_EXPORT_NAME, NULL, 0, &out),
			 NBD_NEG_TRANSMISSION);
	assert_int_equal(out.len, 10);
}

static void test_export_name_unknown_closes(void **state)
{
	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_EXPORT_NAME, (const uint8_t *)"nope", 4, &out),
		NBD_NEG_CLOSE);
	assert_int_equal(out.len, 0);
}

static void test_abort(void **state)
{
	size_t off = 0;
	const uint8_t *d;
	uint32_t dl;

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_ABORT, NULL, 0, &out), NBD_NEG_CLOSE);
	assert_int_equal(next_reply(NBD_OPT_ABORT, &off, &d, &dl), NBD_REP_ACK);
}

static void test_structured_reply(void **state)
{
	size_t off = 0;
	const uint8_t *d;
	uint32_t dl;

	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_STRUCTURED_REPLY, (const uint8_t *)"x", 1, &out),
		NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STRUCTURED_REPLY, &off, &d, &dl), NBD_REP_ERR_INVALID);
	assert_false(n.structured);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STRUCTURED_REPLY, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STRUCTURED_REPLY, &off, &d, &dl), NBD_REP_ACK);
	assert_true(n.structured);
}

/* name "vol", queries times the query q */
static size_t meta_req_q(uint8_t *buf, uint32_t queries, const char *q)
{
	uint32_t v;
	size_t off = 0;

	v = htobe32(3);
	memcpy(buf, &v, 4);
	memcpy(buf + 4, "vol", 3);
	off = 7;
	v = htobe32(queries);
	memcpy(buf + off, &v, 4);
	off += 4;
	for (uint32_t i = 0; i < queries; i++) {
		v = htobe32((uint32_t)strlen(q));
		memcpy(buf + off, &v, 4);
		memcpy(buf + off + 4, q, strlen(q));
		off += 4 + strlen(q);
	}
	return off;
}

static size_t meta_req(uint8_t *buf, uint32_t queries)
{
	return meta_req_q(buf, queries, "base:allocation");
}

/* One option with a query, answered: the replies up to the ACK must be
 * base:allocation's (with its id) when named, else none. */
static void meta_expect(uint32_t opt, uint32_t queries, const char *q, bool named)
{
	uint8_t req[128];
	size_t len = meta_req_q(req, queries, q), off = 0;
	const uint8_t *d;
	uint32_t dl, id;

	out.len = 0;
	assert_int_equal(nbd_negotiate_option(&n, opt, req, (uint32_t)len, &out), NBD_NEG_CONTINUE);
	if (named) {
		assert_int_equal(next_reply(opt, &off, &d, &dl), NBD_REP_META_CONTEXT);
		assert_int_equal(dl, 4 + strlen("base:allocation"));
		memcpy(&id, d, 4);
		assert_int_equal(be32toh(id), NBD_META_ID_ALLOCATION);
		assert_memory_equal(d + 4, "base:allocation", dl - 4);
	}
	assert_int_equal(next_reply(opt, &off, &d, &dl), NBD_REP_ACK);
	assert_int_equal(off, out.len);
}

static void test_meta_context(void **state)
{
	uint8_t req[128];
	size_t len = meta_req(req, 1), off = 0;
	const uint8_t *d;
	uint32_t dl;

	/* not before structured replies */
	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_SET_META_CONTEXT, req, (uint32_t)len, &out),
		NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_SET_META_CONTEXT, &off, &d, &dl), NBD_REP_ERR_INVALID);
	assert_false(n.meta_allocation);
	n.structured = true;
	/* a query count larger than the data */
	len = meta_req(req, 1);
	req[10] = 2;
	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_LIST_META_CONTEXT, req, (uint32_t)len, &out),
		NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_LIST_META_CONTEXT, &off, &d, &dl), NBD_REP_ERR_INVALID);
	/* trailing bytes */
	len = meta_req(req, 1);
	assert_int_equal(
		nbd_negotiate_option(&n, NBD_OPT_LIST_META_CONTEXT, req, (uint32_t)len + 1, &out),
		NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_LIST_META_CONTEXT, &off, &d, &dl), NBD_REP_ERR_INVALID);
}

static void test_meta_context_allocation(void **state)
{
	n.structured = true;
	/* LIST: everything served when nothing is asked, by name, by namespace */
	meta_expect(NBD_OPT_LIST_META_CONTEXT, 0, "", true);
	meta_expect(NBD_OPT_LIST_META_CONTEXT, 1, "base:allocation", true);
	meta_expect(NBD_OPT_LIST_META_CONTEXT, 1, "base:", true);
	meta_expect(NBD_OPT_LIST_META_CONTEXT, 1, "qemu:dirty-bitmap:b", false);
	assert_false(n.meta_allocation); /* LIST chooses nothing */
	/* SET: by name only; a later SET replaces the choice */
	meta_expect(NBD_OPT_SET_META_CONTEXT, 1, "base:", false);
	assert_false(n.meta_allocation);
	meta_expect(NBD_OPT_SET_META_CONTEXT, 2, "base:allocation", true);
	assert_true(n.meta_allocation);
	meta_expect(NBD_OPT_SET_META_CONTEXT, 1, "base:allocationX", false);
	assert_false(n.meta_allocation);
	meta_expect(NBD_OPT_SET_META_CONTEXT, 1, "base:allocation", true);
	assert_true(n.meta_allocation);
	meta_expect(NBD_OPT_SET_META_CONTEXT, 0, "", false);
	assert_false(n.meta_allocation);
}

static void test_unsupported(void **state)
{
	size_t off = 0;
	const uint8_t *d;
	uint32_t dl;

	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_STARTTLS, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_STARTTLS, &off, &d, &dl), NBD_REP_ERR_UNSUP);
	assert_int_equal(nbd_negotiate_option(&n, NBD_OPT_EXTENDED_HEADERS, NULL, 0, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(NBD_OPT_EXTENDED_HEADERS, &off, &d, &dl), NBD_REP_ERR_UNSUP);
	assert_int_equal(nbd_negotiate_option(&n, 4242, (const uint8_t *)"abc", 3, &out),
			 NBD_NEG_CONTINUE);
	assert_int_equal(next_reply(4242, &off, &d, &dl), NBD_REP_ERR_UNSUP);
	assert_int_equal(off, out.len);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_greeting),
		T(test_client_flags),
		T(test_go),
		T(test_go_default_export),
		T(test_go_unknown_export),
		T(test_go_needs_block_size),
		T(test_info_name_description),
		T(test_info_bad_lengths),
		T(test_list),
		T(test_export_name),
		T(test_export_name_no_zeroes),
		T(test_export_name_unknown_closes),
		T(test_abort),
		T(test_structured_reply),
		T(test_meta_context),
		T(test_meta_context_allocation),
		T(test_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
