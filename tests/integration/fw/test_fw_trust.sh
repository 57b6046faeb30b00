#!/bin/sh
# test_fw_trust.sh: whose images rinki-flash accepts (issue 18, firmware trust), on the host.
#
#   RINKI_FLASH=build/san/bin/rinki-flash RINKI_FLASH_RELKEY=build/san/bin/rinki-flash-relkey \
#   RINKI_FLASH_SIGN=build/rinki-flash-sign FW_IMG_DIR=build/fw \
#   tests/integration/fw/test_fw_trust.sh
#
# rinki-flash trusts the key built into it, never one named on the command line or in the
# environment: an image signed with another key is refused, `--pubkey` is an error, the old
# RINKI_FLASH_PUBKEY is ignored. Only a build whose built-in key is the TEST KEY takes
# --dev-pubkey (and says DEVELOPMENT KEY OVERRIDE); one with a release key refuses it and
# refuses the TEST KEY's images. The signing tool (no key built in) verifies nothing.
set -u

tool=${RINKI_FLASH:-build/san/bin/rinki-flash}
rel=${RINKI_FLASH_RELKEY:-build/san/bin/rinki-flash-relkey}
sign=${RINKI_FLASH_SIGN:-build/rinki-flash-sign}
dir=${FW_IMG_DIR:-build/fw}

for f in "$tool" "$rel" "$sign" "$dir/fw.img" "$dir/app-a.bin" "$dir/app-b.bin"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: $f not readable (run make firmware build/san/bin/rinki-flash-relkey)"
		exit 1
	fi
done
tmp=$(mktemp -d /tmp/rinki-fwtrust.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
fails=0

# expect RC WHAT GREP CMD...: run CMD, compare exit status and output (stdout and stderr).
expect() {
	want=$1 what=$2 pattern=$3
	shift 3
	"$@" > "$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/out"; then
		echo "FAIL: $what: exit $rc (want $want), output:"
		sed 's/^/  /' "$tmp/out"
		fails=$((fails + 1))
	else
		echo "ok: $what: $(tail -n 1 "$tmp/out")"
	fi
}

# An attacker's key and an image signed with it (the real payloads, the right board).
"$sign" keygen "$tmp/other" > /dev/null || exit 1
"$sign" pack -k "$tmp/other.sec" --board 1 --version 9.9.9 -o "$tmp/other.img" \
	0x00001100="$dir/app-a.bin" 0x0000B100="$dir/app-b.bin" > /dev/null || exit 1

expect 0 "package image, built-in TEST KEY" "signature good (built-in key, TEST KEY)" \
	"$tool" check "$dir/fw.img"
expect 1 "image signed with another key" "bad signature: not signed by the built-in key" \
	"$tool" check "$tmp/other.img"
expect 2 "--pubkey names the other key" "--pubkey is gone" \
	"$tool" --pubkey "$tmp/other.pub" check "$tmp/other.img"
expect 1 "RINKI_FLASH_PUBKEY names the other key" "bad signature" \
	env RINKI_FLASH_PUBKEY="$tmp/other.pub" "$tool" check "$tmp/other.img"
expect 1 "flash with the other key's image, no port opened" "bad signature" \
	"$tool" -p /nonexistent/ttyX flash "$tmp/other.img"
expect 0 "development build: --dev-pubkey" "DEVELOPMENT KEY OVERRIDE" \
	"$tool" --dev-pubkey "$tmp/other.pub" check "$tmp/other.img"

expect 2 "release build: --dev-pubkey refused" "trusts no other" \
	"$rel" --dev-pubkey "$tmp/other.pub" check "$tmp/other.img"
expect 1 "release build: TEST KEY image refused" "bad signature" \
	"$rel" check "$dir/fw.img"
expect 1 "release build: other key's image refused" "bad signature" \
	"$rel" check "$tmp/other.img"
expect 1 "signing tool verifies nothing" "no built-in public key" \
	"$sign" check "$dir/fw.img"

if [ $fails -ne 0 ]; then
	echo "FAIL: $fails check(s)"
	exit 1
fi
echo "PASS: firmware trust"
