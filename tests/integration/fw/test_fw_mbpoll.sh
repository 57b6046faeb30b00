#!/bin/sh
# test_fw_mbpoll.sh: the firmware image in QEMU mps2-an385 against an independent Modbus master,
# Debian's mbpoll (its own command-line front end; it uses libmodbus underneath, as the C test
# does, so this checks our firmware against a second master program, not a second RTU stack).
# QEMU's UART goes to a UNIX socket and socat turns it into a pty, as in test_fw_qemu.c.
#
#   FW_ELF=build/fw/fw.elf FW_BUILD_H=build/fw/fw_build.h tests/integration/fw/test_fw_mbpoll.sh
#
# Checks: identity input registers (board id, version, build hash, register map version), a
# holding register written and read back, the AUX coil forced on and off and seen on the
# output pin through the test register, and three exception replies (02 illegal address,
# 03 illegal value, 04 PTT refused in safe state). Without mbpoll it fails (make deps installs it).
# QEMU and socat are started here and stopped by pid on every exit path.
set -u

elf=${FW_ELF:-build/fw/fw.elf}
build_h=${FW_BUILD_H:-build/fw/fw_build.h}
version_h=${FW_VERSION_H:-firmware/core/fw_version.h}
qemu=${QEMU:-qemu-system-arm}

if ! command -v mbpoll > /dev/null 2>&1; then
	echo "FAIL: mbpoll not installed (it is in the Makefile's DEB_PKGS: make deps)"
	exit 1
fi
for f in "$elf" "$build_h" "$version_h"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: $f not readable (run make firmware)"
		exit 1
	fi
done

