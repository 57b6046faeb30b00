#!/bin/sh
# Install as a technician does, into a scratch DESTDIR: `make install PREFIX=/usr` after a
# build with another PREFIX. Checks that the installed binaries look for the prompts under
# /usr/share/rinki/prompts (the default baked into conf.o, as `rinkictl config show`
# prints it; rinkid links the same conf.o and is checked to be linked after it), that every prompt
# built from tools/prompts is installed there, that the unit runs /usr/sbin/rinkid, and
# that the installed rinkid, run against the simulators with no prompt.dir in its
# configuration, plays the installed prompt files to the officer and the worker
# (test_installed_voice.c), and that building again with the first PREFIX (RESTORE_PREFIX,
# default /usr/local) bakes that one back in. Part of make test (target install-check);
# run from the top of the tree, as root (the voice test mounts in a namespace of its own).
set -eu
MAKE=${MAKE:-make}
restore=${RESTORE_PREFIX:-/usr/local}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$tmp.conf" "$tmp.log"' EXIT
fail=0
bad() { echo "install-check: FAIL: $*" >&2; fail=1; }

# The prompt directory a rinkictl takes from the conf module it shares with rinkid
# (libgateway.a's conf.o), with an empty configuration: the built-in default.
: > "$tmp.conf"
prompt_dir() { "$1" config show -c "$tmp.conf" | sed -n 's/^prompt\.dir //p'; }

$MAKE --no-print-directory -s install PREFIX=/usr DESTDIR="$tmp" > "$tmp.log" 2>&1 ||
	{ cat "$tmp.log" >&2; rm -f "$tmp.log" "$tmp.conf"; echo "install-check: make install failed" >&2; exit 1; }
rm -f "$tmp.log"

[ -x "$tmp/usr/sbin/rinkid" ] || bad "usr/sbin/rinkid not installed"
[ "$(prompt_dir "$tmp/usr/bin/rinkictl")" = /usr/share/rinki/prompts ] ||
	bad "installed default prompt.dir is '$(prompt_dir "$tmp/usr/bin/rinkictl")'," \
		"expected /usr/share/rinki/prompts"
# rinkid links the same conf.o: it was linked again after conf.o was rebuilt
[ ! build/rel/gateway/core/conf.o -nt build/rinkid ] || bad "build/rinkid is older than conf.o"
cmp -s build/rinkid "$tmp/usr/sbin/rinkid" || bad "the installed rinkid is not build/rinkid"

# rinki-flash's key is built in (the package's signing key), not a file it looks up
"$tmp/usr/bin/rinki-flash" --help 2>&1 | grep -q '^built-in .*key' ||
	bad "rinki-flash has no built-in key:" \
		"$("$tmp/usr/bin/rinki-flash" --help 2>&1 | tail -n 1)"

n=0
for txt in tools/prompts/*/*.txt; do
	rel=${txt#tools/prompts/}
	wav=$tmp/usr/share/rinki/prompts/${rel%.txt}.wav
	if ! cmp -s "$wav" "build/prompts/${rel%.txt}.wav"; then
		bad "prompt ${rel%.txt}.wav missing or different in /usr/share/rinki/prompts"
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || bad "no prompt sources under tools/prompts"

unit=$tmp/usr/lib/systemd/system/rinkid.service
grep -q '^ExecStart=/usr/sbin/rinkid ' "$unit" || bad "rinkid.service does not run /usr/sbin/rinkid"
grep -q '^ExecStartPre=/usr/bin/rinkictl config check ' "$unit" ||
	bad "rinkid.service does not check the configuration with /usr/bin/rinkictl"
! grep -q '@[A-Z]*DIR@' "$unit" || bad "rinkid.service keeps a @...DIR@ placeholder"
# run.rt_priority > 0 (SCHED_FIFO) needs CAP_SYS_NICE or an RLIMIT_RTPRIO that high
prio=$(sed -n 's/^run\.rt_priority  *\([0-9]*\).*/\1/p' "$tmp/etc/rinki/rinki.conf")
if [ "${prio:-0}" -gt 0 ]; then
	rtlimit=$(sed -n 's/^LimitRTPRIO=\([0-9]*\)$/\1/p' "$unit")
	grep -q '^CapabilityBoundingSet=.*CAP_SYS_NICE' "$unit" || [ "${rtlimit:-0}" -ge "$prio" ] ||
		bad "the config sets run.rt_priority $prio but rinkid.service allows no SCHED_FIFO"
	! grep -q '^RestrictRealtime=yes' "$unit" ||
		bad "the config sets run.rt_priority $prio but rinkid.service has RestrictRealtime=yes"
fi
# the units' hardening (brief #18): rinkid.service and rinki-sync.service at most 2.0
for u in rinkid rinki-sync; do
	score=$(systemd-analyze security --offline=true "$tmp/usr/lib/systemd/system/$u.service" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	[ -n "$score" ] || bad "systemd-analyze security gave no score for $u.service"
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }' ||
		bad "$u.service: systemd-analyze security exposure $score, more than 2.0"
done
for m in man1/rinkictl.1 man5/rinki.conf.5 man8/rinkid.8; do
	[ -f "$tmp/usr/share/man/$m" ] || bad "man page $m not installed"
done
grep -q '^#prompt.dir /usr/share/rinki/prompts$' "$tmp/etc/rinki/rinki.conf" ||
	bad "/etc/rinki/rinki.conf missing or its prompt.dir line is not /usr/share/rinki/prompts"

# The installed rinkid, with no prompt.dir in its config, against the simulators: the worker
# hears the installed prompts (tests/install/test_installed_voice.c; INSTALLED_VOICE is the
# binary, built by make install-check).
voice=${INSTALLED_VOICE:-build/san/install/test_installed_voice}
mkdir "$tmp/bin"
for b in usr/sbin/rinkid usr/bin/rinkictl usr/bin/tetra-sim usr/bin/modem-sim; do
	ln -s "$tmp/$b" "$tmp/bin/"
done
if RINKI_BIN="$tmp/bin" RINKI_DESTDIR="$tmp" "$voice" > "$tmp.log" 2>&1; then
	grep -E '\.wav: ' "$tmp.log"
else
	cat "$tmp.log" >&2
	bad "the installed rinkid did not play the installed prompts ($voice)"
fi

# Back to the tree's own PREFIX: what depends on it is rebuilt again.
$MAKE --no-print-directory -s all PREFIX="$restore" > /dev/null
got=$(prompt_dir build/rinkictl)
[ "$got" = "$restore/share/rinki/prompts" ] ||
	bad "build/rinkictl after make PREFIX=$restore: prompt.dir '$got'"
[ ! build/rel/gateway/core/conf.o -nt build/rinkid ] || bad "build/rinkid older than conf.o"
rm -f "$tmp.conf"

[ $fail -eq 0 ] && echo "install-check: PREFIX=/usr install ok ($n prompts, the installed rinkid played them), rebuilt for $restore"
exit $fail
