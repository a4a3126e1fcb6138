/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login phase (RFC 7143 §6.3, §11.12-11.13) as an explicit state
 * machine with no I/O: the connection layer asks for the next Login
 * Request, sends it, and feeds back each Login Response.
 *
 *   SECURITY_OFFER   send AuthMethod (+ InitiatorName, TargetName or
 *                    SessionType=Discovery, ...), T=0 or T=1 to OPERATIONAL
 *   SECURITY_CHAP_A  (AuthMethod=CHAP) send CHAP_A=8,7,6,5
 *   SECURITY_CHAP_R  send CHAP_N, CHAP_R (+ CHAP_I, CHAP_C for mutual), T=1
 *   OPERATIONAL      send every operational key once (negotiate.h), answer
 *                    what the target offers, T=1 to FULL_FEATURE
 *   FULL_FEATURE     done: iscsi_login_result() holds the parameters
 *   REDIRECTED       status class 1: iscsi_login_redirect() has the address
 *   FAILED           anything else; the error names the reason in words
 *
 * A response with the C bit set is reassembled (an empty request with the
 * same stages acknowledges each part) before it is processed.  Keys the
 * target does not understand (NotUnderstood), Irrelevant answers and
 * keys it sends that we do not know (answered NotUnderstood) are handled
 * without failing the login.
 */
#ifndef LUNBRIDGE_ISCSI_LOGIN_H
#define LUNBRIDGE_ISCSI_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chap.h"
#include "iscsi-spec.h"
#include "lb-err.h"
#include "negotiate.h"
#include "pdu.h"
#include "text.h"

typedef enum iscsi_login_state {
	ISCSI_LOGIN_SECURITY_OFFER,
	ISCSI_LOGIN_SECURITY_CHAP_A,
	ISCSI_LOGIN_SECURITY_CHAP_R,
	ISCSI_LOGIN_OPERATIONAL,
	ISCSI_LOGIN_FULL_FEATURE,
	ISCSI_LOGIN_REDIRECTED,
	ISCSI_LOGIN_FAILED,
} iscsi_login_state;

const char *iscsi_login_state_name(iscsi_login_state s);

struct iscsi_login_config {
	const char *initiator_name;  /* required */
	const char *initiator_alias; /* optional */
	const char *target_name;     /* NULL: discovery session */
	uint8_t isid[6];
	uint16_t tsih; /* 0: new session (and reinstatement at ERL 0) */
	uint16_t cid;
	uint32_t cmdsn;	 /* CmdSN carried by every Login Request */
	uint32_t itt;	 /* ITT for the login requests */
	/* NULL: AuthMethod=None only.  Otherwise AuthMethod=CHAP only (a
	 * target that does not require CHAP still gets CHAP: a configured
	 * secret is never silently skipped). */
	const struct iscsi_chap_creds *chap;
	uint32_t chap_algs; /* ISCSI_CHAP_ALG_BIT() set, 0: all */
	struct iscsi_params want; /* operational offer (negotiate.h) */
};

struct iscsi_login; /* opaque */

/* cfg is copied; the strings and creds it points to must outlive l. */
int iscsi_login_new(const struct iscsi_login_config *cfg, struct iscsi_login **ret, lb_err *err);
void iscsi_login_free(struct iscsi_login *l); /* NULL ok */

iscsi_login_state iscsi_login_get_state(const struct iscsi_login *l);

/* Build the next Login Request into buf (BHS + text data, padded, no
 * digests: login PDUs never carry them).  Returns its length, -ENOBUFS if
 * cap is too small (nothing consumed: call again with a larger buffer),
 * -EINVAL when called in a final state or before the response to the
 * previous request was handled. */
ssize_t iscsi_login_build_request(struct iscsi_login *l, uint8_t *buf, size_t cap, lb_err *err);

/* Feed one complete Login Response (pdu.h view).  Returns
 *   0           another request must be sent (call build_request)
 *   1           login complete (FULL_FEATURE) or redirected (REDIRECTED)
 *   -EACCES     authentication failed (ours or the target's)
 *   -ENOENT     target not found / removed
 *   -EPROTO     protocol violation by the target (wrong ITT, ISID,
 *               version, stage, a key repeated, ...)
 *   -EAGAIN     target out of resources / service unavailable (retry)
 *   -EMSGSIZE   the target's text, or our answers to it, is too long
 *   -EINVAL     no request outstanding, or the login is already over
 *   other -errno for the remaining status classes
 * with a sentence in err ("login failed: authentication failed (0201)").
 * Every other error ends the login in FAILED. */
int iscsi_login_handle_response(struct iscsi_login *l, const struct iscsi_pdu_view *rsp,
				lb_err *err);

/* After FULL_FEATURE: the negotiated parameters, the TSIH the target
 * assigned, and the target's StatSN/ExpCmdSN/MaxCmdSN from the last
 * response (the session continues from them). */
struct iscsi_login_result {
	struct iscsi_params params;
	uint16_t tsih;
	uint32_t statsn; /* StatSN of the final response */
	uint32_t exp_cmdsn;
	uint32_t max_cmdsn;
};
int iscsi_login_result(const struct iscsi_login *l, struct iscsi_login_result *ret);

/* After REDIRECTED: where to go, and whether it is temporary (0101). */
int iscsi_login_redirect(const struct iscsi_login *l, struct iscsi_target_address *ret,
			 bool *ret_temporary);

/* Words for a Login Response status ("authentication failed"). */
const char *iscsi_login_status_str(uint8_t status_class, uint8_t status_detail);

#endif
