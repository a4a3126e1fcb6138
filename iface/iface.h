/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iface: open-iscsi interface records.
 *
 * The same files, keys and text forms that open-iscsi's iscsiadm reads and
 * writes (`iscsiadm -m iface`), so both tools see one truth.  A record is a
 * set of `iface.KEY = VALUE` pairs; keys this module does not interpret are
 * kept and written back unchanged.
 *
 * Nothing here logs: every function returns 0 or -errno and, given an
 * lb_err, leaves one sentence there saying what was wrong.
 */
#ifndef LUNBRIDGE_IFACE_H
#define LUNBRIDGE_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lb-err.h"

/* open-iscsi: ISCSI_MAX_IFACE_LEN 65, NUL included. */
#define IFACE_NAME_MAX 64
/* open-iscsi: VALUE_MAXVAL 256, NUL included. */
#define IFACE_VALUE_MAX 255
/* The record version iscsiadm 2.1.8 writes in "# BEGIN RECORD". */
#define IFACE_RECORD_VERSION "2.1.8"

/* The keys lunbridge interprets. */
#define IFACE_KEY_NAME "iface.iscsi_ifacename"
#define IFACE_KEY_TRANSPORT "iface.transport_name"
#define IFACE_KEY_HWADDRESS "iface.hwaddress"
#define IFACE_KEY_IPADDRESS "iface.ipaddress"
#define IFACE_KEY_NETDEV "iface.net_ifacename"
#define IFACE_KEY_INITIATOR "iface.initiatorname"

/* ---- transports ------------------------------------------------------ */

typedef enum iface_transport_kind {
	IFACE_TRANSPORT_UNKNOWN = 0,
	IFACE_TRANSPORT_TCP,     /* software iSCSI: our own initiator */
	IFACE_TRANSPORT_ISER,    /* iSER: kernel, through open-iscsi */
	IFACE_TRANSPORT_OFFLOAD, /* offload HBA: kernel, through open-iscsi */
} iface_transport_kind;

/* "tcp" -> TCP, "cxgb4i" -> OFFLOAD, "foo" -> UNKNOWN. */
iface_transport_kind iface_transport_kind_of(const char *transport);
/* bnx2i and qedi cannot work without an ipaddress on the record. */
bool iface_transport_needs_ipaddress(const char *transport);
/* NULL-terminated list of every transport name open-iscsi knows. */
const char *const *iface_transport_names(void);

/* ---- names ----------------------------------------------------------- */

/* 1..64 characters, no '/', not "." or "..", printable, no white space. */
int iface_name_check(const char *name, lb_err *err);
/* "default" and "iser": built into iscsiadm, never on disk. */
bool iface_name_is_builtin(const char *name);

/* ---- records --------------------------------------------------------- */

typedef struct iface_rec iface_rec;

/* A new record with only iface.iscsi_ifacename set. */
int iface_rec_new(const char *name, iface_rec **ret, lb_err *err);
/* The built-in "default" (tcp) or "iser" (iser) record; -ENOENT otherwise. */
int iface_rec_builtin(const char *name, iface_rec **ret);
int iface_rec_dup(const iface_rec *r, iface_rec **ret);
void iface_rec_free(iface_rec *r);

const char *iface_rec_name(const iface_rec *r);
/* The value of KEY (a full "iface.xxx" key), or NULL when unset/empty. */
const char *iface_rec_get(const iface_rec *r, const char *key);
/* Shorthands for the interpreted keys; NULL when unset. */
const char *iface_rec_transport(const iface_rec *r);
const char *iface_rec_hwaddress(const iface_rec *r);
const char *iface_rec_ipaddress(const iface_rec *r);
const char *iface_rec_netdev(const iface_rec *r);
const char *iface_rec_initiatorname(const iface_rec *r);

/*
 * Set KEY to VALUE as `iscsiadm --op update` would, after checking that KEY
 * is an iface key open-iscsi knows, that VALUE fits (length, number, MAC or
 * IP address, known transport) and that the name key is not being changed.
 * An empty VALUE (or "<empty>") clears the key.  On error the record is
 * unchanged.
 */
int iface_rec_set(iface_rec *r, const char *key, const char *value, lb_err *err);

/*
 * Parse the text of a record file (the form iscsiadm writes).  NAME is the
 * file's name, which is the record's name.  Keys open-iscsi does not know
 * are kept, in order, and written back.
 */
