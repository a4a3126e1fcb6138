/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login phase as a state machine (login.h).  Each state names the
 * Login Request we send next and so the response we wait for:
 *
 *   SECURITY_OFFER --AuthMethod=None, T=1--------------------> OPERATIONAL
 *        |  AuthMethod=CHAP, T=0
 *        v
 *   SECURITY_CHAP_A --CHAP_A/I/C--> SECURITY_CHAP_R --T=1--> OPERATIONAL
 *                                   (mutual: CHAP_N/R checked)
 *   OPERATIONAL --T=1 NSG=3--> FULL_FEATURE
 *   any state: status class 1 -> REDIRECTED, 2 or 3 (or an error) -> FAILED
 *
 * A response that keeps T=0 leaves the state alone: the next request
 * carries only the replies still owed and asks to transit again (RFC 7143
 * §6.3).  A response with C=1 is acknowledged by an empty request and
 * reassembled before any key in it is looked at.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"

#define LOGIN_TEXT_MAX 8192u   /* login PDUs: MaxRecvDataSegmentLength's default */
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

struct iscsi_login {
	const struct iscsi_login_config *cfg; /* = &cfg_copy */
	struct iscsi_login_config cfg_copy;
	iscsi_login_state state;
	struct iscsi_neg neg;
	struct iscsi_chap chap;
	struct iscsi_text_seq rx;	   /* the target's text, reassembled */
	struct iscsi_text_builder tx;	   /* the text of our next request */
	struct iscsi_text_builder unknown; /* keys we answered NotUnderstood */
	uint32_t seen;			   /* sec_key bits received */
	uint8_t req_flags;		   /* T C CSG NSG of the outstanding request */
	bool outstanding;		   /* a request went out, no response yet */
	bool ack_continue;		   /* next request acknowledges a C=1 response */
	bool stage_keys_added;		   /* this state's own keys are in tx (or sent) */
	bool tx_has_answers;		   /* tx answers keys the target offered */
	bool target_verified;		   /* mutual CHAP passed */
	unsigned requests;

	bool have_statsn;
	uint32_t statsn, exp_cmdsn, max_cmdsn;
	uint8_t version_max;

	uint16_t tsih;
	struct iscsi_params params;
	struct iscsi_target_address redirect;
	bool redirect_temporary;
};

const char *iscsi_login_state_name(iscsi_login_state s)
{
	switch (s) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		return "security-offer";
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		return "security-chap-a";
	case ISCSI_LOGIN_SECURITY_CHAP_R:
		return "security-chap-r";
	case ISCSI_LOGIN_OPERATIONAL:
		return "operational";
	case ISCSI_LOGIN_FULL_FEATURE:
		return "full-feature";
	case ISCSI_LOGIN_REDIRECTED:
		return "redirected";
	case ISCSI_LOGIN_FAILED:
		return "failed";
	}
	return "unknown";
}

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

static bool is_final(iscsi_login_state s)
{
	return s == ISCSI_LOGIN_FULL_FEATURE || s == ISCSI_LOGIN_REDIRECTED ||
	       s == ISCSI_LOGIN_FAILED;
}

static bool in_security_stage(iscsi_login_state s)
{
	return s == ISCSI_LOGIN_SECURITY_OFFER || s == ISCSI_LOGIN_SECURITY_CHAP_A ||
	       s == ISCSI_LOGIN_SECURITY_CHAP_R;
}

static bool mutual_chap(const struct iscsi_login *l)
{
	return l->cfg->chap && l->cfg->chap->target_secret;
}

static void set_state(struct iscsi_login *l, iscsi_login_state s)
{
	l->state = s;
	l->stage_keys_added = false;
}

static int fail(struct iscsi_login *l, int r)
{
	set_state(l, ISCSI_LOGIN_FAILED);
	return r;
}

static int check_name(const char *what, const char *name, size_t max, lb_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > max)
		return lb_err_set(err, EINVAL, "%s must be 1 to %zu bytes", what, max);
	if (!iscsi_utf8_valid(name, n))
		return lb_err_set(err, EINVAL, "%s is not valid UTF-8", what);
	return 0;
}

