/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The record directory: create, load, list, update, delete, atomically. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "iface.h"
#include "test-helpers.h"

typedef struct fixture {
	char dir[64];
	iface_store *s;
} fixture;

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));

	if (test_tmpdir_new("store", fx->dir, sizeof(fx->dir)) < 0)
		return -1;
	/* Records live in a subdirectory created on first write. */
	strcat(fx->dir, "/ifaces");
	if (iface_store_open(fx->dir, &fx->s, NULL) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;

	iface_store_free(fx->s);
	*strrchr(fx->dir, '/') = '\0';
	if (test_tmpdir_remove(fx->dir) < 0)
		return -1;
	free(fx);
	return 0;
}

static void write_file(const fixture *fx, const char *name, const char *text)
{
	char path[192];

	(void)mkdir(fx->dir, 0700);
	(void)snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	assert_int_equal(test_write_file(path, text), 0);
}

static char *read_back(const fixture *fx, const char *name)
{
	char path[192], *buf;
	size_t len;

	(void)snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	buf = test_read_file(path, &len);
	if (buf)
		assert_true(len < 65535);
	return buf;
}

static void create_tcp(const fixture *fx, const char *name)
{
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_rec_new(name, &r, NULL), 0);
	assert_int_equal(iface_rec_set(r, IFACE_KEY_TRANSPORT, "tcp", NULL), 0);
	if (iface_store_create(fx->s, r, &err) < 0)
		fail_msg("create %s: %s", name, err.msg);
	iface_rec_free(r);
}

