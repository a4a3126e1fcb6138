/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "digest.h"
#include "pdu.h"

/* What a target may send and what its data segment must look like. */
struct rx_rule {
	const char *name;
	bool from_target;
	bool data_allowed;
	uint32_t min_data; /* when present */
};

static const struct rx_rule *rx_rule_get(uint8_t opcode)
{
	static const struct rx_rule rules[ISCSI_OPCODE_MASK + 1] = {
		[ISCSI_OP_NOP_OUT] = {"NOP-Out", false, true, 0},
		[ISCSI_OP_SCSI_CMD] = {"SCSI Command", false, true, 0},
		[ISCSI_OP_TMF_REQ] = {"Task Management Request", false, false, 0},
		[ISCSI_OP_LOGIN_REQ] = {"Login Request", false, true, 0},
		[ISCSI_OP_TEXT_REQ] = {"Text Request", false, true, 0},
		[ISCSI_OP_DATA_OUT] = {"SCSI Data-Out", false, true, 0},
		[ISCSI_OP_LOGOUT_REQ] = {"Logout Request", false, false, 0},
		[ISCSI_OP_SNACK_REQ] = {"SNACK Request", false, false, 0},
		[ISCSI_OP_NOP_IN] = {"NOP-In", true, true, 0},
		/* Sense data, or response data, after a 2-byte SenseLength. */
		[ISCSI_OP_SCSI_RSP] = {"SCSI Response", true, true, 2},
		[ISCSI_OP_TMF_RSP] = {"Task Management Response", true, false, 0},
		[ISCSI_OP_LOGIN_RSP] = {"Login Response", true, true, 0},
		[ISCSI_OP_TEXT_RSP] = {"Text Response", true, true, 0},
		[ISCSI_OP_DATA_IN] = {"SCSI Data-In", true, true, 0},
		[ISCSI_OP_LOGOUT_RSP] = {"Logout Response", true, false, 0},
		[ISCSI_OP_R2T] = {"Ready To Transfer", true, false, 0},
		[ISCSI_OP_ASYNC_MSG] = {"Asynchronous Message", true, true, 0},
		/* The data segment carries the rejected PDU's BHS. */
		[ISCSI_OP_REJECT] = {"Reject", true, true, ISCSI_BHS_LEN},
	};
	const struct rx_rule *r = &rules[opcode & ISCSI_OPCODE_MASK];

	return r->name ? r : NULL;
}

const char *iscsi_opcode_name(uint8_t opcode)
{
	const struct rx_rule *r = rx_rule_get(opcode);

	return r ? r->name : "unknown";
}

void iscsi_pdu_limits_init(struct iscsi_pdu_limits *l)
{
	*l = (struct iscsi_pdu_limits){
		.max_recv_dsl = 8192,
		.max_send_dsl = 8192,
	};
}

void iscsi_hdr_init(union iscsi_hdr *h, uint8_t opcode, uint8_t flags)
{
	memset(h, 0, sizeof(*h));
	h->bhs.opcode = opcode;
	h->bhs.flags = flags;
}

int iscsi_pdu_rx_begin(const uint8_t bhs[ISCSI_BHS_LEN], const struct iscsi_pdu_limits *limits,
		       struct iscsi_pdu_rx *ret, lb_err *err)
{
	struct iscsi_pdu_rx rx = {0};
	const struct rx_rule *rule;

	memcpy(rx.hdr.raw, bhs, ISCSI_BHS_LEN);
	rx.opcode = iscsi_hdr_opcode(&rx.hdr);
	rule = rx_rule_get(rx.opcode);
	if (!rule || !rule->from_target)
		return lb_err_set(err, EPROTO, "opcode 0x%02x is not one a target may send",
				  rx.opcode);

	rx.ahs_len = (uint32_t)rx.hdr.bhs.total_ahs_len * 4u;
	rx.hdigest_len = limits->header_digest ? ISCSI_DIGEST_LEN : 0;
	rx.data_len = iscsi_hdr_dlength(&rx.hdr);

