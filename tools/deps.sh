#!/usr/bin/env bash
# Install the Debian packages rinki needs to build, test and run its demo.
# As root: installs what is missing with apt-get. Otherwise: prints the exact
# apt-get line and fails, so nothing half-works.
set -euo pipefail

# gateway and tools; then the I/O board firmware, built with the Arm toolchain and run in QEMU
PKGS=(gcc make pkg-config libserialport-dev libasound2-dev libmodbus-dev libsqlite3-dev
      libcmocka-dev libssl-dev libsodium-dev socat gcc-arm-none-eabi qemu-system-arm mbpoll)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "rinki needs these Debian packages; install them with:" >&2
	echo "  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
