#!/bin/sh
# run-test-summary.sh NAME...: the end of make test. Reads $TEST_LOG_DIR/NAME.result
# (default build/test-logs) that tests/run-test.sh wrote for each NAME; a NAME without one
# did not run (its build failed) and counts as failed. Lists the failed ones, then prints
# the line "N passed, N failed" and exits 1 when any failed.
dir=${TEST_LOG_DIR:-build/test-logs}
pass=0
fail=0
failed=
for name in "$@"; do
	r=$(cat "$dir/$name.result" 2> /dev/null)
	if [ "$r" = ok ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		[ -n "$r" ] || name="$name (did not run: its build failed)"
		failed="$failed  $name
"
	fi
done
if [ "$fail" -gt 0 ]; then
	printf 'failed (logs in %s):\n%s' "$dir" "$failed"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
