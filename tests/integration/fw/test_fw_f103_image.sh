#!/bin/sh
# test_fw_f103_image.sh: the STM32F103 board's signed slot image on the host, without QEMU or a
# board (QEMU has no usable STM32 machine, shared/reference/firmware-qemu.md).
#
#   RINKI_FLASH=build/san/bin/rinki-flash FW_F103_DIR=build/fw/stm32f103 \
#   tests/integration/fw/test_fw_f103_image.sh     (rinki-flash with the build's key built in)
#
# Checks with `rinki-flash check` (the checks flash makes before it opens the port, plus the
# board id the bootloader would report): fw.img is accepted for the STM32F103 board id, refused
# for the QEMU board's id and the mps2 image refused for the STM32 one; a flipped payload byte
# (CRC), a flipped signature byte (Ed25519) and a flipped board id byte are each refused. The
# load address of each image is where app-a.elf / app-b.elf have their vector table, so the
# bootloader's START check (load address = its target slot + 256) would pass.
set -u

tool=${RINKI_FLASH:-build/san/bin/rinki-flash}
dir=${FW_F103_DIR:-build/fw/stm32f103}
mps2_img=${FW_MPS2_IMG:-build/fw/fw.img}
img=$dir/fw.img
board_f103=0x0100 # RINKI_BOARD_ID_REV_A
board_mps2=0x0001 # RINKI_BOARD_ID_QEMU_MPS2

for f in "$tool" "$img" "$mps2_img" "$dir/app-a.elf" "$dir/app-b.elf"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: $f not readable (run make firmware)"
		exit 1
	fi
done
tmp=$(mktemp -d /tmp/rinki-f103img.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
fails=0

# expect RC WHAT GREP ARGS...: run rinki-flash check, compare exit status and output.
expect() {
	want=$1 what=$2 pattern=$3
	shift 3
	"$tool" check "$@" > "$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
		echo "FAIL: $what: exit $rc (want $want), output:"
		sed 's/^/  /' "$tmp/out"
		fails=$((fails + 1))
	else
		echo "ok: $what: $(tail -n 1 "$tmp/out")"
	fi
}

# flip FILE OFFSET: copy of the image with one byte inverted, in $tmp/bad.img
flip() {
	cp "$1" "$tmp/bad.img"
	b=$(od -An -tu1 -j "$2" -N1 "$tmp/bad.img" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$tmp/bad.img" bs=1 seek="$2" conv=notrunc 2> /dev/null
}

u32() { # u32 FILE OFFSET: little-endian word as 0x%08x
	od -An -tx4 -j "$2" -N4 "$1" | tr -d ' ' | sed 's/^/0x/'
}

expect 0 "STM32 image for the STM32 board" "board $board_f103, signature good" \
	--board $board_f103 "$img"
expect 1 "STM32 image for the QEMU board" "is for board $board_f103, not $board_mps2" \
	--board $board_mps2 "$img"
expect 1 "QEMU image for the STM32 board" "is for board $board_mps2, not $board_f103" \
	--board $board_f103 "$mps2_img"
len_a=$(($(u32 "$img" 24)))
flip "$img" $((128 + len_a / 2))
expect 1 "flipped payload byte" "payload CRC mismatch" --board $board_f103 "$tmp/bad.img"
flip "$img" $((64 + 7))
expect 1 "flipped signature byte" "bad signature" --board $board_f103 "$tmp/bad.img"
flip "$img" 6
expect 1 "flipped board id byte" "header CRC mismatch" --board $board_f103 "$tmp/bad.img"

# Load addresses: image A at offset 0, image B after A's payload.
off_b=$((128 + len_a))
for s in a:0 b:$off_b; do
	vec=$(arm-none-eabi-nm "$dir/app-${s%%:*}.elf" | awk '$3 == "vectors" { print "0x" $1 }')
	load=$(u32 "$img" $((${s#*:} + 20)))
	if [ "$vec" != "$load" ]; then
		echo "FAIL: slot ${s%%:*}: image load address $load, vector table of the elf at $vec"
		fails=$((fails + 1))
	else
		echo "ok: slot ${s%%:*}: load address $load = vector table of app-${s%%:*}.elf"
	fi
done

if [ $fails -ne 0 ]; then
	echo "FAIL: $fails check(s)"
	exit 1
fi
echo "PASS: STM32F103 signed image"
