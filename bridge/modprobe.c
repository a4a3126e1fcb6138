/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modprobe.h"

extern char **environ;

int lb_modprobe(const char *module)
{
	static const char *const paths[] = {"/usr/sbin/modprobe", "/sbin/modprobe"};
	char *argv[] = {"modprobe", "-q", "--", (char *)module, NULL};
	posix_spawn_file_actions_t fa;
	int r = -ENOENT, status;
	pid_t pid;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], X_OK) != 0)
			continue;
		r = posix_spawn(&pid, paths[i], &fa, NULL, argv, environ);
		if (r != 0) {
			r = -r;
			break;
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				r = -errno;
				goto out;
			}
		r = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOENT;
		break;
	}
out:
	posix_spawn_file_actions_destroy(&fa);
	return r;
}
