/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Negotiation of the operational keys (RFC 7143 §6.2, §13): our offer,
 * the combining rules for answers and for keys the target offers, the
 * target's declarations, and the defaults for keys left unanswered.
 */
#ifndef LUNBRIDGE_ISCSI_NEGOTIATE_H
#define LUNBRIDGE_ISCSI_NEGOTIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "lb-err.h"
#include "text.h"

/* ---- operational parameters ------------------------------------------- */

/* Negotiated session and connection parameters.  Initialised to the RFC
 * 7143 §13 defaults by iscsi_params_init(). */
struct iscsi_params {
	bool header_digest; /* CRC32C */
	bool data_digest;
	uint32_t max_connections;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_recv_dsl; /* declared by us */
	uint32_t max_xmit_dsl; /* declared by the target */
	uint32_t max_burst;
	uint32_t first_burst;
	uint32_t default_time2wait;
	uint32_t default_time2retain;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	uint32_t error_recovery_level;
	/* Declared by the target. */
	char target_name[ISCSI_NAME_MAX + 1];
	char target_alias[ISCSI_TEXT_VALUE_MAX + 1];
	int32_t tpgt; /* -1: not declared */
	bool has_target_address;
	struct iscsi_target_address target_address;
};

void iscsi_params_init(struct iscsi_params *p);

/* One negotiation (login operational stage, or a Text renegotiation). */
struct iscsi_neg {
	struct iscsi_params want; /* what we offer; *_digest true: "CRC32C,None" */
	struct iscsi_params result;
	bool discovery;
	uint32_t offered; /* bit per key: we sent it */
	uint32_t settled; /* bit per key: the target answered or offered it */
};

/* want: our values (from iscsi_params_init() then tuned); discovery selects
 * the keys allowed in a discovery session.  -EINVAL for out-of-range wants. */
int iscsi_neg_init(struct iscsi_neg *neg, const struct iscsi_params *want, bool discovery,
		   lb_err *err);

/* Add our offer (every applicable operational key) to b. */
int iscsi_neg_offer(struct iscsi_neg *neg, struct iscsi_text_builder *b, lb_err *err);

/* Process one pair from the target.  Answers to our offers update the
 * result; keys the target offers get an answer in reply.  Returns 0 when
 * handled, -ENOENT for keys this layer does not own (AuthMethod, CHAP_*,
 * unknown keys: see iscsi_neg_not_understood()), -EPROTO for a protocol
 * violation (answer outside what we offered, a key repeated, a bad
 * declarative value). */
int iscsi_neg_process(struct iscsi_neg *neg, const struct iscsi_kv *kv,
		      struct iscsi_text_builder *reply, lb_err *err);

/* Reply "key=NotUnderstood" for an unknown key from the target. */
int iscsi_neg_not_understood(struct iscsi_text_builder *reply, const char *key);

/* Conclude: keys the target left unanswered take their implied or default
 * values, FirstBurstLength is capped at MaxBurstLength.  Copies the result
 * to *ret. */
int iscsi_neg_finish(struct iscsi_neg *neg, struct iscsi_params *ret, lb_err *err);

#endif
