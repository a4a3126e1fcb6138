/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login state machine fed a sequence of Login Responses.
 *
 * Byte 0 configures the login: bits 0-1 CHAP (0 and 3 mutual, 1 one-way,
 * 2 AuthMethod=None), bit 2 a discovery session, bit 3 an existing
 * session's TSIH.  Then records, each
 *
 *   ctl (1 byte)  dlen (2 bytes, big-endian)  BHS (48 bytes)  data (dlen)
 *
 * cut short where the input ends.  The record becomes a PDU (dlength set
 * to dlen, padded), goes through iscsi_pdu_parse() and, if that accepts
 * it, to iscsi_login_handle_response() after a request was built.  So
 * that the fuzzer gets past the header checks, ctl bits patch the BHS:
 *   0x01  opcode, ITT, ISID, version, StatSN, TSIH as the login expects,
 *         status 0 (unless 0x20)
 *   0x02  CSG, T and NSG as in our request (T cleared with 0x40)
 *   0x04  C set, T cleared
 *   0x08  keep TotalAHSLength (else 0)
 * Whatever the input, nothing may crash and a finished login must hold
 * values within what we offered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "initiator-secret-0123";
static const uint8_t tsecret[] = "target-secret-456789";
static const uint8_t isid[6] = {0x80, 0x12, 0x34, 0x56, 0x00, 0x01};

#define ITT 0x1234u

static void check_result(const struct iscsi_login_config *cfg, const struct iscsi_login *l)
{
	const struct iscsi_params *want = &cfg->want;
	struct iscsi_login_result res;
	const struct iscsi_params *p = &res.params;

	if (iscsi_login_result(l, &res) < 0)
		abort();
	if ((cfg->tsih == 0 && res.tsih == 0) || (cfg->tsih != 0 && res.tsih != cfg->tsih))
		abort();
	if (p->first_burst > p->max_burst || p->max_burst > want->max_burst ||
	    p->max_connections < 1 || p->max_connections > want->max_connections ||
	    p->error_recovery_level > want->error_recovery_level || p->max_xmit_dsl < 512 ||
	    p->max_xmit_dsl > 16777215 || p->max_recv_dsl != want->max_recv_dsl ||
	    (p->header_digest && !want->header_digest) || (p->data_digest && !want->data_digest) ||
	    (p->immediate_data && !want->immediate_data) ||
	    (!p->initial_r2t && want->initial_r2t) || strlen(p->target_name) > ISCSI_NAME_MAX)
		abort();
}

static void check_redirect(const struct iscsi_login *l)
{
	struct iscsi_target_address a;
	bool temporary;

	if (iscsi_login_redirect(l, &a, &temporary) < 0 || a.host[0] == '\0' || a.port == 0 ||
	    strlen(a.host) >= sizeof(a.host))
		abort();
}

