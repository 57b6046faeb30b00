#!/bin/sh
# run-test.sh NAME CMD [ARG...]: one step of make test (a unit or integration binary, a
# firmware test, a fuzz smoke target, the lint, the short soak).
#
# Runs CMD with stdin from /dev/null and stdout + stderr in $TEST_LOG_DIR/NAME.log
# (default build/test-logs), prints one line "ok|FAIL <seconds> NAME" and, on a failure, its
# cmocka failure lines and the last 40 lines of the log; writes "ok" or "FAIL" to NAME.result
# for run-test-summary.sh.
# Exits 0 either way, so make goes on with the other steps (the summary decides).
# Every line of the output is written at once at the end, so parallel steps do not mix.
name=$1
shift
dir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$dir" || exit 1
log=$dir/$name.log
rm -f "$dir/$name.result"
# The step's temporary files go to a directory of its own (TMPDIR), removed afterwards
# (kept with RINKI_KEEP): nothing is shared with a parallel step or another suite.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rt.XXXXXX") || exit 1
t0=$(date +%s%N)
TMPDIR=$tmp "$@" > "$log" 2>&1 < /dev/null
rc=$?
t1=$(date +%s%N)
[ -n "$RINKI_KEEP" ] || rm -rf "$tmp"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
if [ "$rc" -eq 0 ]; then
	echo ok > "$dir/$name.result"
	printf 'ok   %7ss  %s\n' "$secs" "$name"
else
	echo FAIL > "$dir/$name.result"
	# cmocka's own failure lines first: a leak report at exit (a test's allocations after
	# its failed assertion) can fill the tail and bury them
	out=$(printf 'FAIL %7ss  %s (exit %d), failure lines of %s:\n' "$secs" "$name" "$rc" "$log"
		grep -E '^\[ +(ERROR|LINE|FAILED) +\]|^harness: ' "$log" | head -n 20 | sed 's/^/    > /'
		printf 'last lines:\n'
		tail -n 40 "$log" | sed 's/^/    | /')
	printf '%s\n' "$out"
fi
exit 0
