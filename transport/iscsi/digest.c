/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>

#include <isa-l/crc.h>

#include "digest.h"

uint32_t iscsi_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	/* ISA-L takes a non-const pointer and an int length; it neither
	 * writes the buffer nor inverts the register. */
	unsigned char *p = (unsigned char *)(uintptr_t)buf;

	while (len > 0) {
		int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;

		crc = crc32_iscsi(p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc;
}

uint32_t iscsi_crc32c_update_iov(uint32_t crc, const struct iovec *iov, size_t iovcnt)
{
	for (size_t i = 0; i < iovcnt; i++)
		crc = iscsi_crc32c_update(crc, iov[i].iov_base, iov[i].iov_len);
	return crc;
}

uint32_t iscsi_crc32c(const void *buf, size_t len)
{
	return iscsi_crc32c_final(iscsi_crc32c_update(ISCSI_CRC32C_INIT, buf, len));
}