int iscsi_login_new(const struct iscsi_login_config *cfg, struct iscsi_login **ret, lb_err *err)
{
	struct iscsi_login *l;
	int r;

	if (!cfg->initiator_name)
		return lb_err_set(err, EINVAL, "no initiator name");
	r = check_name("the initiator name", cfg->initiator_name, ISCSI_NAME_MAX, err);
	if (r == 0 && cfg->initiator_alias)
		r = check_name("the initiator alias", cfg->initiator_alias, ISCSI_TEXT_VALUE_MAX,
			       err);
	if (r == 0 && cfg->target_name)
		r = check_name("the target name", cfg->target_name, ISCSI_NAME_MAX, err);
	if (r == 0 && cfg->chap)
		r = iscsi_chap_check_creds(cfg->chap, err);
	if (r < 0)
		return r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return lb_err_set(err, ENOMEM, "out of memory");
	l->cfg_copy = *cfg; /* the caller's may be on its stack */
	l->cfg = &l->cfg_copy;
	iscsi_text_seq_init(&l->rx, 0);
	iscsi_text_builder_init(&l->tx, LOGIN_TEXT_MAX);
	iscsi_text_builder_init(&l->unknown, 0);
	iscsi_params_init(&l->params);

	r = iscsi_neg_init(&l->neg, &cfg->want, !cfg->target_name, err);
	if (r == 0 && cfg->chap && iscsi_chap_init(&l->chap, cfg->chap_algs) < 0)
		r = lb_err_set(err, EINVAL, "invalid CHAP algorithm set 0x%x", cfg->chap_algs);
	if (r < 0) {
		iscsi_login_free(l);
		return r;
	}
	set_state(l, ISCSI_LOGIN_SECURITY_OFFER);
	*ret = l;
	return 0;
}

void iscsi_login_free(struct iscsi_login *l)
{
	if (!l)
		return;
	iscsi_text_seq_free(&l->rx);
	iscsi_text_builder_free(&l->tx);
	iscsi_text_builder_free(&l->unknown);
	/* The CHAP state holds our mutual challenge: not a secret, but there
	 * is no reason to leave it in freed memory either. */
	explicit_bzero(&l->chap, sizeof(l->chap));
	free(l);
}

iscsi_login_state iscsi_login_get_state(const struct iscsi_login *l)
{
	return l->state;
}

/* ---- requests ----------------------------------------------------------- */

static int add_key(struct iscsi_login *l, const char *key, const char *value, lb_err *err)
{
	int r = iscsi_text_add(&l->tx, key, value);

	if (r < 0)
		return lb_err_set(err, r, "cannot add %s to the Login Request", key);
	return 0;
}

/* The keys a state sends once, on its first request. */
static int add_stage_keys(struct iscsi_login *l, lb_err *err)
{
	const struct iscsi_login_config *cfg = l->cfg;
	int r = 0;

	if (l->stage_keys_added)
		return 0;
	switch (l->state) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		r = add_key(l, "InitiatorName", cfg->initiator_name, err);
		if (r == 0 && cfg->initiator_alias)
			r = add_key(l, "InitiatorAlias", cfg->initiator_alias, err);
		if (r == 0)
			r = add_key(l, "SessionType", cfg->target_name ? "Normal" : "Discovery",
				    err);
		if (r == 0 && cfg->target_name)
			r = add_key(l, "TargetName", cfg->target_name, err);
		if (r == 0)
			r = add_key(l, "AuthMethod", cfg->chap ? "CHAP" : "None", err);
		break;
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		r = iscsi_chap_offer(&l->chap, &l->tx);
		if (r < 0)
			r = lb_err_set(err, r, "cannot add CHAP_A to the Login Request");
		break;
	case ISCSI_LOGIN_OPERATIONAL:
		r = iscsi_neg_offer(&l->neg, &l->tx, err);
		break;
	default:
		break; /* SECURITY_CHAP_R: its keys were added with the challenge */
	}
	if (r < 0)
		return r;
	l->stage_keys_added = true;
	return 0;
}

static uint8_t stage_of(iscsi_login_state s)
{
	return in_security_stage(s) ? ISCSI_STAGE_SECURITY : ISCSI_STAGE_OPERATIONAL;
}

/* T C CSG NSG for the next request. */
static uint8_t request_flags(const struct iscsi_login *l)
{
	uint8_t csg = (uint8_t)(stage_of(l->state) << ISCSI_LOGIN_CSG_SHIFT);

	if (l->ack_continue)
		return csg; /* T=0: the target has more of this set to send */
	switch (l->state) {
	case ISCSI_LOGIN_SECURITY_OFFER:
		if (l->cfg->chap)
			return csg;
		return csg | ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_OPERATIONAL;
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		return csg;
	case ISCSI_LOGIN_SECURITY_CHAP_R:
		return csg | ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_OPERATIONAL;
	default:
		return csg | ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_FULL_FEATURE;
	}
}

