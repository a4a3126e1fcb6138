/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to login.c (the states, their transitions, the login's life and
 * results), login-request.c (building Login Requests) and login-response.c
 * (checking and consuming Login Responses).
 */
#ifndef LUNBRIDGE_ISCSI_LOGIN_INTERNAL_H
#define LUNBRIDGE_ISCSI_LOGIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "login.h"

#define ISCSI_LOGIN_TEXT_MAX 8192u /* login PDUs: MaxRecvDataSegmentLength's default */

struct iscsi_login {
	const struct iscsi_login_config *cfg; /* = &cfg_copy */
	struct iscsi_login_config cfg_copy;
	iscsi_login_state state;
	struct iscsi_neg neg;
	struct iscsi_chap chap;
	struct iscsi_text_seq rx;	   /* the target's text, reassembled */
	struct iscsi_text_builder tx;	   /* the text of our next request */
	struct iscsi_text_builder unknown; /* keys we answered NotUnderstood */
	uint32_t seen;			   /* sec_key bits received (login-response.c) */
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

/* login.c */
/* s ends the login: FULL_FEATURE, REDIRECTED or FAILED. */
bool iscsi_login_is_final(iscsi_login_state s);
/* s is one of the SECURITY_* states (CSG 0). */
bool iscsi_login_in_security_stage(iscsi_login_state s);
/* Enter s, whose own keys then go into the next request. */
void iscsi_login_set_state(struct iscsi_login *l, iscsi_login_state s);
/* Enter FAILED and return r, the -errno that failed the login. */
int iscsi_login_fail(struct iscsi_login *l, int r);

#endif
