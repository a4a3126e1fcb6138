/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A SendTargets answer (the reassembled Text Response data): parsed, then
 * printed as iscsiadm prints it.  The result must respect the limits, and
 * printing must give one line per address (or per target without one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_discovery d = {0};
	size_t lines = 0, want = 0;
	char *out = NULL;
	size_t out_len = 0;
	FILE *f;

	if (iscsi_discovery_parse((const char *)data, size, &d, NULL) < 0) {
		if (d.targets || d.n_targets)
			abort(); /* untouched on failure */
		return 0;
	}
	if (d.n_targets > 4096)
		abort();
	for (size_t i = 0; i < d.n_targets; i++) {
		const struct iscsi_discovered_target *t = &d.targets[i];

		if (t->name[0] == '\0' || strlen(t->name) > ISCSI_NAME_MAX || t->n_addrs > 256)
			abort();
		for (size_t k = 0; k < t->n_addrs; k++)
			if (t->addrs[k].host[0] == '\0' || t->addrs[k].port == 0 ||
			    t->addrs[k].tpgt < -1 || t->addrs[k].tpgt > 65535)
				abort();
		want += t->n_addrs ? t->n_addrs : 1;
	}

	f = open_memstream(&out, &out_len);
	if (!f)
		abort();
	if (iscsi_discovery_print(&d, "fd00::1", 3260, -1, f) < 0)
		abort();
	if (fclose(f) != 0)
		abort();
	for (size_t i = 0; i < out_len; i++)
		lines += out[i] == '\n';
	if (lines != want)
		abort();
	free(out);
	iscsi_discovery_free(&d);
	return 0;
}
