/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hex digits, for every parser that meets them (iSCSI text values, CHAP, URIs). */
#ifndef LUNBRIDGE_HEX_H
#define LUNBRIDGE_HEX_H

/* The digit's value, or -1 when c is not a hex digit. */
static inline int lb_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
