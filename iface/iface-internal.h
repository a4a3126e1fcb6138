/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to iface/: the key table and the record's layout. */
#ifndef LUNBRIDGE_IFACE_INTERNAL_H
#define LUNBRIDGE_IFACE_INTERNAL_H

#include <stddef.h>

#include "iface.h"

typedef enum iface_val_type {
	IFACE_VAL_STR, /* written only when set; shown as <empty> */
	IFACE_VAL_INT, /* always written; 0 when unset */
} iface_val_type;

typedef enum iface_val_check {
	IFACE_CHECK_TEXT,      /* any printable value */
	IFACE_CHECK_NAME,      /* the record name; never updated */
	IFACE_CHECK_NETDEV,    /* a network interface name */
	IFACE_CHECK_IP,        /* IPv4 or IPv6 literal */
	IFACE_CHECK_MAC,       /* six hex pairs */
	IFACE_CHECK_TRANSPORT, /* a transport open-iscsi knows */
	IFACE_CHECK_IQN,       /* an iSCSI name: iqn., eui., naa. */
	IFACE_CHECK_INT,       /* decimal integer in [min, max] */
} iface_val_check;

typedef struct iface_key {
	const char *name;
	iface_val_type type;
	iface_val_check check;
	long min, max;
} iface_key;

/* The keys of iscsiadm 2.1.8, in the order `iscsiadm -m iface -I` shows. */
extern const iface_key iface_keys[];
extern const size_t iface_nkeys;

/* Index into iface_keys, or -1. */
int iface_key_index(const char *name);
/* Check VALUE (non-empty) against KEY's rules. */
int iface_key_check_value(const iface_key *k, const char *value, lb_err *err);

typedef struct iface_extra {
	char *key;
	char *value;
} iface_extra;

struct iface_rec {
	char name[IFACE_NAME_MAX + 1];
	/* One slot per iface_keys entry; NULL when unset.  Slot 0 (the
	 * name) is derived from `name` and never stored. */
	char **values;
	/* Keys open-iscsi 2.1.8 does not have, kept in file order. */
	iface_extra *extra;
	size_t nextra;
};

/* Set a slot or an extra key without checks (parser and builtins). */
int iface_rec_set_raw(iface_rec *r, const char *key, const char *value);

#endif
