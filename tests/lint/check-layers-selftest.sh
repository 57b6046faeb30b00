#!/usr/bin/env bash
# Shows that check-layers.sh can fail: a copy of gateway/ with one planted upward include
# (a driver including a service header), one planted rinkid.h include and a service module
# other than the wiring (service/rinkid.c) including the control socket must be refused.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/../../gateway" "$tmp/gateway"
mkdir -p "$tmp/tools"
"$here/check-layers.sh" "$tmp" >/dev/null
printf '#include "service/call.h"\n' >>"$tmp/gateway/radio/pei.c"
printf '#include "service/rinkid.h"\n' >>"$tmp/gateway/store/db.c"
printf '#include "ctl/ctl.h"\n' >>"$tmp/gateway/service/call.c"
if out=$("$here/check-layers.sh" "$tmp"); then
	echo "check-layers-selftest: planted violations were not found"; exit 1
fi
echo "$out" | grep -q 'gateway/radio/pei.c:.*may not include "service/call.h"' ||
	{ echo "check-layers-selftest: upward include not named: $out"; exit 1; }
echo "$out" | grep -q 'gateway/store/db.c:.*service/rinkid.h' ||
	{ echo "check-layers-selftest: rinkid.h include not named: $out"; exit 1; }
echo "$out" | grep -q 'gateway/service/call.c:.*may not include "ctl/ctl.h"' ||
	{ echo "check-layers-selftest: service including ctl not named: $out"; exit 1; }
echo "check-layers-selftest: the three planted violations refused"
