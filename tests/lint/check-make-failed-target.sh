#!/bin/sh
# A build step that fails leaves no target behind: the next make runs it again and shows the
# compiler's error again, instead of calling the target up to date. (A compile-and-link rule
# once passed a header named by its dependency file to gcc with the sources; when the
# compile failed, gcc had still written a precompiled header to the output path, so the next
# make said "up to date" about a file that was no program.) Checked on a bench in a copy of
# the tracked tree, so the real build/ is never touched. Run from the top of the tree; part
# of make lint (make test).
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$tmp"
cd "$tmp"
probe=build/bench/zz_failed_target_probe
src=tests/bench/zz_failed_target_probe.c
# the make running this check must not lend its job server or options to the one in the copy
unset MAKEFLAGS MFLAGS MAKELEVEL
fail() {
	echo "check-make: $*" >&2
	exit 1
}

# 1. A bench that builds, so that its dependency file names harness.h.
printf '#include "harness.h"\nint main(void) { return h_bin() ? 0 : 1; }\n' >"$src"
make --no-print-directory "$probe" >make1.out 2>&1 || { cat make1.out >&2; fail "the probe bench did not build"; }
[ -x "$probe" ] || fail "the probe bench built but $probe is no program"

# 2. The same bench broken: the build fails, and nothing it wrote is left as the target (the
#    last good build may stay: it is older than the source, so make builds again).
sleep 1 # a newer modification time than the target's on coarse file systems
printf '#include "harness.h"\nint main(void) { int a; int a; return 0; }\n' >"$src"
if make --no-print-directory "$probe" >make2.out 2>&1; then
	fail "a bench that does not compile was built"
fi
grep -q "error" make2.out || { cat make2.out >&2; fail "the failed build showed no compiler error"; }
if [ -e "$probe" ] && [ "$probe" -nt "$src" ]; then
	fail "the failed build left $probe behind ($(file -b "$probe" 2>/dev/null || echo ?))"
fi

# 3. make again: it fails again with the same error, it does not call the target up to date.
if make --no-print-directory "$probe" >make3.out 2>&1; then
	cat make3.out >&2
	fail "after a failed build, make called $probe up to date"
fi
grep -q "error" make3.out || { cat make3.out >&2; fail "the second failed build showed no compiler error"; }
echo "check-make: a failed build leaves nothing it wrote as its target; the next make fails again"