ssize_t iscsi_login_build_request(struct iscsi_login *l, uint8_t *buf, size_t cap, lb_err *err)
{
	const struct iscsi_login_config *cfg = l->cfg;
	struct iscsi_pdu_limits limits;
	union iscsi_hdr h;
	const char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int r;

	if (is_final(l->state))
		return lb_err_set(err, EINVAL, "the login is over (%s)",
				  iscsi_login_state_name(l->state));
	if (l->outstanding)
		return lb_err_set(err, EINVAL, "a Login Response is still outstanding");

	if (!l->ack_continue) {
		r = add_stage_keys(l, err);
		if (r < 0)
			return fail(l, r);
		data = l->tx.buf;
		len = l->tx.len;
	}
	if (len > LOGIN_TEXT_MAX)
		return fail(l, lb_err_set(err, EMSGSIZE, "login text of %zu bytes exceeds %u", len,
					  LOGIN_TEXT_MAX));

	iscsi_hdr_init(&h, ISCSI_OP_LOGIN_REQ | ISCSI_OP_IMMEDIATE, request_flags(l));
	h.login_req.version_max = ISCSI_VERSION;
	h.login_req.version_min = ISCSI_VERSION;
	memcpy(h.login_req.isid, cfg->isid, sizeof(h.login_req.isid));
	h.login_req.tsih = htobe16(cfg->tsih);
	h.login_req.itt = htobe32(cfg->itt);
	h.login_req.cid = htobe16(cfg->cid);
	h.login_req.cmdsn = htobe32(cfg->cmdsn);
	h.login_req.exp_statsn = htobe32(l->have_statsn ? l->statsn + 1 : 0);

	iscsi_pdu_limits_init(&limits);
	n = iscsi_pdu_encode_buf(&h, NULL, 0, data, len, &limits, buf, cap, err);
	if (n == -ENOBUFS)
		return n; /* nothing consumed: the caller may retry */
	if (n < 0)
		return fail(l, (int)n);

	l->req_flags = h.bhs.flags;
	l->outstanding = true;
	l->requests++;
	if (!l->ack_continue) {
		l->tx.len = 0;
		l->tx_has_answers = false;
	}
	l->ack_continue = false;
	return n;
}

/* ---- responses ---------------------------------------------------------- */

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
					  LOGIN_TEXT_MAX);
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
		if (in_security_stage(l->state))
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
	set_state(l, ISCSI_LOGIN_FULL_FEATURE);
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
			set_state(l, ISCSI_LOGIN_SECURITY_CHAP_A);
			return 0;
		}
		if (transit) {
			set_state(l, ISCSI_LOGIN_OPERATIONAL);
			return 0;
		}
		return another_round(l, err);
	case ISCSI_LOGIN_SECURITY_CHAP_A:
		r = iscsi_chap_respond(&l->chap, l->cfg->chap, sk->chap_a, sk->chap_i, sk->chap_c,
				       &l->tx, err);
		if (r < 0)
			return r;
		set_state(l, ISCSI_LOGIN_SECURITY_CHAP_R);
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
			set_state(l, ISCSI_LOGIN_OPERATIONAL);
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
	set_state(l, ISCSI_LOGIN_REDIRECTED);
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
	if (rsp->data_len > LOGIN_TEXT_MAX || (rsp->data_len && !rsp->data))
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

	if (is_final(l->state))
		return lb_err_set(err, EINVAL, "the login is over (%s)",
				  iscsi_login_state_name(l->state));
	if (!l->outstanding)
		return lb_err_set(err, EINVAL, "no Login Request is outstanding");
	l->outstanding = false;

	r = handle_response(l, rsp, err);
	if (r < 0)
		return fail(l, r);
	return r;
}

int iscsi_login_result(const struct iscsi_login *l, struct iscsi_login_result *ret)
{
	if (l->state != ISCSI_LOGIN_FULL_FEATURE)
		return -EINVAL;
	*ret = (struct iscsi_login_result){
		.params = l->params,
		.tsih = l->tsih,
		.statsn = l->statsn,
		.exp_cmdsn = l->exp_cmdsn,
		.max_cmdsn = l->max_cmdsn,
	};
	return 0;
}

int iscsi_login_redirect(const struct iscsi_login *l, struct iscsi_target_address *ret,
			 bool *ret_temporary)
{
	if (l->state != ISCSI_LOGIN_REDIRECTED)
		return -EINVAL;
	*ret = l->redirect;
	if (ret_temporary)
		*ret_temporary = l->redirect_temporary;
	return 0;
}
