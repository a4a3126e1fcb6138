/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checking and consuming Login Responses (login.h): the status classes,
 * the header checks, the keys of a reassembled set and what they mean for
 * the state, and redirection.
 */
#include <errno.h>
#include <string.h>

#include "login-internal.h"

#define LOGIN_MAX_REQUESTS 64u /* a login that needs more is not going anywhere */

/* Security keys the target sends, one bit each in l->seen. */
enum sec_key {
	SK_AUTH_METHOD,
	SK_CHAP_A,
	SK_CHAP_I,
	SK_CHAP_C,
	SK_CHAP_N,
	SK_CHAP_R,
	SK_COUNT,
};

static const char *const sec_key_names[SK_COUNT] = {
	"AuthMethod", "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R",
};

const char *iscsi_login_status_str(uint8_t status_class, uint8_t status_detail)
{
	switch ((unsigned)status_class << 8 | status_detail) {
	case 0x0000:
		return "success";
	case 0x0101:
		return "target moved temporarily";
	case 0x0102:
		return "target moved permanently";
	case 0x0200:
		return "initiator error";
	case 0x0201:
		return "authentication failed";
	case 0x0202:
		return "authorization failure";
	case 0x0203:
		return "target not found";
	case 0x0204:
		return "target removed";
	case 0x0205:
		return "unsupported version";
	case 0x0206:
		return "too many connections";
	case 0x0207:
		return "missing parameter";
	case 0x0208:
		return "can't include in session";
	case 0x0209:
		return "session type not supported";
	case 0x020a:
		return "session does not exist";
	case 0x020b:
		return "invalid request during login";
	case 0x0300:
		return "target error";
	case 0x0301:
		return "service unavailable";
	case 0x0302:
		return "out of resources";
	}
	switch (status_class) {
	case ISCSI_LOGIN_CLASS_REDIRECT:
		return "redirection";
	case ISCSI_LOGIN_CLASS_INITIATOR_ERR:
		return "initiator error";
	case ISCSI_LOGIN_CLASS_TARGET_ERR:
		return "target error";
	}
	return "unknown status";
}

static int status_errno(uint8_t status_class, uint8_t status_detail)
{
	switch ((unsigned)status_class << 8 | status_detail) {
	case 0x0201:
	case 0x0202:
		return -EACCES;
	case 0x0203:
	case 0x0204:
		return -ENOENT;
	case 0x0301:
	case 0x0302:
		return -EAGAIN;
	case 0x0206:
		return -EIO;
	}
	/* The rest of class 2 says we and the target disagree about the
	 * protocol; class 3 is the target's own trouble. */
	return status_class == ISCSI_LOGIN_CLASS_TARGET_ERR ? -EIO : -EPROTO;
}

static bool mutual_chap(const struct iscsi_login *l)
{
	return l->cfg->chap && l->cfg->chap->target_secret;
}

/* Everything the target has sent in one set that the states look at. */
struct set_keys {
	const char *chap_a, *chap_i, *chap_c, *chap_n, *chap_r;
};

static int sec_key_index(const char *key)
{
	for (int i = 0; i < SK_COUNT; i++)
		if (!strcmp(key, sec_key_names[i]))
			return i;
	return -1;
}

static bool is_special_value(const char *v)
{
	return !strcmp(v, "NotUnderstood") || !strcmp(v, "Irrelevant") || !strcmp(v, "Reject");
}

static int process_sec_key(struct iscsi_login *l, int idx, const struct iscsi_kv *kv,
			   struct set_keys *sk, lb_err *err)
{
	const char *ours = l->cfg->chap ? "CHAP" : "None";
	bool chap_a_wait = l->state == ISCSI_LOGIN_SECURITY_CHAP_A;
	bool chap_r_wait = l->state == ISCSI_LOGIN_SECURITY_CHAP_R && mutual_chap(l);

	if (l->seen & (1u << idx))
		return lb_err_set(err, EPROTO, "target sent %s twice", kv->key);
	l->seen |= 1u << idx;

