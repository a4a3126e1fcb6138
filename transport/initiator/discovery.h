/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SendTargets (RFC 7143 §12.3, Appendix C): the Text Request a discovery
 * session sends, and the parser for the answer, in which TargetName starts
 * a target and each following TargetAddress belongs to it (the same key
 * repeats, unlike negotiation).
 */
#ifndef LUNBRIDGE_ISCSI_DISCOVERY_H
#define LUNBRIDGE_ISCSI_DISCOVERY_H

#include <stddef.h>
#include <stdio.h>

#include "lb-err.h"
#include "text.h"

struct iscsi_discovered_target {
	char name[ISCSI_NAME_MAX + 1];
	struct iscsi_target_address *addrs; /* TargetAddress values, in order */
	size_t n_addrs;			     /* 0: the discovery portal serves it */
};

struct iscsi_discovery {
	struct iscsi_discovered_target *targets;
	size_t n_targets;
};

void iscsi_discovery_free(struct iscsi_discovery *d); /* frees contents; NULL ok */

/* Parse the reassembled text of a SendTargets answer (NUL-separated
 * key=value pairs).  -EBADMSG for malformed text, a TargetAddress before
 * any TargetName, a bad address or name; unknown keys are ignored.
 * Limits: at most 4096 targets and 256 addresses per target (-E2BIG). */
int iscsi_discovery_parse(const char *text, size_t len, struct iscsi_discovery *ret, lb_err *err);

/* Lines as `iscsiadm -m discovery -t st` prints them: "IP:PORT,TPGT IQN"
 * ("[v6]:PORT,TPGT IQN" for IPv6), one per address; for a target with no
 * TargetAddress the discovery portal (host, port) is printed with TPGT
 * given (-1 when unknown).  Returns 0 or -errno from the stream. */
int iscsi_discovery_print(const struct iscsi_discovery *d, const char *portal_host,
			  uint16_t portal_port, int32_t portal_tpgt, FILE *f);

#endif