	if (rx.data_len > 0 && !rule->data_allowed)
		return lb_err_set(err, EPROTO, "%s with a %u-byte data segment", rule->name,
				  rx.data_len);
	if (rx.data_len > 0 && rx.data_len < rule->min_data)
		return lb_err_set(err, EPROTO, "%s with a %u-byte data segment (minimum %u)",
				  rule->name, rx.data_len, rule->min_data);
	if (rx.data_len > limits->max_recv_dsl)
		return lb_err_set(err, EMSGSIZE,
				  "%s data segment of %u bytes exceeds MaxRecvDataSegmentLength %u",
				  rule->name, rx.data_len, limits->max_recv_dsl);

	rx.pad_len = iscsi_pad4(rx.data_len);
	rx.ddigest_len = limits->data_digest && rx.data_len > 0 ? ISCSI_DIGEST_LEN : 0;
	*ret = rx;
	return 0;
}

int iscsi_ahs_next(const uint8_t *ahs, size_t ahs_len, size_t *pos, struct iscsi_ahs *ret)
{
	size_t left, total;
	uint16_t len;

	if (*pos >= ahs_len)
		return 0;
	left = ahs_len - *pos;
	if (left < 4)
		return -EPROTO;
	len = iscsi_get_be16(ahs + *pos);
	total = 3u + (size_t)len;
	total += iscsi_pad4((uint32_t)total);
	if (total > left)
		return -EPROTO;
	ret->len = len;
	ret->type = ahs[*pos + 2];
	ret->data = ahs + *pos + 3;
	*pos += total;
	return 1;
}

int iscsi_pdu_rx_check_header(const struct iscsi_pdu_rx *rx, const uint8_t *rest, size_t rest_len,
			      lb_err *err)
{
	struct iscsi_ahs a;
	size_t pos = 0;
	int r;

	if (rest_len != iscsi_pdu_rx_header_rest(rx))
		return lb_err_set(err, EINVAL, "header rest is %zu bytes, expected %zu", rest_len,
				  iscsi_pdu_rx_header_rest(rx));

	if (rx->hdigest_len) {
		uint32_t crc = iscsi_crc32c_update(ISCSI_CRC32C_INIT, rx->hdr.raw, ISCSI_BHS_LEN);

		crc = iscsi_crc32c_final(iscsi_crc32c_update(crc, rest, rx->ahs_len));
		if (crc != iscsi_digest_get(rest + rx->ahs_len))
			return lb_err_set(err, EBADMSG, "%s header digest mismatch",
					  iscsi_opcode_name(rx->opcode));
	}

	while ((r = iscsi_ahs_next(rest, rx->ahs_len, &pos, &a)) > 0)
		;
	if (r < 0)
		return lb_err_set(err, r, "%s has a malformed AHS at offset %zu",
				  iscsi_opcode_name(rx->opcode), pos);
	return 0;
}

int iscsi_pdu_rx_check_data(const struct iscsi_pdu_rx *rx, const uint8_t *rest, size_t rest_len,
			    lb_err *err)
{
	if (rest_len != iscsi_pdu_rx_data_rest(rx))
		return lb_err_set(err, EINVAL, "data rest is %zu bytes, expected %zu", rest_len,
				  iscsi_pdu_rx_data_rest(rx));

	/* Padding bytes are covered by the digest but otherwise ignored: RFC
	 * 7143 asks senders to zero them, not receivers to check. */
	if (rx->ddigest_len) {
		size_t covered = (size_t)rx->data_len + rx->pad_len;

		if (iscsi_crc32c(rest, covered) != iscsi_digest_get(rest + covered))
			return lb_err_set(err, EBADMSG, "%s data digest mismatch",
					  iscsi_opcode_name(rx->opcode));
	}
	return 0;
}

ssize_t iscsi_pdu_parse(const uint8_t *buf, size_t len, const struct iscsi_pdu_limits *limits,
			struct iscsi_pdu_view *ret, lb_err *err)
{
	struct iscsi_pdu_rx rx;
	size_t hrest, drest, total;
	int r;

	if (len < ISCSI_BHS_LEN)
		return -EAGAIN;
	r = iscsi_pdu_rx_begin(buf, limits, &rx, err);
	if (r < 0)
		return r;

	hrest = iscsi_pdu_rx_header_rest(&rx);
	drest = iscsi_pdu_rx_data_rest(&rx);
	total = ISCSI_BHS_LEN + hrest + drest; /* < 2^25: cannot overflow */
	if (len < total)
		return -EAGAIN;

