# Shared by the integration tests: assertions that print what they saw.
# shellcheck shell=bash
: "${LUNBRIDGE:?set LUNBRIDGE to the lunbridge binary}"
failures=0
steps=0

pass() { steps=$((steps + 1)); echo "PASS: $*"; }
failed_checks=()
fail() {
	steps=$((steps + 1))
	failures=$((failures + 1))
	failed_checks+=("$*")
	echo "FAIL: $*"
}
skip() { echo "SKIP: $*"; exit 77; }

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1"
		echo "--- expected"; printf '%s\n' "$2"
		echo "--- actual"; printf '%s\n' "$3"
	fi
}

# expect_match DESCRIPTION EXTENDED-REGEX ACTUAL
expect_match() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1"
		echo "--- expected a match for"; printf '%s\n' "$2"
		echo "--- actual"; printf '%s\n' "$3"
	fi
}

# expect_fail DESCRIPTION EXPECTED-STDERR-LINE COMMAND...: exits non-zero
# and prints exactly one line on stderr, equal to the expected one.
expect_fail() {
	local desc=$1 want=$2 out err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "$desc (exit 0)"
	elif [ "$err" != "$want" ]; then
		fail "$desc"
		echo "--- expected stderr"; printf '%s\n' "$want"
		echo "--- actual stderr (exit $rc)"; printf '%s\n' "$err"
	else
		pass "$desc"
	fi
}

# expect_fail_match DESCRIPTION REGEX COMMAND...: exits non-zero and
# prints exactly one line on stderr, matching the extended REGEX.
expect_fail_match() {
	local desc=$1 re=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "$desc (exit 0)"
	elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || ! [[ $err =~ $re ]]; then
		fail "$desc"
		echo "--- expected one stderr line matching"; printf '%s\n' "$re"
		echo "--- actual stderr (exit $rc)"; printf '%s\n' "$err"
	else
		pass "$desc: $err"
	fi
}

finish() {
	echo "$((steps - failures)) passed, $failures failed"
	# named again at the end, where a truncated log still shows them
	[ "$failures" -eq 0 ] || printf 'failed: %s\n' "${failed_checks[@]}"
	[ "$failures" -eq 0 ]
}
