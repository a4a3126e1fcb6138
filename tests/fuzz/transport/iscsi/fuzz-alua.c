/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ALUA's parsers on one buffer: REPORT TARGET PORT GROUPS data and VPD
 * 0x83 port designators.  Byte 0 sizes the caller's group array (0..7);
 * what a parser accepts must obey its contract: no more groups than the
 * array or the data holds, ports counted as the target gave them.
 */
#include <errno.h>
#include <stdlib.h>

#include "alua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scsi_alua_group g[8];
	struct scsi_alua_port p;
	size_t cap, n, need;

	if (size < 1)
		return 0;
	cap = data[0] & 7;
	data++;
	size--;
	(void)scsi_inquiry_tpgs(data, size);
	if (scsi_rtpg_parse(data, size, g, cap, &n, &need) == 0) {
		if (n > cap || n > size / 8 || need < 4)
			abort();
		for (size_t i = 0; i < n; i++) {
			(void)scsi_alua_state_name(g[i].state);
			(void)scsi_alua_group_of_port(g, n, g[i].ports[0]);
		}
	} else if (size >= 4 && size >= need) {
		/* refusing whole data is only for an inconsistent layout */
	}
	if (scsi_vpd_alua_port_parse(data, size, &p) == 0 && size < 4)
		abort();
	return 0;
}
