/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRC32C (Castagnoli) header and data digests, RFC 7143 §13.1 and the
 * examples in RFC 3720 appendix B.4.
 *
 * The register starts at all ones and is complemented at the end; the
 * resulting 32-bit value goes on the wire least significant byte first
 * (32 zero bytes -> 0x8a9136aa -> "aa 36 91 8a").
 */
#ifndef LUNBRIDGE_ISCSI_DIGEST_H
#define LUNBRIDGE_ISCSI_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define ISCSI_CRC32C_INIT 0xffffffffu

/* One-shot CRC32C of buf. */
uint32_t iscsi_crc32c(const void *buf, size_t len);

/* Incremental form: crc = ISCSI_CRC32C_INIT; crc = update(crc, ...)...;
 * value = iscsi_crc32c_final(crc). */
uint32_t iscsi_crc32c_update(uint32_t crc, const void *buf, size_t len);
uint32_t iscsi_crc32c_update_iov(uint32_t crc, const struct iovec *iov, size_t iovcnt);

static inline uint32_t iscsi_crc32c_final(uint32_t crc)
{
	return ~crc;
}

/* The digest as it is stored on the wire (little-endian). */
static inline void iscsi_digest_put(uint8_t out[4], uint32_t value)
{
	out[0] = (uint8_t)value;
	out[1] = (uint8_t)(value >> 8);
	out[2] = (uint8_t)(value >> 16);
	out[3] = (uint8_t)(value >> 24);
}

static inline uint32_t iscsi_digest_get(const uint8_t in[4])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
	       (uint32_t)in[3] << 24;
}

#endif
