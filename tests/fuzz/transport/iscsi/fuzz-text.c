/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Login/Text data from the target.  Byte 0: bit 0 discovery session,
 * bit 1 we want digests, bit 2 mutual CHAP.  Then chunks, each one length
 * byte (bit 7: the C bit, bits 0-6: length) followed by that many bytes,
 * as if each were one PDU's data segment.  Every complete set is parsed,
 * negotiated, and its CHAP keys answered; the result must obey the RFC
 * ranges whatever the input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "cleanup.h"
#include "negotiate.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "initiator-secret-0123";
static const uint8_t tsecret[] = "target-secret-456789";

static void check_result(const struct iscsi_neg *neg, const struct iscsi_params *p)
{
	if (p->first_burst > p->max_burst || p->max_burst > neg->want.max_burst ||
	    p->max_connections < 1 || p->max_connections > neg->want.max_connections ||
	    p->error_recovery_level > neg->want.error_recovery_level || p->max_xmit_dsl < 512 ||
	    p->max_xmit_dsl > 16777215 || p->default_time2wait < neg->want.default_time2wait ||
	    p->default_time2wait > 3600 || p->max_outstanding_r2t < 1 ||
	    (p->header_digest && !neg->want.header_digest) ||
	    (p->data_digest && !neg->want.data_digest) ||
	    (p->immediate_data && !neg->want.immediate_data) ||
	    (!p->initial_r2t && neg->want.initial_r2t) || strlen(p->target_name) > ISCSI_NAME_MAX ||
	    p->tpgt > 65535)
		abort();
}

static void handle_set(struct iscsi_text_seq *seq, struct iscsi_neg *neg, bool mutual)
{
	struct iscsi_chap_creds creds = {
		.name = "iqn.2024-01.org.example:init",
		.secret = secret,
		.secret_len = sizeof(secret) - 1,
		.target_secret = mutual ? tsecret : NULL,
		.target_secret_len = mutual ? sizeof(tsecret) - 1 : 0,
	};
	const char *a = NULL, *i = NULL, *c = NULL, *n = NULL, *r = NULL;
	_cleanup_(iscsi_text_builder_free) struct iscsi_text_builder reply;
	struct iscsi_text_iter it;
	struct iscsi_kv kv;
	struct iscsi_chap chap;
	struct iscsi_target_address addr;
	uint8_t bin[ISCSI_CHAP_BINARY_MAX];
	size_t blen;
	uint64_t num;

	iscsi_text_builder_init(&reply, 8192);
	iscsi_text_iter_init(&it, seq);
	while (iscsi_text_next(&it, &kv, NULL) > 0) {
		if (strlen(kv.value) != kv.value_len || !iscsi_utf8_valid(kv.value, kv.value_len))
			abort();
		(void)iscsi_binary_decode(kv.value, bin, sizeof(bin), &blen);
		(void)iscsi_text_parse_number(kv.value, UINT64_MAX, &num);
		(void)iscsi_target_address_parse(kv.value, &addr);
		if (!strcmp(kv.key, "CHAP_A"))
			a = kv.value;
		else if (!strcmp(kv.key, "CHAP_I"))
			i = kv.value;
		else if (!strcmp(kv.key, "CHAP_C"))
			c = kv.value;
		else if (!strcmp(kv.key, "CHAP_N"))
			n = kv.value;
		else if (!strcmp(kv.key, "CHAP_R"))
			r = kv.value;
		else if (iscsi_neg_process(neg, &kv, &reply, NULL) == -ENOENT)
			(void)iscsi_neg_not_understood(&reply, kv.key);
	}
	if (a || i || c) {
		(void)iscsi_chap_init(&chap, 0);
		if (iscsi_chap_respond(&chap, &creds, a, i, c, &reply, NULL) == 0 && mutual)
			(void)iscsi_chap_verify(&chap, &creds, n, r, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_params want, result;
	struct iscsi_text_builder offer;
	struct iscsi_text_seq seq;
	struct iscsi_neg neg;
	size_t pos = 1;

	if (size < 1)
		return 0;
	iscsi_params_init(&want);
	want.header_digest = want.data_digest = data[0] & 2;
	want.max_recv_dsl = 262144;
	want.max_burst = 1048576;
	want.immediate_data = true;
	want.initial_r2t = false;
	want.max_outstanding_r2t = 4;
	if (iscsi_neg_init(&neg, &want, data[0] & 1, NULL) < 0)
		abort();
	iscsi_text_builder_init(&offer, 8192);
	if (iscsi_neg_offer(&neg, &offer, NULL) < 0)
		abort();
	iscsi_text_builder_free(&offer);

	iscsi_text_seq_init(&seq, 4096);
	while (pos < size) {
		bool more = data[pos] & 0x80;
		size_t len = data[pos] & 0x7f;
		int r;

		pos++;
		if (len > size - pos)
			len = size - pos;
		r = iscsi_text_seq_append(&seq, data + pos, len, more, NULL);
		pos += len;
		if (r < 0)
			break;
		if (r == 1) {
			handle_set(&seq, &neg, data[0] & 4);
			iscsi_text_seq_reset(&seq);
		}
	}
	iscsi_text_seq_free(&seq);
	if (iscsi_neg_finish(&neg, &result, NULL) < 0)
		abort();
	check_result(&neg, &result);
	return 0;
}
