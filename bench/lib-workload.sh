# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # WL_* are for the caller
#
# The workload names bench/run.sh and bench/lab.sh share: RW-SIZE-qdN,
# e.g. randread-4k-qd32, write-1m-qd8.

# workload NAME: sets WL_RW (fio's --rw), WL_BYTES and WL_BS (the block
# size in bytes) and WL_QD; status 1 if NAME is not of that form.
workload() {
	local n
	[[ $1 =~ ^(randread|randwrite|read|write)-([0-9]+)([kKmM])-qd([0-9]+)$ ]] || return 1
	WL_RW=${BASH_REMATCH[1]}
	n=${BASH_REMATCH[2]}
	case ${BASH_REMATCH[3]} in
	k | K) WL_BYTES=$((n * 1024)) ;;
	m | M) WL_BYTES=$((n * 1024 * 1024)) ;;
	esac
	WL_BS=$WL_BYTES
	WL_QD=${BASH_REMATCH[4]}
	[ "$WL_BYTES" -gt 0 ] && [ "$WL_QD" -gt 0 ]
}