	switch ((enum sec_key)idx) {
	case SK_AUTH_METHOD:
		if (l->state != ISCSI_LOGIN_SECURITY_OFFER)
			break;
		if (strcmp(kv->value, ours) != 0)
			return lb_err_set(err, EACCES, "target answered AuthMethod=%.32s to our %s",
					  kv->value, ours);
		return 0;
	case SK_CHAP_A:
		if (!chap_a_wait)
			break;
		sk->chap_a = kv->value;
		return 0;
	case SK_CHAP_I:
		if (!chap_a_wait)
			break;
		sk->chap_i = kv->value;
		return 0;
	case SK_CHAP_C:
		if (!chap_a_wait)
			break;
		sk->chap_c = kv->value;
		return 0;
	case SK_CHAP_N:
		if (!chap_r_wait)
			break;
		sk->chap_n = kv->value;
		return 0;
	case SK_CHAP_R:
		if (!chap_r_wait)
			break;
		sk->chap_r = kv->value;
		return 0;
	case SK_COUNT:
		break;
	}
	return lb_err_set(err, EPROTO, "target sent %s unexpectedly (login %s)", kv->key,
			  iscsi_login_state_name(l->state));
}

static int process_key(struct iscsi_login *l, const struct iscsi_kv *kv, struct set_keys *sk,
		       lb_err *err)
{
	int idx = sec_key_index(kv->key);
	size_t before;
	int r;

	if (idx >= 0)
		return process_sec_key(l, idx, kv, sk, err);

	/* Our own declarations need no answer; a target that answers them
	 * anyway (InitiatorAlias=NotUnderstood, say) is ignored. */
	if (!strcmp(kv->key, "InitiatorName") || !strcmp(kv->key, "InitiatorAlias") ||
	    !strcmp(kv->key, "SessionType") ||
	    (!strcmp(kv->key, "TargetName") && l->cfg->target_name && is_special_value(kv->value)))
		return 0;

	before = l->tx.len;
	r = iscsi_neg_process(&l->neg, kv, &l->tx, err);
	if (r == -ENOENT) {
		if (iscsi_text_has(&l->unknown, kv->key))
			return lb_err_set(err, EPROTO, "target sent %s twice", kv->key);
		r = iscsi_text_add(&l->unknown, kv->key, "");
		if (r == 0)
			r = iscsi_neg_not_understood(&l->tx, kv->key);
		if (r == -EMSGSIZE)
			return lb_err_set(err, r, "answers to the target's keys exceed %u bytes",
					  ISCSI_LOGIN_TEXT_MAX);
		if (r < 0)
			return lb_err_set(err, r, "cannot answer %s=NotUnderstood", kv->key);
		return 0;
	}
	if (r < 0)
		return r;
	if (l->tx.len > before) {
		/* Operational keys are negotiated after the security stage
		 * (RFC 7143 §6.3); answering one now would clash with our
		 * own offer of it. */
		if (iscsi_login_in_security_stage(l->state))
			return lb_err_set(err, EPROTO, "target offered %s in the security stage",
					  kv->key);
		l->tx_has_answers = true;
	}
	return 0;
}

static int process_set(struct iscsi_login *l, struct set_keys *sk, lb_err *err)
{
	struct iscsi_text_iter it;
	struct iscsi_kv kv;
	int r;

	iscsi_text_iter_init(&it, &l->rx);
	while ((r = iscsi_text_next(&it, &kv, err)) > 0) {
		r = process_key(l, &kv, sk, err);
		if (r < 0)
			return r;
	}
	return r < 0 ? -EPROTO : 0; /* err names the malformed pair */
}

static int another_round(struct iscsi_login *l, lb_err *err)
{
	if (l->requests >= LOGIN_MAX_REQUESTS)
		return lb_err_set(err, EPROTO, "login did not finish after %u Login Requests",
				  l->requests);
	return 0;
}

static int finish(struct iscsi_login *l, const struct iscsi_login_rsp_hdr *h, lb_err *err)
{
	uint16_t tsih = be16toh(h->tsih);
	int r;

	/* A target must not end the login with offers we had no chance to
	 * answer: it could not know the outcome.  NotUnderstood replies to
	 * keys it made up are dropped. */
	if (l->tx_has_answers)
		return lb_err_set(err, EPROTO, "target ended the login with keys still to answer");
	if (l->cfg->tsih == 0 && tsih == 0)
		return lb_err_set(err, EPROTO, "target assigned TSIH 0 to a new session");
	if (l->cfg->tsih != 0 && tsih != l->cfg->tsih)
		return lb_err_set(err, EPROTO, "target answered TSIH %u for session %u", tsih,
				  l->cfg->tsih);
	r = iscsi_neg_finish(&l->neg, &l->params, err);
	if (r < 0)
		return r;
	l->tsih = tsih;
	l->tx.len = 0;
	iscsi_login_set_state(l, ISCSI_LOGIN_FULL_FEATURE);
	return 1;
}