int iface_rec_parse(const char *name, const char *text, size_t len, iface_rec **ret,
		    lb_err *err);

typedef enum iface_format {
	/* What goes in the file: set values only, ints always. */
	IFACE_FORMAT_FILE,
	/* `iscsiadm -m iface -I NAME`: every key, "<empty>" for unset ones. */
	IFACE_FORMAT_SHOW,
} iface_format;

int iface_rec_write(const iface_rec *r, iface_format fmt, FILE *f);
/* `iscsiadm -m iface` line: "NAME TRANSPORT,HW,IP,NETDEV,INITIATOR\n". */
int iface_rec_write_summary(const iface_rec *r, FILE *f);

/* Iterate over every key in display order (known keys, then kept unknown
 * ones).  VALUE is NULL when unset. */
typedef int (*iface_rec_visit_fn)(const char *key, const char *value, void *arg);
int iface_rec_foreach(const iface_rec *r, iface_rec_visit_fn fn, void *arg);

/*
 * The rules a record must pass.  IFACE_VALIDATE_STORE, before it is
 * written: transport_name set and known; a tcp record binds through
 * net_ifacename or hwaddress or neither (unbound), but never carries
 * ipaddress; addresses well-formed.  IFACE_VALIDATE_USE, before a session
 * is bound to it: all of that, and bnx2i and qedi need ipaddress (a record
 * may be stored without it, since ipaddress can only be set once the
 * transport is).
 */
typedef enum iface_validate_mode {
	IFACE_VALIDATE_STORE,
	IFACE_VALIDATE_USE,
} iface_validate_mode;
int iface_rec_validate(const iface_rec *r, iface_validate_mode mode, lb_err *err);

/* How a tcp record binds: neither (unbound), by netdev, or by MAC. */
typedef enum iface_binding {
	IFACE_BIND_NONE,
	IFACE_BIND_NETDEV,
	IFACE_BIND_HWADDRESS,
} iface_binding;
iface_binding iface_rec_binding(const iface_rec *r);

/* ---- value checks, shared with hardware discovery -------------------- */

/* "00:07:43:28:b2:58" (six hex pairs, ':' separated). */
bool iface_mac_valid(const char *mac);
/* Case-insensitive MAC comparison; false if either is malformed. */
bool iface_mac_equal(const char *a, const char *b);
/* IPv4 or IPv6 literal. */
bool iface_ip_valid(const char *ip);

/* ---- the record directory -------------------------------------------- */

typedef struct iface_store iface_store;

/*
 * Open the record directory.  DIR NULL means: $LUNBRIDGE_IFACE_DIR, else
 * the one the installed open-iscsi uses (/etc/iscsi/ifaces on Debian 12,
 * /var/lib/iscsi/ifaces on builds that keep their database there).  The
 * directory need not exist until the first write.
 */
int iface_store_open(const char *dir, iface_store **ret, lb_err *err);
void iface_store_free(iface_store *s);
const char *iface_store_dir(const iface_store *s);

/* Load NAME: a file in the directory, or a built-in. -ENOENT if neither. */
int iface_store_load(iface_store *s, const char *name, iface_rec **ret, lb_err *err);

typedef struct iface_list {
	iface_rec **recs; /* records on disk sorted by name, then default, iser */
	size_t n;
	/* Files that could not be read as records: "NAME: reason". */
	char **bad;
	size_t nbad;
} iface_list;

int iface_store_list(iface_store *s, iface_list **ret, lb_err *err);
void iface_list_free(iface_list *l);

/* Create a new record file; -EEXIST if NAME exists; -EPERM for built-ins. */
int iface_store_create(iface_store *s, const iface_rec *r, lb_err *err);
/* Set one key of an existing record, validate, write atomically. */
int iface_store_update(iface_store *s, const char *name, const char *key, const char *value,
		       lb_err *err);
/* Replace an existing record's file with R (validated first). */
int iface_store_replace(iface_store *s, const iface_rec *r, lb_err *err);
int iface_store_delete(iface_store *s, const char *name, lb_err *err);

/* Iscsi initiator name from /etc/iscsi/initiatorname.iscsi (or PATH). */
int iface_default_initiatorname(const char *path, char **ret, lb_err *err);

#endif
