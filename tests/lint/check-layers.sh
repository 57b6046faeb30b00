#!/usr/bin/env bash
# Enforces the gateway's layer rules (README "Gateway layers"): a file in gateway/<layer>/
# may include only headers of the layers listed for it, plus include/rinki/ and system
# headers; only gateway/main.c and tests may include service/rinkid.h. The wiring itself,
# gateway/service/rinkid.[ch], builds every module, the control socket too: it may include
# every layer (ctl included) and its own header; no other service file may include ctl.
# Usage: check-layers.sh [TREE] (default: this checkout).
# Prints every violation as file:line and exits 1 if there is any.
set -u
cd "${1:-$(dirname "$0")/../..}"

allowed() {
	case "$1" in
	core) echo "core" ;;
	link) echo "core link" ;;
	radio) echo "core link radio" ;;
	phone) echo "core link phone" ;;
	board) echo "core board" ;;
	voice) echo "core voice" ;;
	store) echo "core store" ;;
	service) echo "core link radio phone board voice store service" ;;
	ctl) echo "core link radio phone board voice store service ctl" ;;
	*) echo "?" ;;
	esac
}

bad=0
checked=0
for f in gateway/*/*.[ch]; do
	layer=${f#gateway/}
	layer=${layer%%/*}
	ok=$(allowed "$layer")
	if [ "$ok" = "?" ]; then
		echo "$f: folder '$layer' is not a known layer (add it to tests/lint/check-layers.sh)"
		bad=1
		continue
	fi
	wiring=0
	case "$f" in
	gateway/service/rinkid.[ch]) ok="$(allowed ctl)"; wiring=1 ;;
	esac
	checked=$((checked + 1))
	while IFS=: read -r line inc; do
		dir=${inc%%/*}
		[ "$dir" = "$inc" ] && { echo "$f:$line: \"$inc\" names no layer folder"; bad=1; continue; }
		[ "$dir" = rinki ] && continue
		case " $ok " in
		*" $dir "*) ;;
		*) echo "$f:$line: layer '$layer' may not include \"$inc\" (allowed: $ok)"; bad=1 ;;
		esac
		if [ "$inc" = service/rinkid.h ] && [ $wiring -eq 0 ]; then
			echo "$f:$line: only gateway/main.c and tests include service/rinkid.h"
			bad=1
		fi
	done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
done
for f in $(grep -l '#include "service/rinkid.h"' tools/*.c tools/*/*.c 2>/dev/null); do
	echo "$f: only gateway/main.c and tests include service/rinkid.h"
	bad=1
done
if [ $bad -ne 0 ]; then
	echo "check-layers: FAILED"
	exit 1
fi
echo "check-layers: $checked files in gateway/*/ follow the layer rules"
