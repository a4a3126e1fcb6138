# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# What setup.sh and run-vm.sh share: the host paths the guest covers with
# a tmpfs (tests/vm/init), so that what the guest must read there is
# shared into it on its own.

# The guest mounts the host's root read-only and these paths as tmpfs
# over it.
HIDDEN_PATHS=(/tmp /run /var/lib /var/log /var/tmp /root /etc/iscsi)

# lab_hidden PATH: the hidden path PATH lies under (prints it, status 0),
# or status 1.
lab_hidden() {
	local p
	for p in "${HIDDEN_PATHS[@]}"; do
		case $1/ in
		"$p"/*)
			echo "$p"
			return 0
			;;
		esac
	done
	return 1
}