dir=$(mktemp -d /tmp/rinki-mbpoll.XXXXXX) || exit 1
qpid= spid=
cleanup() {
	for p in $spid $qpid; do
		kill "$p" 2> /dev/null && wait "$p" 2> /dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$qemu" -M mps2-an385 -display none -monitor none \
	-serial "unix:$dir/mcu.sock,server=on,wait=off" -kernel "$elf" > "$dir/qemu.out" 2>&1 &
qpid=$!
n=0
while [ ! -S "$dir/mcu.sock" ]; do
	n=$((n + 1))
	if [ $n -gt 500 ] || ! kill -0 "$qpid" 2> /dev/null; then
		echo "FAIL: QEMU socket did not appear"; cat "$dir/qemu.out"; exit 1
	fi
	sleep 0.01
done
socat "PTY,link=$dir/tty,raw,echo=0" "UNIX-CONNECT:$dir/mcu.sock" > "$dir/socat.out" 2>&1 &
spid=$!
n=0
while [ ! -e "$dir/tty" ]; do
	n=$((n + 1))
	if [ $n -gt 500 ] || ! kill -0 "$spid" 2> /dev/null; then
		echo "FAIL: socat pty did not appear"; cat "$dir/socat.out"; exit 1
	fi
	sleep 0.01
done

fails=0 checks=0
# mb ARGS...: one mbpoll transaction, 0-based PDU addresses; output in $out, status in $rc.
mb() {
	out=$(mbpoll -m rtu -b 115200 -P none -a 1 -0 -1 -o 1 "$@" "$dir/tty" 2>&1)
	rc=$?
}
mbw() { # mbw ARGS... -- VALUES: a write
	out=$(mbpoll -m rtu -b 115200 -P none -a 1 -0 -1 -o 1 "$@" 2>&1)
	rc=$?
}
ok() {
	checks=$((checks + 1))
	echo "ok   $1"
}
bad() {
	checks=$((checks + 1)) fails=$((fails + 1))
	echo "FAIL $1"
	printf '%s\n' "$out" | sed 's/^/     | /'
}
# value REF: the value mbpoll printed for reference REF ("[REF]: value")
value() {
	printf '%s\n' "$out" | sed -n "s/^\[$1\]:[ \t]*\([-0-9A-Fa-fx]*\).*/\1/p"
}
expect() { # expect NAME REF WANT
	v=$(value "$2")
	if [ "$rc" -eq 0 ] && [ "$v" = "$3" ]; then
		ok "$1 = $3"
	else
		bad "$1: want $3, got '$v' (rc $rc)"
	fi
}
expect_exception() { # expect_exception NAME TEXT
	if [ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -qi "$2"; then
		ok "$1: $2"
	else
		bad "$1: want exception '$2' (rc $rc)"
	fi
}

# First probe: retry until the firmware answers (QEMU start-up).
n=0
while :; do
	mb -t 3 -r 0
	[ "$rc" -eq 0 ] && break
	n=$((n + 1))
	if [ $n -ge 20 ]; then
		bad "firmware does not answer"
		exit 1
	fi
	sleep 0.2
done

hash=$(sed -n 's/.*FW_BUILD_HASH \(0x[0-9a-fA-F]*\)u.*/\1/p' "$build_h")
vmaj=$(sed -n 's/^#define FW_VERSION_MAJOR[ \t]*\([0-9]*\)$/\1/p' "$version_h")
vmin=$(sed -n 's/^#define FW_VERSION_MINOR[ \t]*\([0-9]*\)$/\1/p' "$version_h")
vpat=$(sed -n 's/^#define FW_VERSION_PATCH[ \t]*\([0-9]*\)$/\1/p' "$version_h")

# Identity block: input registers 0..6 in one request (FC 04).
mb -t 3 -r 0 -c 7
expect "board id" 0 1
expect "fw major" 1 "$vmaj"
expect "fw minor" 2 "$vmin"
expect "fw patch" 3 "$vpat"
expect "build hash hi" 4 $(($hash >> 16 & 0xFFFF))
expect "build hash lo" 5 $(($hash & 0xFFFF))
expect "regmap version" 6 1

# Exception 04: PTT refused while in safe state (no heartbeat yet), FC 05.
mbw -t 0 -r 0 "$dir/tty" 1
expect_exception "PTT in safe state" "failure"

# Heartbeat time-out at its maximum, then a heartbeat (FC 06), so safe state is left.
mbw -t 4 -r 2 "$dir/tty" 60000
mbw -t 4 -r 3 "$dir/tty" 1
# A holding register written (FC 06) and read back (FC 03).
mbw -t 4 -r 4 "$dir/tty" 55
if [ "$rc" -eq 0 ]; then ok "write debounce 55"; else bad "write debounce 55"; fi
mb -t 4 -r 4
expect "debounce read back" 4 55
mb -t 4 -r 2
expect "hb timeout read back" 2 60000

# Force the AUX coil (FC 05), read it (FC 01) and the output pin (test register 0x100).
mbw -t 0 -r 1 "$dir/tty" 1
if [ "$rc" -eq 0 ]; then ok "force AUX on"; else bad "force AUX on"; fi
mb -t 0 -r 1
expect "AUX coil" 1 1
mb -t 3 -r 256
v=$(value 256)
if [ "$rc" -eq 0 ] && [ $((${v:-0} & 2)) -eq 2 ]; then ok "AUX pin on ($v)"; else bad "AUX pin"; fi
mbw -t 0 -r 1 "$dir/tty" 0
mb -t 0 -r 1
expect "AUX coil off" 1 0
mb -t 3 -r 256
v=$(value 256)
if [ "$rc" -eq 0 ] && [ $((${v:-2} & 2)) -eq 0 ]; then ok "AUX pin off ($v)"; else bad "AUX"; fi

# Exception 02: input register past the block; exception 03: debounce above its maximum.
mb -t 3 -r 19
expect_exception "input register 0x13" "illegal data address"
mbw -t 4 -r 4 "$dir/tty" 1001
expect_exception "debounce 1001" "illegal data value"
mb -t 4 -r 4
expect "debounce unchanged" 4 55

echo "mbpoll: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