/* Turn one record into a PDU in out; returns its length. */
static size_t make_pdu(const uint8_t *rec, size_t avail, uint8_t ctl, uint16_t dlen,
		       uint8_t req_flags, bool have_statsn, uint32_t next_statsn,
		       const struct iscsi_login_config *cfg, uint8_t *out)
{
	union iscsi_hdr h;
	size_t bhs_len = avail < ISCSI_BHS_LEN ? avail : ISCSI_BHS_LEN;
	size_t data_len = avail - bhs_len;
	uint8_t csg = req_flags & ISCSI_LOGIN_CSG_MASK, nsg = req_flags & ISCSI_LOGIN_NSG_MASK;

	memset(&h, 0, sizeof(h));
	memcpy(h.raw, rec, bhs_len);
	if (data_len > dlen)
		data_len = dlen;
	if (ctl & 0x01) {
		h.bhs.opcode = ISCSI_OP_LOGIN_RSP;
		h.login_rsp.itt = htobe32(ITT);
		memcpy(h.login_rsp.isid, isid, sizeof(isid));
		h.login_rsp.version_max = h.login_rsp.version_active = 0;
		if (have_statsn)
			h.login_rsp.statsn = htobe32(next_statsn);
		if (cfg->tsih)
			h.login_rsp.tsih = htobe16(cfg->tsih);
		else if (h.login_rsp.tsih == 0)
			h.login_rsp.tsih = htobe16(1);
		if (!(ctl & 0x20))
			h.login_rsp.status_class = h.login_rsp.status_detail = 0;
	}
	if (ctl & 0x02) {
		h.bhs.flags = (uint8_t)((h.bhs.flags & ~0xcfu) | csg | nsg |
					(req_flags & ISCSI_LOGIN_FLAG_TRANSIT));
		if (ctl & 0x40)
			h.bhs.flags &= (uint8_t)~ISCSI_LOGIN_FLAG_TRANSIT;
	}
	if (ctl & 0x04)
		h.bhs.flags = (uint8_t)((h.bhs.flags | ISCSI_LOGIN_FLAG_CONTINUE) &
					~ISCSI_LOGIN_FLAG_TRANSIT);
	if (!(ctl & 0x08))
		h.bhs.total_ahs_len = 0;
	iscsi_put_be24(h.bhs.dlength, dlen);

	/* Data the input did not supply is zero. */
	memcpy(out, h.raw, ISCSI_BHS_LEN);
	memset(out + ISCSI_BHS_LEN, 0, (size_t)dlen + iscsi_pad4(dlen));
	memcpy(out + ISCSI_BHS_LEN, rec + bhs_len, data_len);
	return ISCSI_BHS_LEN + dlen + iscsi_pad4(dlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t reqbuf[ISCSI_BHS_LEN + 8192 + 4];
	static uint8_t pdu[ISCSI_BHS_LEN + 0xffff + 4];
	struct iscsi_chap_creds creds = {
		.name = "iqn.2024-01.org.example:init",
		.secret = secret,
		.secret_len = sizeof(secret) - 1,
	};
	struct iscsi_login_config cfg = {
		.initiator_name = "iqn.2024-01.org.example:init",
		.initiator_alias = "fuzz",
		.target_name = "iqn.2001-04.com.example:storage.disk1",
		.cmdsn = 1,
		.itt = ITT,
	};
	struct iscsi_pdu_limits limits;
	struct iscsi_login *l;
	struct iscsi_pdu_view view;
	lb_err err;
	uint32_t next_statsn = 0;
	bool have_statsn = false, built = false;
	uint8_t req_flags = 0;
	size_t pos = 1;

	if (size < 1)
		return 0;
	memcpy(cfg.isid, isid, sizeof(isid));
	iscsi_params_init(&cfg.want);
	cfg.want.header_digest = true;
	cfg.want.max_recv_dsl = 262144;
	cfg.want.max_burst = 1048576;
	cfg.want.first_burst = 262144;
	cfg.want.initial_r2t = false;
	cfg.want.max_outstanding_r2t = 4;
	cfg.want.max_connections = 4;
	switch (data[0] & 3) {
	case 1:
		cfg.chap = &creds;
		break;
	case 2:
		break;
	default:
		creds.target_name = "target";
		creds.target_secret = tsecret;
		creds.target_secret_len = sizeof(tsecret) - 1;
		cfg.chap = &creds;
		break;
	}
	if (data[0] & 4)
		cfg.target_name = NULL;
	if (data[0] & 8)
		cfg.tsih = 5;
	if (iscsi_login_new(&cfg, &l, &err) < 0)
		abort();
	iscsi_pdu_limits_init(&limits);

	while (pos < size) {
		uint8_t ctl = data[pos++];
		uint16_t dlen = 0;
		size_t avail, n;
		ssize_t r;
		int rr;

		if (size - pos >= 2)
			dlen = iscsi_get_be16(data + pos);
		pos += size - pos >= 2 ? 2 : size - pos;
		avail = size - pos;
		if (avail > ISCSI_BHS_LEN + (size_t)dlen)
			avail = ISCSI_BHS_LEN + (size_t)dlen;

		if (!built) {
			r = iscsi_login_build_request(l, reqbuf, sizeof(reqbuf), &err);
			if (r < (ssize_t)ISCSI_BHS_LEN)
				break;
			req_flags = reqbuf[1];
			built = true;
		}
		n = make_pdu(data + pos, avail, ctl, dlen, req_flags, have_statsn, next_statsn,
			     &cfg, pdu);
		pos += avail;
		if (iscsi_pdu_parse(pdu, n, &limits, &view, &err) < 0)
			continue;
		rr = iscsi_login_handle_response(l, &view, &err);
		built = false;
		if (rr < 0 && iscsi_login_get_state(l) != ISCSI_LOGIN_FAILED)
			abort();
		if (rr != 0)
			break;
		have_statsn = true;
		next_statsn = be32toh(view.hdr.login_rsp.statsn) + 1;
	}

	switch (iscsi_login_get_state(l)) {
	case ISCSI_LOGIN_FULL_FEATURE:
		check_result(&cfg, l);
		break;
	case ISCSI_LOGIN_REDIRECTED:
		check_redirect(l);
		break;
	default:
		break;
	}
	iscsi_login_free(l);
	return 0;
}
