/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The run directory: names, locks, state files, the list of live volumes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime.h"
#include "test-helpers.h"

static char top[64], dir[sizeof(top) + sizeof("/run")];
static lb_err err;

static int setup(void **state)
{
	assert_int_equal(test_tmpdir_new("rt", top, sizeof(top)), 0);
	snprintf(dir, sizeof(dir), "%s/run", top); /* created by lock */
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(test_tmpdir_remove(top), 0);
	return 0;
}

static bool exists(const char *name, const char *suffix)
{
	char path[256];

	assert_int_equal(lb_runtime_path(dir, name, suffix, path, sizeof(path)), 0);
	return access(path, F_OK) == 0;
}

static void test_names(void **state)
{
	assert_int_equal(lb_runtime_name_check("vm42-root", &err), 0);
	assert_int_equal(lb_runtime_name_check("a.b:c_d", &err), 0);
	assert_int_equal(lb_runtime_name_check("", &err), -EINVAL);
	assert_int_equal(lb_runtime_name_check(".hidden", &err), -EINVAL);
	assert_int_equal(lb_runtime_name_check("-x", &err), -EINVAL);
	assert_int_equal(lb_runtime_name_check("a/b", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'/'"));
	assert_int_equal(lb_runtime_name_check("a b", &err), -EINVAL);
	assert_int_equal(
		lb_runtime_name_check(
			"x123456789012345678901234567890123456789012345678901234567890123", &err),
		0);
	assert_int_equal(
		lb_runtime_name_check(
			"x1234567890123456789012345678901234567890123456789012345678901234", &err),
		-EINVAL); /* NAME-partN is the partition link of volume NAME */
	assert_int_equal(lb_runtime_name_check("db-part1", &err), -EINVAL);
	assert_int_equal(lb_runtime_name_check("db-part12", &err), -EINVAL);
	assert_int_equal(lb_runtime_name_check("db-part", &err), 0);
	assert_int_equal(lb_runtime_name_check("db-part1x", &err), 0);
	assert_int_equal(lb_runtime_name_check("db-partition1", &err), 0);
}

static void test_lock_is_exclusive(void **state)
{
	struct lb_runtime_lock a = {.fd = -1}, b = {.fd = -1};
	char want[64];
	struct stat st;

	assert_int_equal(lb_runtime_lock(dir, "vol", &a, &err), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_true(exists("vol", "lock"));
	/* the same process, another open file description: refused */
	assert_int_equal(lb_runtime_lock(dir, "vol", &b, &err), -EEXIST);
	snprintf(want, sizeof(want), "volume 'vol' is already attached (pid %ld)", (long)getpid());
	assert_string_equal(err.msg, want);
	lb_runtime_unlock(&a);
	assert_false(exists("vol", "lock"));
	assert_int_equal(lb_runtime_lock(dir, "vol", &b, &err), 0);
	lb_runtime_unlock(&b);
}

static void test_state_and_list(void **state)
{
	struct lb_runtime_lock a = {.fd = -1}, b = {.fd = -1};
	char **names;
	size_t n;
	char *text;

	assert_int_equal(lb_runtime_lock(dir, "b-vol", &b, &err), 0);
	assert_int_equal(lb_runtime_lock(dir, "a-vol", &a, &err), 0);
	assert_int_equal(lb_runtime_write_state(&a, "{\"name\":\"a-vol\"}\n", &err), 0);
	assert_int_equal(lb_runtime_read_state(dir, "a-vol", &text, &err), 0);
	assert_string_equal(text, "{\"name\":\"a-vol\"}\n");
	free(text);
	assert_int_equal(lb_runtime_read_state(dir, "nope", &text, &err), -ENOENT);
	assert_int_equal(lb_runtime_read_state_file(dir, "nope", &text, &err), -ENOENT);
	assert_true(lb_runtime_live(dir, "a-vol"));
	assert_false(lb_runtime_live(dir, "nope"));
	assert_int_equal(lb_runtime_list(dir, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "a-vol"); /* sorted */
	assert_string_equal(names[1], "b-vol");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	lb_runtime_unlock(&a);
	assert_false(exists("a-vol", "json"));
	lb_runtime_unlock(&b);
	assert_int_equal(lb_runtime_list(dir, &names, &n, &err), 0);
	assert_int_equal(n, 0);
	free(names);
}

/* What a SIGKILLed bridge leaves: its files, but no lock held. */
static void test_stale_files_ignored_and_replaced(void **state)
{
	struct lb_runtime_lock a = {.fd = -1};
	char **names;
	size_t n;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lb_runtime_lock l = {.fd = -1};

		if (lb_runtime_lock(dir, "dead", &l, NULL) < 0 ||
		    lb_runtime_write_state(&l, "{}\n", NULL) < 0)
			_exit(1);
		_exit(0); /* no unlock: the files stay */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_true(exists("dead", "json"));
	assert_int_equal(lb_runtime_list(dir, &names, &n, &err), 0);
	assert_int_equal(n, 0);
	free(names);
	/* the udev helper still sees what the dead bridge served */
	assert_false(lb_runtime_live(dir, "dead"));
	assert_int_equal(lb_runtime_list_states(dir, &names, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "dead");
	free(names[0]);
	free(names);
	{
		char *text;

		assert_int_equal(lb_runtime_read_state(dir, "dead", &text, &err), -ENOENT);
		assert_int_equal(lb_runtime_read_state_file(dir, "dead", &text, &err), 0);
		assert_string_equal(text, "{}\n");
		free(text);
	}
	assert_int_equal(lb_runtime_wait_released(dir, "dead", 1000), 0);
	assert_int_equal(lb_runtime_lock(dir, "dead", &a, &err), 0);
	assert_string_equal(a.stale, "{}\n");
	assert_false(exists("dead", "json")); /* set aside, not listed */
	assert_true(exists("dead", "stale"));
	/* a successor that fails before writing its own state puts it back */
	lb_runtime_unlock(&a);
	assert_true(exists("dead", "json"));
	assert_false(exists("dead", "stale"));
	/* one that writes its own replaces it for good */
	assert_int_equal(lb_runtime_lock(dir, "dead", &a, &err), 0);
	assert_string_equal(a.stale, "{}\n");
	assert_int_equal(lb_runtime_write_state(&a, "{\"name\":\"dead\"}\n", &err), 0);
	assert_false(exists("dead", "stale"));
	lb_runtime_unlock(&a);
	assert_false(exists("dead", "json"));
	assert_false(exists("dead", "stale"));
}

static void test_wait_released_times_out(void **state)
{
	struct lb_runtime_lock a = {.fd = -1};
	pid_t pid;
	int p[2], status;
	char c;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* another process holds the lock for a while */
		struct lb_runtime_lock l = {.fd = -1};

		if (lb_runtime_lock(dir, "busy", &l, NULL) < 0)
			_exit(1);
		(void)write(p[1], "x", 1);
		sleep(3);
		lb_runtime_unlock(&l);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(lb_runtime_wait_released(dir, "busy", 200), -ETIMEDOUT);
	assert_int_equal(lb_runtime_lock(dir, "busy", &a, &err), -EEXIST);
	assert_int_equal(lb_runtime_wait_released(dir, "busy", 10000), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(lb_runtime_wait_released(dir, "gone", 100), -ENOENT);
	close(p[0]);
}

/* The pid a lock file records is the one /proc's namespace gives: here
 * getpid(); in a new PID namespace under this /proc (unshare --pid
 * --fork without --mount-proc), the pid outside, not 1. */
static void test_pid_outside_a_pid_namespace(void **state)
{
	long got[2];
	pid_t child, inner;
	int p[2], status;

	assert_int_equal(lb_runtime_pid(), (long)getpid());
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		long r[2] = {-1, -1};

		close(p[0]);
		if (unshare(CLONE_NEWPID) < 0) /* not root: nothing to see */
			_exit(write(p[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
		inner = fork();
		if (inner == 0) { /* pid 1 of the new namespace */
			r[0] = getpid();
			r[1] = lb_runtime_pid();
			_exit(write(p[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
		}
		_exit(inner > 0 && waitpid(inner, &status, 0) == inner &&
				      write(p[1], &(long){inner}, sizeof(long)) == sizeof(long)
			      ? 0
			      : 1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], got, sizeof(got)), sizeof(got));
	if (got[0] == -1) {
		print_message("no PID namespace (not root): only getpid() checked\n");
	} else {
		long outer = 0;

		assert_int_equal(read(p[0], &outer, sizeof(outer)), sizeof(outer));
		assert_int_equal(got[0], 1);
		assert_int_equal(got[1], outer);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_names),
		T(test_lock_is_exclusive),
		T(test_state_and_list),
		T(test_stale_files_ignored_and_replaced),
		T(test_wait_released_times_out),
		T(test_pid_outside_a_pid_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