/* What the keys of a complete set mean for the state. */
static int advance(struct iscsi_login *l, const struct iscsi_login_rsp_hdr *h,
		   const struct set_keys *sk, lb_err *err)
{
	bool transit = h->flags & ISCSI_LOGIN_FLAG_TRANSIT;
	int r;

	switch (l->state) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		if (l->cfg->chap) {
			/* AuthMethod=CHAP went with T=0, so no transit here. */
			if (!(l->seen & (1u << SK_AUTH_METHOD)))
				return lb_err_set(err, EPROTO, "target did not answer AuthMethod");
			iscsi_login_set_state(l, ISCSI_LOGIN_SECURITY_CHAP_A);
			return 0;
		}
		if (transit) {
			iscsi_login_set_state(l, ISCSI_LOGIN_OPERATIONAL);
			return 0;
		}
		return another_round(l, err);
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		r = iscsi_chap_respond(&l->chap, l->cfg->chap, sk->chap_a, sk->chap_i, sk->chap_c,
				       &l->tx, err);
		if (r < 0)
			return r;
		iscsi_login_set_state(l, ISCSI_LOGIN_SECURITY_CHAP_R);
		return 0;
	case ISCSI_LOGIN_SECURITY_CHAP_R:
		/* The target proves itself in its first answer to CHAP_R,
		 * before we agree to leave the security stage. */
		if (mutual_chap(l) && !l->target_verified) {
			r = iscsi_chap_verify(&l->chap, l->cfg->chap, sk->chap_n, sk->chap_r, err);
			if (r < 0)
				return r;
			l->target_verified = true;
		}
		if (transit) {
			iscsi_login_set_state(l, ISCSI_LOGIN_OPERATIONAL);
			return 0;
		}
		return another_round(l, err);
	case ISCSI_LOGIN_OPERATIONAL:
		if (transit)
			return finish(l, h, err);
		return another_round(l, err);
	default:
		return lb_err_set(err, EINVAL, "login is %s", iscsi_login_state_name(l->state));
	}
}

/* Status class 1: the target names another portal. */
static int handle_redirect(struct iscsi_login *l, const struct iscsi_pdu_view *rsp, lb_err *err)
{
	uint8_t detail = rsp->hdr.login_rsp.status_detail;
	struct iscsi_target_address addr;
	struct iscsi_text_iter it;
	struct iscsi_kv kv;
	bool found = false;
	int r;

	if (detail != 0x01 && detail != 0x02)
		return lb_err_set(err, EPROTO, "target sent unknown redirection status 01%02x",
				  detail);
	iscsi_text_seq_reset(&l->rx);
	r = iscsi_text_seq_append(&l->rx, rsp->data, rsp->data_len, false, err);
	if (r < 0)
		return r;
	iscsi_text_iter_init(&it, &l->rx);
	while ((r = iscsi_text_next(&it, &kv, err)) > 0) {
		if (strcmp(kv.key, "TargetAddress") != 0)
			continue;
		if (found)
			return lb_err_set(err, EPROTO, "target sent TargetAddress twice");
		if (iscsi_target_address_parse(kv.value, &addr) < 0)
			return lb_err_set(err, EPROTO, "target redirected to an invalid address");
		found = true;
	}
	if (r < 0)
		return -EPROTO;
	if (!found)
		return lb_err_set(err, EPROTO, "target redirected without a TargetAddress");
	l->redirect = addr;
	l->redirect_temporary = detail == 0x01;
	iscsi_login_set_state(l, ISCSI_LOGIN_REDIRECTED);
	return 1;
}

/* Header checks for a status class 0 response.  A failed or redirecting
 * response is only valid in its status (RFC 7143 §11.13.4) and tgtd
 * leaves ISID, TSIH and StatSN zero in those, so they are not checked. */
