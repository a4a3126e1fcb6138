/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PDU framing (RFC 7143 §11.1-11.2): a 48-byte BHS, TotalAHSLength*4 bytes
 * of AHS, an optional header digest, DataSegmentLength bytes of data padded
 * to a multiple of 4, and an optional data digest.
 *
 * Receive side, for a reader that takes a PDU in three reads:
 *
 *   read 48 bytes            -> iscsi_pdu_rx_begin()      (lengths, opcode)
 *   read iscsi_pdu_rx_header_rest() -> iscsi_pdu_rx_check_header()
 *   read iscsi_pdu_rx_data_rest()   -> iscsi_pdu_rx_check_data()
 *
 * or, for a contiguous buffer, iscsi_pdu_parse().  Send side:
 * iscsi_pdu_encode() fills a header block and a trailer that frame the
 * caller's data iovecs, so data is never copied.
 */
#ifndef LUNBRIDGE_ISCSI_PDU_H
#define LUNBRIDGE_ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "iscsi-spec.h"
#include "lb-err.h"

/* What the connection has negotiated; the codec checks against it. */
struct iscsi_pdu_limits {
	bool header_digest;    /* HeaderDigest=CRC32C */
	bool data_digest;      /* DataDigest=CRC32C */
	uint32_t max_recv_dsl; /* our declared MaxRecvDataSegmentLength */
	uint32_t max_send_dsl; /* the target's MaxRecvDataSegmentLength */
};

/* RFC 7143 defaults (no digests, 8192 both ways): valid during login. */
void iscsi_pdu_limits_init(struct iscsi_pdu_limits *l);

/* Layout of a received PDU, derived from its BHS. */
struct iscsi_pdu_rx {
	union iscsi_hdr hdr;
	uint8_t opcode;	      /* without the I bit */
	uint32_t ahs_len;     /* bytes */
	uint32_t hdigest_len; /* 0 or 4 */
	uint32_t data_len;    /* DataSegmentLength */
	uint32_t pad_len;     /* 0..3 */
	uint32_t ddigest_len; /* 0 or 4; 0 when data_len == 0 */
};

/* A complete received PDU inside a caller's buffer. */
struct iscsi_pdu_view {
	union iscsi_hdr hdr;
	uint8_t opcode;
	const uint8_t *ahs;
	uint32_t ahs_len;
	const uint8_t *data;
	uint32_t data_len;
};

/* Bytes a PDU needs on the wire after the BHS. */
static inline size_t iscsi_pdu_rx_header_rest(const struct iscsi_pdu_rx *rx)
{
	return (size_t)rx->ahs_len + rx->hdigest_len;
}

static inline size_t iscsi_pdu_rx_data_rest(const struct iscsi_pdu_rx *rx)
{
	return (size_t)rx->data_len + rx->pad_len + rx->ddigest_len;
}

static inline uint32_t iscsi_pad4(uint32_t len)
{
	return (4u - (len & 3u)) & 3u;
}

/* Step 1: validate the 48-byte BHS of a PDU from the target.  -EPROTO for an
 * opcode a target may not send or lengths that break its rules, -EMSGSIZE
 * for a data segment over our MaxRecvDataSegmentLength. */
int iscsi_pdu_rx_begin(const uint8_t bhs[ISCSI_BHS_LEN], const struct iscsi_pdu_limits *limits,
		       struct iscsi_pdu_rx *ret, lb_err *err);

/* Step 2: rest holds iscsi_pdu_rx_header_rest() bytes (AHS then header
 * digest).  Walks the AHS chain and verifies the digest over BHS+AHS:
 * -EBADMSG on a digest mismatch, -EPROTO on a malformed AHS. */
int iscsi_pdu_rx_check_header(const struct iscsi_pdu_rx *rx, const uint8_t *rest, size_t rest_len,
			      lb_err *err);

/* Step 3: rest holds iscsi_pdu_rx_data_rest() bytes (data, padding,
 * digest).  Verifies the data digest: -EBADMSG on mismatch. */
int iscsi_pdu_rx_check_data(const struct iscsi_pdu_rx *rx, const uint8_t *rest, size_t rest_len,
			    lb_err *err);

/* All three steps on a contiguous buffer.  Returns the PDU's total length
 * and fills *ret, -EAGAIN when buf holds only part of the PDU (ret
 * untouched), or another -errno when it is malformed. */
ssize_t iscsi_pdu_parse(const uint8_t *buf, size_t len, const struct iscsi_pdu_limits *limits,
			struct iscsi_pdu_view *ret, lb_err *err);

/* One AHS (§11.2.2).  iscsi_ahs_next() returns 1 and fills *ret, 0 at the
 * end, -EPROTO if an AHS runs past the area; *pos starts at 0. */
struct iscsi_ahs {
	uint8_t type;
	const uint8_t *data; /* AHSLength bytes after the AHSType byte */
	uint16_t len;	     /* AHSLength (excludes the 3-byte header, padding) */
};
int iscsi_ahs_next(const uint8_t *ahs, size_t ahs_len, size_t *pos, struct iscsi_ahs *ret);

/* Framing for an outgoing PDU: write hdr (hdr_len bytes), the data, then
 * trailer (trailer_len bytes). */
struct iscsi_pdu_tx {
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_AHS_MAX_LEN + ISCSI_DIGEST_LEN];
	size_t hdr_len;
	uint8_t trailer[3 + ISCSI_DIGEST_LEN];
	size_t trailer_len;
};

/* Build the framing for bhs (its TotalAHSLength and DataSegmentLength are
 * filled in here), ahs (ahs_len a multiple of 4, at most 1020, may be 0)
 * and data (iovcnt may be 0).  -EMSGSIZE when the data exceeds the
 * target's MaxRecvDataSegmentLength, -EINVAL for a bad AHS length. */
int iscsi_pdu_encode(const union iscsi_hdr *bhs, const uint8_t *ahs, size_t ahs_len,
		     const struct iovec *data, size_t iovcnt, const struct iscsi_pdu_limits *limits,
		     struct iscsi_pdu_tx *ret, lb_err *err);

/* iscsi_pdu_encode() into one buffer, for small PDUs (login, text, NOP).
 * Returns the length written, or -ENOBUFS if cap is too small. */
ssize_t iscsi_pdu_encode_buf(const union iscsi_hdr *bhs, const uint8_t *ahs, size_t ahs_len,
			     const void *data, size_t data_len,
			     const struct iscsi_pdu_limits *limits, uint8_t *buf, size_t cap,
			     lb_err *err);

/* BHS helpers. */
static inline uint8_t iscsi_hdr_opcode(const union iscsi_hdr *h)
{
	return h->bhs.opcode & ISCSI_OPCODE_MASK;
}

static inline uint32_t iscsi_hdr_dlength(const union iscsi_hdr *h)
{
	return iscsi_get_be24(h->bhs.dlength);
}

static inline uint32_t iscsi_hdr_itt(const union iscsi_hdr *h)
{
	return be32toh(h->bhs.itt);
}

/* Zero a BHS and set its opcode byte (with ISCSI_OP_IMMEDIATE if wanted)
 * and flags byte. */
void iscsi_hdr_init(union iscsi_hdr *h, uint8_t opcode, uint8_t flags);

/* Name of an opcode ("SCSI Response"), or "unknown". */
const char *iscsi_opcode_name(uint8_t opcode);

#endif
