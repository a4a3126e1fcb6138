# shellcheck shell=bash
# A stand-in for OpenNebula's tm_common.sh (and the scripts_common.sh it
# sources), with the functions the lunbridge driver uses, written as
# OpenNebula 6's are: arg_host/arg_path split "host:path", log lines go to
# the driver's log (here $ONE_STUB_LOG), error_message to stderr, and
# ssh_exec_and_log runs its script with `$SSH HOST bash -s` from stdin and
# exits with the remote status on failure, logging the script.
SSH=${SSH:-ssh}
SED="sed -r"

function arg_host { echo "$1" | $SED 's/^([^:]*):.*$/\1/'; }
function arg_path { echo "$1" | $SED 's/^[^:]*:(.*)$/\1/' | $SED 's#/+#/#g'; }
function log { echo "INFO: $*" >>"$ONE_STUB_LOG"; }
function log_error { echo "ERROR: $*" >>"$ONE_STUB_LOG"; }
function error_message { echo "ERROR MESSAGE --8<------" >&2; echo "$1" >&2; echo "ERROR MESSAGE ------>8--" >&2; }

function ssh_exec_and_log {
    SSH_EXEC_ERR=$($SSH $1 bash -s 2>&1 1>/dev/null <<EOF
export LANG=C
export LC_ALL=C
$2
EOF
)
    SSH_EXEC_RC=$?
    if [ $SSH_EXEC_RC -ne 0 ]; then
        log_error "Command \"$2\" failed: $SSH_EXEC_ERR"
        if [ -n "$3" ]; then error_message "$3"; else error_message "Error executing $2: $SSH_EXEC_ERR"; fi
        exit $SSH_EXEC_RC
    fi
}

function ssh_make_path {
    SSH_EXEC_ERR=$($SSH $1 bash -s 2>&1 1>/dev/null <<EOF
if [ ! -d $2 ]; then
   mkdir -p $2
fi
EOF
)
    SSH_EXEC_RC=$?
    if [ $SSH_EXEC_RC -ne 0 ]; then
        error_message "Error creating directory $2 at $1: $SSH_EXEC_ERR"
        exit $SSH_EXEC_RC
    fi
}
