/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An iface record in memory: the known keys in slots, the rest kept aside. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "iface-internal.h"

int iface_rec_new(const char *name, iface_rec **ret, lb_err *err)
{
	iface_rec *r;
	int rc;

	rc = iface_name_check(name, err);
	if (rc < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->values = calloc(iface_nkeys, sizeof(*r->values));
	if (!r->values) {
		free(r);
		return -ENOMEM;
	}
	strcpy(r->name, name); /* length checked above */
	*ret = r;
	return 0;
}

void iface_rec_free(iface_rec *r)
{
	if (!r)
		return;
	if (r->values)
		for (size_t i = 0; i < iface_nkeys; i++)
			free(r->values[i]);
	for (size_t i = 0; i < r->nextra; i++) {
		free(r->extra[i].key);
		free(r->extra[i].value);
	}
	free(r->extra);
	free(r->values);
	free(r);
}

DEFINE_CLEANUP_FUNC(iface_rec, iface_rec_free)

int iface_rec_builtin(const char *name, iface_rec **ret)
{
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	const char *transport;
	int rc;

	if (!iface_name_is_builtin(name))
		return -ENOENT;
	transport = strcmp(name, "default") == 0 ? "tcp" : "iser";
	rc = iface_rec_new(name, &r, NULL);
	if (rc < 0)
		return rc;
	rc = iface_rec_set_raw(r, IFACE_KEY_TRANSPORT, transport);
	if (rc < 0)
		return rc;
	*ret = TAKE_PTR(r);
	return 0;
}

int iface_rec_dup(const iface_rec *src, iface_rec **ret)
{
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	int rc;

	rc = iface_rec_new(src->name, &r, NULL);
	if (rc < 0)
		return rc;
	for (size_t i = 1; i < iface_nkeys; i++) {
		if (src->values[i]) {
			rc = iface_rec_set_raw(r, iface_keys[i].name, src->values[i]);
			if (rc < 0)
				return rc;
		}
	}
	for (size_t i = 0; i < src->nextra; i++) {
		rc = iface_rec_set_raw(r, src->extra[i].key, src->extra[i].value);
		if (rc < 0)
			return rc;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

const char *iface_rec_name(const iface_rec *r)
{
	return r->name;
}

const char *iface_rec_get(const iface_rec *r, const char *key)
{
	int i = iface_key_index(key);

	if (i == 0)
		return r->name;
	if (i > 0)
		return r->values[i];
	for (size_t j = 0; j < r->nextra; j++)
		if (strcmp(r->extra[j].key, key) == 0)
			return r->extra[j].value;
	return NULL;
}

const char *iface_rec_transport(const iface_rec *r)
{
	return iface_rec_get(r, IFACE_KEY_TRANSPORT);
}

const char *iface_rec_hwaddress(const iface_rec *r)
{
	return iface_rec_get(r, IFACE_KEY_HWADDRESS);
}

const char *iface_rec_ipaddress(const iface_rec *r)
{
	return iface_rec_get(r, IFACE_KEY_IPADDRESS);
}

const char *iface_rec_netdev(const iface_rec *r)
{
	return iface_rec_get(r, IFACE_KEY_NETDEV);
}

const char *iface_rec_initiatorname(const iface_rec *r)
{
	return iface_rec_get(r, IFACE_KEY_INITIATOR);
}

static int replace_str(char **slot, const char *value)
{
	char *copy = NULL;

	if (value && *value) {
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int iface_rec_set_raw(iface_rec *r, const char *key, const char *value)
{
	iface_extra *grown;
	int i = iface_key_index(key);

	if (i == 0)
		return value && strcmp(value, r->name) == 0 ? 0 : -EINVAL;
	if (i > 0)
		return replace_str(&r->values[i], value);

	for (size_t j = 0; j < r->nextra; j++)
		if (strcmp(r->extra[j].key, key) == 0)
			return replace_str(&r->extra[j].value, value);
	if (!value || !*value)
		return 0;

	grown = realloc(r->extra, (r->nextra + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->extra = grown;
	r->extra[r->nextra].key = strdup(key);
	r->extra[r->nextra].value = strdup(value);
	if (!r->extra[r->nextra].key || !r->extra[r->nextra].value) {
		free(r->extra[r->nextra].key);
		free(r->extra[r->nextra].value);
		return -ENOMEM;
	}
	r->nextra++;
	return 0;
}

int iface_rec_set(iface_rec *r, const char *key, const char *value, lb_err *err)
{
	int i, rc;

	if (!key || !*key)
		return lb_err_set(err, EINVAL, "no key given");
	i = iface_key_index(key);
	if (i < 0)
		return lb_err_set(err, EINVAL,
				  "unknown key '%s' (the keys are listed by 'lunbridge iface show')",
				  key);
	if (i == 0)
		return lb_err_set(err, EPERM,
				  "iface.iscsi_ifacename is the record's name and cannot be changed; "
				  "create a new record instead");
	if (!value || strcmp(value, "<empty>") == 0)
		value = "";
	if (*value) {
		rc = iface_key_check_value(&iface_keys[i], value, err);
		if (rc < 0)
			return rc;
	}
	rc = replace_str(&r->values[i], value);
	if (rc < 0)
		return lb_err_set(err, rc, "out of memory");
	return 0;
}

int iface_rec_foreach(const iface_rec *r, iface_rec_visit_fn fn, void *arg)
{
	int rc;

	for (size_t i = 0; i < iface_nkeys; i++) {
		const char *v = i == 0 ? r->name : r->values[i];

		if (!v && iface_keys[i].type == IFACE_VAL_INT)
			v = "0";
		rc = fn(iface_keys[i].name, v, arg);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < r->nextra; i++) {
		rc = fn(r->extra[i].key, r->extra[i].value, arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

iface_binding iface_rec_binding(const iface_rec *r)
{
	if (iface_rec_netdev(r))
		return IFACE_BIND_NETDEV;
	if (iface_rec_hwaddress(r))
		return IFACE_BIND_HWADDRESS;
	return IFACE_BIND_NONE;
}
