# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared by the lunbridge TM scripts (sourced after OpenNebula's
# tm_common.sh, with DRIVER_PATH set): the disk's attributes from the VM
# template, the volume's name, and the commands run on a host through
# ssh_exec_and_log.  Nothing secret passes through here: the CHAP secret
# stays on the host (lunbridge-one reads it from libvirt there).

# on the hosts: the helper, run as root through sudo
LUNBRIDGE_ONE=${LUNBRIDGE_ONE:-/usr/share/lunbridge/opennebula/node/lunbridge-one}
LB_SUDO=${LB_SUDO:-sudo}
XPATH="${DRIVER_PATH}/../../datastore/xpath.rb --stdin"

# lb_disk_id DST_PATH: N of .../disk.N
lb_disk_id() { echo "${1##*.}"; }

# lb_volume_name VMID DISK_ID: the volume's name on every host, the same on
# both ends of a migration
lb_volume_name() { echo "one-$1-$2"; }

# lb_disk_attrs DISK_ID [XML]: the disk's attributes from the VM template
# (XML, else `onevm show -x $VMID`) into LB_SOURCE, LB_PORTAL, LB_IQN,
# LB_LUN, LB_USER, LB_USAGE, LB_INITIATOR, LB_IFACE.  SOURCE is the image's
# PATH: IQN or IQN/LUN (LUN 0 without); ISCSI_IQN is the initiator name
# the image asks for, as OpenNebula's KVM driver reads it.
lb_disk_attrs() {
	local d=$1 xml=${2:-} i=0 element
	local -a v=()
	[ -n "$xml" ] || xml=$(onevm show -x "$VMID") || return 1
	while IFS= read -r -d '' element; do
		v[i++]=$element
	done < <(printf '%s' "$xml" | $XPATH \
		"/VM/TEMPLATE/DISK[DISK_ID=$d]/SOURCE" \
		"/VM/TEMPLATE/DISK[DISK_ID=$d]/ISCSI_HOST" \
		"/VM/TEMPLATE/DISK[DISK_ID=$d]/ISCSI_USER" \
		"/VM/TEMPLATE/DISK[DISK_ID=$d]/ISCSI_USAGE" \
		"/VM/TEMPLATE/DISK[DISK_ID=$d]/ISCSI_IQN" \
		"/VM/TEMPLATE/DISK[DISK_ID=$d]/LUNBRIDGE_IFACE")
	LB_SOURCE=${v[0]:-} LB_PORTAL=${v[1]:-} LB_USER=${v[2]:-} LB_USAGE=${v[3]:-}
	LB_INITIATOR=${v[4]:-} LB_IFACE=${v[5]:-auto}
	if [ -z "$LB_SOURCE" ] || [ -z "$LB_PORTAL" ]; then
		error_message "disk $d of VM $VMID: no SOURCE (the image's PATH, an IQN) or ISCSI_HOST"
		return 1
	fi
	LB_IQN=${LB_SOURCE%%/*}
	LB_LUN=0
	[ "$LB_IQN" = "$LB_SOURCE" ] || LB_LUN=${LB_SOURCE#*/}
	if ! [[ $LB_LUN =~ ^[0-9]+$ ]]; then
		error_message "disk $d of VM $VMID: SOURCE '$LB_SOURCE' is not IQN or IQN/LUN"
		return 1
	fi
}

# lb_lunbridge_disks XML: the DISK_IDs of the template's lunbridge disks
lb_lunbridge_disks() {
	printf '%s' "$1" | $XPATH '%m%/VM/TEMPLATE/DISK[TM_MAD="lunbridge"]/DISK_ID' | tr -d '\0'
}

# lb_q WORD...: the words quoted for the remote shell
lb_q() { printf '%q ' "$@"; }

# lb_attach_cmd NAME: the remote command attaching the disk lb_disk_attrs read
lb_attach_cmd() {
	echo "$LB_SUDO $(lb_q "$LUNBRIDGE_ONE" attach "$1" "$LB_PORTAL" "$LB_IQN" "$LB_LUN" \
		"${LB_IFACE:--}" "${LB_USER:--}" "${LB_USAGE:--}" "${LB_INITIATOR:--}") >/dev/null"
}

# lb_detach_cmd NAME
lb_detach_cmd() { echo "$LB_SUDO $(lb_q "$LUNBRIDGE_ONE" detach "$1")"; }

# lb_link_cmd NAME DST_PATH: the VM's disk.N, a link to the volume's device
lb_link_cmd() { echo "ln -sfn $(lb_q "/dev/disk/by-lunbridge/$1" "$2")"; }

# lb_attach_on HOST DST_PATH [XML]: attach disk N (DST_PATH's disk.N) of
# $VMID on HOST and link DST_PATH to its device
lb_attach_on() {
	local host=$1 path=$2 disk name cmd
	disk=$(lb_disk_id "$path")
	name=$(lb_volume_name "$VMID" "$disk")
	lb_disk_attrs "$disk" "${3:-}" || return 1
	log "Attaching $LB_IQN LUN $LB_LUN at $LB_PORTAL as $name on $host"
	cmd="set -e -o pipefail
$(lb_attach_cmd "$name")
$(lb_link_cmd "$name" "$path")"
	ssh_exec_and_log "$host" "$cmd" "Error attaching $LB_IQN LUN $LB_LUN as $name on $host"
}

# lb_detach_on HOST DST_PATH [DISK_ID]: detach the disk (DST_PATH's
# disk.N, or DISK_ID) of $VMID on HOST, and remove DST_PATH if given
lb_detach_on() {
	local host=$1 path=$2 disk=${3:-} name cmd
	[ -n "$disk" ] || disk=$(lb_disk_id "$path")
	name=$(lb_volume_name "$VMID" "$disk")
	log "Detaching $name on $host"
	cmd="set -e -o pipefail
$(lb_detach_cmd "$name")"
	[ -z "$path" ] || cmd+="
rm -f $(lb_q "$path")"
	ssh_exec_and_log "$host" "$cmd" "Error detaching $name on $host"
}
