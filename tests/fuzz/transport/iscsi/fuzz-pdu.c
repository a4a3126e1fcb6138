/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PDUs from the target.  Byte 0 picks the connection limits (bit 0 header
 * digest, bit 1 data digest, bits 2-3 MaxRecvDataSegmentLength); the rest
 * is a byte stream of PDUs.  Every PDU that parses must also pass the
 * three-step reader, re-encode to the same bytes, and have its sense or
 * text data survive the parsers behind it.
 */
#include <stdlib.h>
#include <string.h>

#include "pdu.h"
#include "sense.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_steps(const uint8_t *buf, size_t total, const struct iscsi_pdu_limits *l)
{
	struct iscsi_pdu_rx rx;
	size_t h;

	if (iscsi_pdu_rx_begin(buf, l, &rx, NULL) < 0)
		abort();
	h = iscsi_pdu_rx_header_rest(&rx);
	if (ISCSI_BHS_LEN + h + iscsi_pdu_rx_data_rest(&rx) != total)
		abort();
	if (iscsi_pdu_rx_check_header(&rx, buf + ISCSI_BHS_LEN, h, NULL) < 0 ||
	    iscsi_pdu_rx_check_data(&rx, buf + ISCSI_BHS_LEN + h, iscsi_pdu_rx_data_rest(&rx),
				    NULL) < 0)
		abort();
}

static void check_roundtrip(const struct iscsi_pdu_view *v, const struct iscsi_pdu_limits *l)
{
	struct iscsi_pdu_limits tx = *l;
	struct iscsi_pdu_view again;
	uint8_t *out;
	size_t cap = ISCSI_BHS_LEN + ISCSI_AHS_MAX_LEN + 8 + v->data_len + 3;
	ssize_t n, m;

	tx.max_send_dsl = tx.max_recv_dsl;
	out = malloc(cap);
	if (!out)
		return;
	n = iscsi_pdu_encode_buf(&v->hdr, v->ahs, v->ahs_len, v->data, v->data_len, &tx, out, cap,
				 NULL);
	if (n < 0)
		abort();
	m = iscsi_pdu_parse(out, (size_t)n, l, &again, NULL);
	if (m != n || again.data_len != v->data_len || again.ahs_len != v->ahs_len ||
	    memcmp(again.hdr.raw, v->hdr.raw, ISCSI_BHS_LEN) != 0 ||
	    (v->data_len && memcmp(again.data, v->data, v->data_len) != 0))
		abort();
	free(out);
}

static void check_payload(const struct iscsi_pdu_view *v)
{
	if (v->opcode == ISCSI_OP_SCSI_RSP) {
		const uint8_t *sense;
		size_t slen;
		struct iscsi_sense s;
		char desc[256];
		bool retry;

		if (iscsi_sense_from_segment(v->data, v->data_len, &sense, &slen) == 0 && sense &&
		    iscsi_sense_parse(sense, slen, &s) == 0) {
			iscsi_sense_describe(&s, desc, sizeof(desc));
			(void)iscsi_scsi_status_to_errno(v->hdr.scsi_rsp.status, &s, &retry);
		}
	} else if (v->opcode == ISCSI_OP_LOGIN_RSP || v->opcode == ISCSI_OP_TEXT_RSP) {
		struct iscsi_text_seq seq;
		struct iscsi_text_iter it;
		struct iscsi_kv kv;

		iscsi_text_seq_init(&seq, 0);
		if (iscsi_text_seq_append(&seq, v->data, v->data_len, false, NULL) == 1) {
			iscsi_text_iter_init(&it, &seq);
			while (iscsi_text_next(&it, &kv, NULL) > 0)
				;
		}
		iscsi_text_seq_free(&seq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dsl[] = {512, 8192, 65536, ISCSI_DSL_MAX};
	struct iscsi_pdu_limits l;
	struct iscsi_pdu_view v;
	size_t pos = 1;
	ssize_t n;

	if (size < 1)
		return 0;
	iscsi_pdu_limits_init(&l);
	l.header_digest = data[0] & 1;
	l.data_digest = data[0] & 2;
	l.max_recv_dsl = dsl[(data[0] >> 2) & 3];

	while (pos < size && (n = iscsi_pdu_parse(data + pos, size - pos, &l, &v, NULL)) > 0) {
		if ((size_t)n > size - pos)
			abort();
		check_steps(data + pos, (size_t)n, &l);
		check_roundtrip(&v, &l);
		check_payload(&v);
		pos += (size_t)n;
	}
	return 0;
}
