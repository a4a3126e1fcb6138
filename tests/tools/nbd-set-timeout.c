/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nbd-set-timeout /dev/nbdN SECONDS: set a connected kernel NBD device's
 * request timeout (generic netlink NBD_CMD_RECONFIGURE with
 * NBD_ATTR_TIMEOUT), repeating the backend identifier the device was bound
 * with (sysfs), as the kernel requires.  For the kernel lab's tests, which
 * force a short timeout from outside the bridge (no test hook in the
 * bridge): requests started afterwards time out after SECONDS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/nbd-netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#define fail(...) (fprintf(stderr, "nbd-set-timeout: " __VA_ARGS__), fputc('\n', stderr), 1)

int main(int argc, char **argv)
{
	char path[96], backend[300] = "", *end;
	unsigned long long secs;
	unsigned index;
	struct nl_sock *sk;
	struct nl_msg *msg;
	FILE *fp;
	int family, r;

	if (argc != 3 || sscanf(argv[1], "/dev/nbd%u", &index) != 1)
		return fail("usage: nbd-set-timeout /dev/nbdN SECONDS");
	errno = 0;
	secs = strtoull(argv[2], &end, 10);
	if (errno || *end || end == argv[2])
		return fail("'%s' is not a number of seconds", argv[2]);
	snprintf(path, sizeof(path), "/sys/block/nbd%u/backend", index);
	fp = fopen(path, "re");
	if (fp) {
		if (!fgets(backend, sizeof(backend), fp))
			backend[0] = '\0';
		fclose(fp);
	}
	backend[strcspn(backend, "\n")] = '\0';
	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk) < 0)
		return fail("cannot open a generic netlink socket");
	family = genl_ctrl_resolve(sk, NBD_GENL_FAMILY_NAME);
	if (family < 0)
		return fail("no NBD in this kernel: %s", nl_geterror(family));
	msg = nlmsg_alloc();
	if (!msg ||
	    !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, NBD_CMD_RECONFIGURE,
			 NBD_GENL_VERSION) ||
	    nla_put_u32(msg, NBD_ATTR_INDEX, index) < 0 ||
	    nla_put_u64(msg, NBD_ATTR_TIMEOUT, secs) < 0 ||
	    (backend[0] && nla_put_string(msg, NBD_ATTR_BACKEND_IDENTIFIER, backend) < 0))
		return fail("out of memory");
	r = nl_send_sync(sk, msg); /* waits for the kernel's ACK; frees msg */
	nl_socket_free(sk);
	if (r < 0)
		return fail("the kernel refused to reconfigure %s: %s", argv[1], nl_geterror(r));
	printf("%s: request timeout %llu s\n", argv[1], secs);
	return 0;
}