	r = iscsi_pdu_rx_check_header(&rx, buf + ISCSI_BHS_LEN, hrest, err);
	if (r < 0)
		return r;
	r = iscsi_pdu_rx_check_data(&rx, buf + ISCSI_BHS_LEN + hrest, drest, err);
	if (r < 0)
		return r;

	*ret = (struct iscsi_pdu_view){
		.hdr = rx.hdr,
		.opcode = rx.opcode,
		.ahs = rx.ahs_len ? buf + ISCSI_BHS_LEN : NULL,
		.ahs_len = rx.ahs_len,
		.data = rx.data_len ? buf + ISCSI_BHS_LEN + hrest : NULL,
		.data_len = rx.data_len,
	};
	return (ssize_t)total;
}

int iscsi_pdu_encode(const union iscsi_hdr *bhs, const uint8_t *ahs, size_t ahs_len,
		     const struct iovec *data, size_t iovcnt, const struct iscsi_pdu_limits *limits,
		     struct iscsi_pdu_tx *ret, lb_err *err)
{
	union iscsi_hdr h = *bhs;
	size_t data_len = 0;
	uint32_t pad;

	if (ahs_len % 4 != 0 || ahs_len > ISCSI_AHS_MAX_LEN || (ahs_len && !ahs))
		return lb_err_set(err, EINVAL, "AHS length %zu is not a multiple of 4 up to %u",
				  ahs_len, ISCSI_AHS_MAX_LEN);
	for (size_t i = 0; i < iovcnt; i++) {
		if (data[i].iov_len > ISCSI_DSL_MAX - data_len)
			return lb_err_set(err, EMSGSIZE, "data segment exceeds %u bytes",
					  ISCSI_DSL_MAX);
		data_len += data[i].iov_len;
	}
	if (data_len > limits->max_send_dsl)
		return lb_err_set(err, EMSGSIZE,
				  "data segment of %zu bytes exceeds the target's "
				  "MaxRecvDataSegmentLength %u",
				  data_len, limits->max_send_dsl);

	h.bhs.total_ahs_len = (uint8_t)(ahs_len / 4);
	iscsi_put_be24(h.bhs.dlength, (uint32_t)data_len);

	memcpy(ret->hdr, h.raw, ISCSI_BHS_LEN);
	if (ahs_len)
		memcpy(ret->hdr + ISCSI_BHS_LEN, ahs, ahs_len);
	ret->hdr_len = ISCSI_BHS_LEN + ahs_len;
	if (limits->header_digest) {
		iscsi_digest_put(ret->hdr + ret->hdr_len, iscsi_crc32c(ret->hdr, ret->hdr_len));
		ret->hdr_len += ISCSI_DIGEST_LEN;
	}

	pad = iscsi_pad4((uint32_t)data_len);
	memset(ret->trailer, 0, sizeof(ret->trailer));
	ret->trailer_len = pad;
	if (limits->data_digest && data_len > 0) {
		uint32_t crc = iscsi_crc32c_update_iov(ISCSI_CRC32C_INIT, data, iovcnt);

		crc = iscsi_crc32c_final(iscsi_crc32c_update(crc, ret->trailer, pad));
		iscsi_digest_put(ret->trailer + pad, crc);
		ret->trailer_len += ISCSI_DIGEST_LEN;
	}
	return 0;
}

ssize_t iscsi_pdu_encode_buf(const union iscsi_hdr *bhs, const uint8_t *ahs, size_t ahs_len,
			     const void *data, size_t data_len,
			     const struct iscsi_pdu_limits *limits, uint8_t *buf, size_t cap,
			     lb_err *err)
{
	struct iscsi_pdu_tx tx;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)data, .iov_len = data_len};
	size_t total;
	int r;

	r = iscsi_pdu_encode(bhs, ahs, ahs_len, &iov, data_len ? 1 : 0, limits, &tx, err);
	if (r < 0)
		return r;
	total = tx.hdr_len + data_len + tx.trailer_len;
	if (total > cap)
		return lb_err_set(err, ENOBUFS, "PDU of %zu bytes does not fit a %zu-byte buffer",
				  total, cap);
	memcpy(buf, tx.hdr, tx.hdr_len);
	if (data_len)
		memcpy(buf + tx.hdr_len, data, data_len);
	memcpy(buf + tx.hdr_len + data_len, tx.trailer, tx.trailer_len);
	return (ssize_t)total;
}
