#!/bin/sh
# The package's secrets as they are unpacked, before postinst runs: on a first install dpkg
# gives each file the owner and mode packed in the .deb (a dpkg-statoverride applies only once
# postinst has made it), so a file packed readable by all is readable by every local user
# from unpack until configure. rinki.conf (SIM PIN, database and sync credentials) and the
# bootloader entry key must be packed root-owned with no permission for others. Part of
# `make deb` (so of make test): deb-modes.sh PACKAGE.deb
set -eu
deb=$1
fail=0
list=$(dpkg-deb --fsys-tarfile "$deb" | tar -tvf -)
for f in ./etc/rinki/rinki.conf ./etc/rinki/fw-entry.key; do
	line=$(printf '%s\n' "$list" | awk -v f="$f" '$NF == f')
	if [ -z "$line" ]; then
		echo "deb-modes: FAIL: $f is not in $deb" >&2
		fail=1
		continue
	fi
	mode=$(printf '%s\n' "$line" | cut -c1-10)
	owner=$(printf '%s\n' "$line" | awk '{print $2}')
	case "$mode" in
	-??????---) ;;
	*)
		echo "deb-modes: FAIL: $f is packed $mode: readable by every user until postinst" >&2
		fail=1
		;;
	esac
	[ "$owner" = root/root ] || {
		echo "deb-modes: FAIL: $f is packed owned by $owner, not root/root" >&2
		fail=1
	}
	[ $fail = 1 ] || echo "deb-modes: $f packed $mode $owner"
done
exit $fail