static int count_entries(const fixture *fx)
{
	DIR *d = opendir(fx->dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void create_and_load(void **state)
{
	fixture *fx = *state;
	iface_rec *r = NULL;
	struct stat st;
	char path[192];

	create_tcp(fx, "r1");
	assert_int_equal(iface_store_load(fx->s, "r1", &r, NULL), 0);
	assert_string_equal(iface_rec_transport(r), "tcp");
	iface_rec_free(r);
	/* As iscsiadm: 0700 directory, 0600 files, no temporary left. */
	(void)snprintf(path, sizeof(path), "%s/r1", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(fx->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(count_entries(fx), 1);
}

static void create_existing_fails(void **state)
{
	fixture *fx = *state;
	iface_rec *r = NULL;
	lb_err err = {{0}};
	char *before, *after;

	write_file(fx, "r1", "iface.transport_name = tcp\niface.net_ifacename = eth9\n");
	before = read_back(fx, "r1");
	assert_int_equal(iface_rec_new("r1", &r, NULL), 0);
	assert_int_equal(iface_rec_set(r, IFACE_KEY_TRANSPORT, "tcp", NULL), 0);
	assert_int_equal(iface_store_create(fx->s, r, &err), -EEXIST);
	after = read_back(fx, "r1");
	assert_string_equal(before, after);
	assert_int_equal(count_entries(fx), 1);
	free(before);
	free(after);
	iface_rec_free(r);
}

static void create_invalid_writes_nothing(void **state)
{
	fixture *fx = *state;
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_rec_new("r1", &r, NULL), 0);
	assert_int_equal(iface_store_create(fx->s, r, &err), -EINVAL); /* no transport */
	assert_null(read_back(fx, "r1"));
	iface_rec_free(r);
}

static void builtins_are_read_only(void **state)
{
	fixture *fx = *state;
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_store_load(fx->s, "default", &r, NULL), 0);
	assert_int_equal(iface_store_create(fx->s, r, &err), -EPERM);
	iface_rec_free(r);
	assert_int_equal(iface_store_update(fx->s, "iser", "iface.mtu", "1", &err), -EPERM);
	assert_int_equal(iface_store_delete(fx->s, "default", &err), -EPERM);
	assert_non_null(strstr(err.msg, "built into open-iscsi"));
}

static void load_missing(void **state)
{
	fixture *fx = *state;
	iface_rec *r = NULL;
	lb_err err = {{0}};

	assert_int_equal(iface_store_load(fx->s, "nope", &r, &err), -ENOENT);
	assert_null(r);
	assert_int_equal(iface_store_load(fx->s, "../etc", &r, &err), -EINVAL);
}

static void list_sorted_then_builtins(void **state)
{
	fixture *fx = *state;
	iface_list *l = NULL;

	create_tcp(fx, "zeta");
	create_tcp(fx, "alpha");
	create_tcp(fx, "mid");
	write_file(fx, "broken", "iface.hwaddress = 00:11:22:33:44:55\n");
	write_file(fx, "default", "iface.transport_name = cxgb4i\n");
	write_file(fx, ".lunbridge-tmp", "iface.transport_name = tcp\n");
	assert_int_equal(iface_store_list(fx->s, &l, NULL), 0);
	assert_int_equal(l->n, 5);
	assert_string_equal(iface_rec_name(l->recs[0]), "alpha");
	assert_string_equal(iface_rec_name(l->recs[1]), "mid");
	assert_string_equal(iface_rec_name(l->recs[2]), "zeta");
	assert_string_equal(iface_rec_name(l->recs[3]), "default");
	assert_string_equal(iface_rec_transport(l->recs[3]), "tcp");
	assert_string_equal(iface_rec_name(l->recs[4]), "iser");
	assert_int_equal(l->nbad, 2);
	assert_string_equal(l->bad[0], "broken: no iface.transport_name");
	assert_non_null(strstr(l->bad[1], "default: "));
	iface_list_free(l);
}

static void list_missing_dir(void **state)
{
	fixture *fx = *state;
	iface_list *l = NULL;

	assert_int_equal(iface_store_list(fx->s, &l, NULL), 0);
	assert_int_equal(l->n, 2);
	iface_list_free(l);
}

static void update_keeps_other_keys(void **state)
{
	fixture *fx = *state;
	lb_err err = {{0}};
	char *text;

	write_file(fx, "r1", "# BEGIN RECORD 2.1.8\n"
			     "iface.iscsi_ifacename = r1\n"
			     "iface.transport_name = tcp\n"
			     "iface.vlan_id = 12\n"
			     "iface.dhcp_vendor_id = acme\n"
			     "iface.future_key = kept\n"
			     "# END RECORD\n");
	if (iface_store_update(fx->s, "r1", "iface.net_ifacename", "eth3", &err) < 0)
		fail_msg("%s", err.msg);
	text = read_back(fx, "r1");
	assert_non_null(strstr(text, "iface.net_ifacename = eth3\n"));
	assert_non_null(strstr(text, "iface.vlan_id = 12\n"));
	assert_non_null(strstr(text, "iface.dhcp_vendor_id = acme\n"));
	assert_non_null(strstr(text, "iface.future_key = kept\n"));
	free(text);
	assert_int_equal(count_entries(fx), 1);
}

static void failed_update_changes_nothing(void **state)
{
	fixture *fx = *state;
	lb_err err = {{0}};
	char *before, *after;

	create_tcp(fx, "r1");
	before = read_back(fx, "r1");
	assert_int_equal(iface_store_update(fx->s, "r1", "iface.ipaddress", "10.0.0.256", &err),
			 -EINVAL);
	assert_int_equal(iface_store_update(fx->s, "r1", "iface.hwaddress", "nope", &err),
			 -EINVAL);
	assert_int_equal(iface_store_update(fx->s, "r1", "iface.nokey", "1", &err), -EINVAL);
	assert_int_equal(iface_store_update(fx->s, "r9", "iface.mtu", "1", &err), -ENOENT);
	after = read_back(fx, "r1");
	assert_string_equal(before, after);
	assert_int_equal(count_entries(fx), 1);
	free(before);
	free(after);
}

static void delete_record(void **state)
{
	fixture *fx = *state;
	lb_err err = {{0}};

	create_tcp(fx, "r1");
	assert_int_equal(iface_store_delete(fx->s, "r1", &err), 0);
	assert_null(read_back(fx, "r1"));
	assert_int_equal(iface_store_delete(fx->s, "r1", &err), -ENOENT);
}

static void replace_record(void **state)
{
	fixture *fx = *state;
	iface_rec *r = NULL;
	char *text;

	create_tcp(fx, "r1");
	assert_int_equal(iface_store_load(fx->s, "r1", &r, NULL), 0);
	assert_int_equal(iface_rec_set(r, "iface.mtu", "1500", NULL), 0);
	assert_int_equal(iface_store_replace(fx->s, r, NULL), 0);
	iface_rec_free(r);
	text = read_back(fx, "r1");
	assert_non_null(strstr(text, "iface.mtu = 1500\n"));
	free(text);
}

/* Two writers updating different keys of one record: both land. */
static void concurrent_updates_serialise(void **state)
{
	fixture *fx = *state;
	const char *keys[2] = {"iface.vlan_id", "iface.mtu"};
	pid_t pids[2];
	iface_rec *r = NULL;
	char want[16];

	create_tcp(fx, "r1");
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			for (int i = 1; i <= 200; i++) {
				char v[16];

				(void)snprintf(v, sizeof(v), "%d", i);
				if (iface_store_update(fx->s, "r1", keys[k], v, NULL) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status;

		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(iface_store_load(fx->s, "r1", &r, NULL), 0);
	(void)snprintf(want, sizeof(want), "%d", 200);
	assert_string_equal(iface_rec_get(r, "iface.vlan_id"), want);
	assert_string_equal(iface_rec_get(r, "iface.mtu"), want);
	iface_rec_free(r);
	assert_int_equal(count_entries(fx), 1);
}

static void env_overrides_default(void **state)
{
	iface_store *s = NULL;

	setenv("LUNBRIDGE_IFACE_DIR", "/tmp/somewhere-else", 1);
	assert_int_equal(iface_store_open(NULL, &s, NULL), 0);
	assert_string_equal(iface_store_dir(s), "/tmp/somewhere-else");
	iface_store_free(s);
	unsetenv("LUNBRIDGE_IFACE_DIR");
	assert_int_equal(iface_store_open(NULL, &s, NULL), 0);
	assert_true(strcmp(iface_store_dir(s), "/etc/iscsi/ifaces") == 0 ||
		    strcmp(iface_store_dir(s), "/var/lib/iscsi/ifaces") == 0);
	iface_store_free(s);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(create_and_load),
		T(create_existing_fails),
		T(create_invalid_writes_nothing),
		T(builtins_are_read_only),
		T(load_missing),
		T(list_sorted_then_builtins),
		T(list_missing_dir),
		T(update_keeps_other_keys),
		T(failed_update_changes_nothing),
		T(delete_record),
		T(replace_record),
		T(concurrent_updates_serialise),
		cmocka_unit_test(env_overrides_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