static int check_success(struct iscsi_login *l, const struct iscsi_login_rsp_hdr *h, lb_err *err)
{
	uint8_t csg = (h->flags & ISCSI_LOGIN_CSG_MASK) >> ISCSI_LOGIN_CSG_SHIFT;
	uint8_t req_csg = (l->req_flags & ISCSI_LOGIN_CSG_MASK) >> ISCSI_LOGIN_CSG_SHIFT;
	bool transit = h->flags & ISCSI_LOGIN_FLAG_TRANSIT;
	uint32_t statsn = be32toh(h->statsn);

	if (h->version_active != ISCSI_VERSION)
		return lb_err_set(err, EPROTO, "target chose version %u; we speak only %u",
				  h->version_active, ISCSI_VERSION);
	if (l->have_statsn && h->version_max != l->version_max)
		return lb_err_set(err, EPROTO, "target changed Version-max from %u to %u",
				  l->version_max, h->version_max);
	if (memcmp(h->isid, l->cfg->isid, sizeof(h->isid)) != 0)
		return lb_err_set(err, EPROTO, "Login Response for another ISID");
	if (csg != req_csg)
		return lb_err_set(err, EPROTO, "Login Response for stage %u; we are in stage %u",
				  csg, req_csg);
	if (transit) {
		if (!(l->req_flags & ISCSI_LOGIN_FLAG_TRANSIT))
			return lb_err_set(err, EPROTO,
					  "target set the T bit, which we did not ask for");
		if ((h->flags & ISCSI_LOGIN_NSG_MASK) != (l->req_flags & ISCSI_LOGIN_NSG_MASK))
			return lb_err_set(err, EPROTO, "target moves to stage %u; we asked for %u",
					  h->flags & ISCSI_LOGIN_NSG_MASK,
					  l->req_flags & ISCSI_LOGIN_NSG_MASK);
		if (h->flags & ISCSI_LOGIN_FLAG_CONTINUE)
			return lb_err_set(err, EPROTO, "Login Response with both T and C set");
	}
	if (l->have_statsn && statsn != l->statsn + 1)
		return lb_err_set(err, EPROTO, "Login Response has StatSN %u, expected %u", statsn,
				  l->statsn + 1);
	l->have_statsn = true;
	l->statsn = statsn;
	l->version_max = h->version_max;
	l->exp_cmdsn = be32toh(h->exp_cmdsn);
	l->max_cmdsn = be32toh(h->max_cmdsn);
	return 0;
}

static int handle_response(struct iscsi_login *l, const struct iscsi_pdu_view *rsp, lb_err *err)
{
	const struct iscsi_login_rsp_hdr *h = &rsp->hdr.login_rsp;
	struct set_keys sk = {0};
	int r;

	if (rsp->opcode != ISCSI_OP_LOGIN_RSP)
		return lb_err_set(err, EPROTO, "%s during login", iscsi_opcode_name(rsp->opcode));
	if (be32toh(h->itt) != l->cfg->itt)
		return lb_err_set(err, EPROTO, "Login Response for ITT 0x%x; ours is 0x%x",
				  be32toh(h->itt), l->cfg->itt);
	if (rsp->data_len > ISCSI_LOGIN_TEXT_MAX || (rsp->data_len && !rsp->data))
		return lb_err_set(err, EPROTO, "Login Response with %u bytes of text",
				  rsp->data_len);

	if (h->status_class == ISCSI_LOGIN_CLASS_REDIRECT)
		return handle_redirect(l, rsp, err);
	if (h->status_class != ISCSI_LOGIN_CLASS_SUCCESS)
		return lb_err_set(err, status_errno(h->status_class, h->status_detail),
				  "login failed: %s (%02x%02x)",
				  iscsi_login_status_str(h->status_class, h->status_detail),
				  h->status_class, h->status_detail);

	r = check_success(l, h, err);
	if (r < 0)
		return r;
	r = iscsi_text_seq_append(&l->rx, rsp->data, rsp->data_len,
				  h->flags & ISCSI_LOGIN_FLAG_CONTINUE, err);
	if (r < 0)
		return r;
	if (r == 0) {
		l->ack_continue = true;
		return another_round(l, err);
	}

	r = process_set(l, &sk, err);
	if (r == 0)
		r = advance(l, h, &sk, err);
	/* sk points into rx: done with it only now. */
	iscsi_text_seq_reset(&l->rx);
	return r;
}

int iscsi_login_handle_response(struct iscsi_login *l, const struct iscsi_pdu_view *rsp,
				lb_err *err)
{
	int r;

	if (iscsi_login_is_final(l->state))
		return lb_err_set(err, EINVAL, "the login is over (%s)",
				  iscsi_login_state_name(l->state));
	if (!l->outstanding)
		return lb_err_set(err, EINVAL, "no Login Request is outstanding");
	l->outstanding = false;

	r = handle_response(l, rsp, err);
	if (r < 0)
		return iscsi_login_fail(l, r);
	return r;
}
