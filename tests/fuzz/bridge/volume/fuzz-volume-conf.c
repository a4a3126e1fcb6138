/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume configuration file: parsed or refused.  Parsed, its argv is a
 * NULL-terminated list of known options, each value non-empty and one
 * line, every required option there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "volume-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_volume_conf c;
	char *text = malloc(size + 1);
	int need = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lb_volume_conf_parse(text, "fuzz.conf", &c, NULL) == 0) {
		if (c.argv[c.argc])
			abort();
		for (size_t i = 0; i < c.argc; i++) {
			const char *a = c.argv[i];

			if (strncmp(a, "--", 2) != 0)
				abort();
			if (!strcmp(a, "--portal") || !strcmp(a, "--targetname") ||
			    !strcmp(a, "--lun") || !strcmp(a, "--export"))
				need++;
			if (strcmp(a, "--no-fallback") && strcmp(a, "--no-recovery")) {
				const char *v = c.argv[++i];

				if (!v || !*v || strchr(v, '\n'))
					abort();
			}
		}
		if (need != 4)
			abort();
		lb_volume_conf_clear(&c);
	}
	free(text);
	return 0;
}
