/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iscsiadm's output as the open-iscsi engine reads it, and a node record
 * edited with a secret: every record parsed stays within its limits, and
 * the edited record holds the new line once and no line of the old value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openiscsi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *keys[] = {"node.session.auth.password"};
	const char *values[] = {"fuzz-secret"};
	struct lb_openiscsi_target *t = NULL;
	char *text = malloc(size + 1), *out = NULL, msg[64];
	size_t n = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lb_openiscsi_parse_discovery(text, &t, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!t[i].address[0] || !t[i].iqn[0] ||
			    strlen(t[i].address) >= sizeof(t[i].address) ||
			    strlen(t[i].iqn) >= sizeof(t[i].iqn) || strchr(t[i].iqn, '/'))
				abort();
		free(t);
	}
	lb_openiscsi_last_message(text, msg, sizeof(msg));
	if (strlen(msg) >= sizeof(msg))
		abort();
	if (lb_openiscsi_record_set(text, keys, values, 1, &out) == 0) {
		static const char want[] = "node.session.auth.password = fuzz-secret";
		size_t lines = 0;

		/* exactly one line sets the key: ours */
		for (char *p = out; *p;) {
			size_t len = strcspn(p, "\n");

			if (len >= 26 && strncmp(p, keys[0], 26) == 0 &&
			    strspn(p + 26, " \t") + 26 < len && p[26 + strspn(p + 26, " \t")] == '=' &&
			    (len != sizeof(want) - 1 || strncmp(p, want, len) != 0))
				abort(); /* an old value survived */
			if (len == sizeof(want) - 1 && strncmp(p, want, len) == 0)
				lines++;
			p += len;
			if (*p)
				p++;
		}
		if (lines != 1)
			abort();
		free(out);
	}
	free(text);
	return 0;
}
