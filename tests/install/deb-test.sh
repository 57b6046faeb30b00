#!/usr/bin/env bash
# deb-test: the Debian package in a clean Debian 12 root, as a board would get it.
#
#   make deb-test        (as root, by hand; not part of make test)
#
# Builds nothing itself: make deb-test has made build/deb/rinki_*.deb and the release
# simulators first. A bookworm root is made with mmdebstrap from the archive this machine's
# apt uses (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; DEB_TEST_MIRROR
# overrides) with the package's run-time dependencies already in it, and kept as a tarball
# under build/deb-test/ (named by a hash of the sources and the package list, so a rerun
# only unpacks it). Then, in that root (chroot, with /proc and the host's /dev so the
# simulators' ptys are seen):
#   1. apt-get installs the .deb; postinst made user and group rinki, the group rinki-admin,
#      the user rinki-web, /var/lib/rinki 0750 rinki:rinki, /etc/rinki/rinki.conf 0640
#      root:rinki, /etc/rinki/fw-entry.key 0440 rinki:rinki-admin (a conffile, a key in it,
#      not readable by another user), and systemd-tmpfiles can make every directory
#      rinki.tmpfiles names;
#   2. the installed rinkid --check-config accepts the installed configuration;
#   3. the installed rinkictl imports the demo roster as user rinki, and the installed rinkid
#      (started as root, dropping to rinki) on the installed configuration with only the two
#      ports changed to tetra-sim's and modem-sim's (run on the host) takes one authority
#      call, pages the worker on duty, bridges when she accepts, and closes the incident;
#   4. apt-get remove leaves the configuration and state; purge leaves neither (nor
#      /run/rinki), only the system users, as Debian does.
# Every step's output goes to the terminal and build/deb-test.log. Exit 0 only when all pass.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
OUT=$TOP/build/deb-test
LOG=$TOP/build/deb-test.log
ROOT=$OUT/root
TMO=${DEB_TEST_TIMEOUT:-30} # seconds for any event that must come
mkdir -p "$OUT"
exec > >(tee "$LOG") 2>&1

FAILS=0
MOUNTS=()
PIDS=()
step() { printf '\n== %s\n' "$*"; }
ok() { echo "deb-test: ok: $*"; }
bad() {
	echo "deb-test: FAIL: $*"
	FAILS=$((FAILS + 1))
}
die() {
	echo "deb-test: FAIL: $*"
	exit 1
}
cleanup() {
	local p i
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[i]}" 2>/dev/null; done
}
trap cleanup EXIT
in_root() { chroot "$ROOT" "$@"; }

[ "$(id -u)" -eq 0 ] || die "run as root (chroot, mounts, mmdebstrap --mode=root)"
command -v mmdebstrap > /dev/null || die "mmdebstrap is not installed (make deb-test installs it)"
debs=("$TOP"/build/deb/rinki_*.deb)
[ -f "${debs[0]}" ] || die "no build/deb/rinki_*.deb (make deb)"
[ ${#debs[@]} -eq 1 ] || die "more than one rinki .deb in build/deb: ${debs[*]}"
DEB=${debs[0]}
for s in tetra-sim modem-sim; do [ -x "build/$s" ] || die "build/$s missing (make)"; done

# --- the base root ------------------------------------------------------------------------
step "base root: Debian 12 with rinki's run-time dependencies"
if [ -n "${DEB_TEST_MIRROR:-}" ]; then
	MIRROR=$DEB_TEST_MIRROR
elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
	MIRROR=/etc/apt/sources.list.d/debian.sources
else
	MIRROR=/etc/apt/sources.list
fi
# Depends of the .deb, each alternative's first name, without versions
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' |
	grep -v '^$' | sort -u | tr '\n' ',' | sed 's/,$//')
echo "package: $(basename "$DEB")"
echo "depends: $deps"
echo "sources: $MIRROR"
key=$( (
	[ -f "$MIRROR" ] && cat "$MIRROR" || echo "$MIRROR"
	echo "$deps"
) | sha256sum | cut -c1-16)
BASE=$OUT/bookworm-$key.tar
if [ -s "$BASE" ]; then
	echo "cached: $BASE"
else
	rm -f "$OUT"/bookworm-*.tar
	t0=$(date +%s)
	# (the name must end in .tar: mmdebstrap picks its output format by it)
	mmdebstrap --mode=root --variant=important --include="$deps" bookworm "$OUT/new.tar" \
		"$MIRROR" || die "mmdebstrap failed"
	mv "$OUT/new.tar" "$BASE"
	echo "made $BASE in $(($(date +%s) - t0)) s"
fi
rm -rf "$ROOT" && mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$BASE" || die "cannot unpack $BASE"
pretty=$(sed -n 's/^PRETTY_NAME=//p' "$ROOT/etc/os-release")
echo "root: $ROOT, $pretty"
! in_root dpkg -s rinki > /dev/null 2>&1 || die "the base root already has rinki"
for m in proc dev; do
	if [ $m = proc ]; then
		mount -t proc proc "$ROOT/proc" || die "mount proc"
	else
		mount --rbind /dev "$ROOT/dev" || die "bind /dev"
		mount --make-rslave "$ROOT/dev"
	fi
	MOUNTS+=("$ROOT/$m")
done

# --- install --------------------------------------------------------------------------------
step "install: apt-get install ./$(basename "$DEB")"
cp "$DEB" "$ROOT/tmp/"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	"/tmp/$(basename "$DEB")" || die "apt-get install failed"
in_root dpkg -s rinki | grep -E '^(Status|Version):'

step "postinst: users, groups, modes"
in_root getent passwd rinki || bad "no user rinki"
in_root getent group rinki || bad "no group rinki"
in_root getent group rinki-admin || bad "no group rinki-admin"
in_root getent passwd rinki-web || bad "no user rinki-web (rinki-web.service's)"
in_root id rinki
in_root id -nG rinki | tr ' ' '\n' | grep -qx dialout || bad "rinki is not in dialout"
in_root id -nG rinki | tr ' ' '\n' | grep -qx audio || bad "rinki is not in audio"
# want PATH MODE OWNER:GROUP
want() {
	local got
	got=$(in_root stat -c '%a %U:%G' "$1" 2>&1)
	echo "$1: $got"
	[ "$got" = "$2 $3" ] || bad "$1 is '$got', expected '$2 $3'"
}
want /var/lib/rinki 750 rinki:rinki
want /etc/rinki/rinki.conf 640 root:rinki
in_root dpkg-statoverride --list /etc/rinki/rinki.conf || bad "no statoverride for rinki.conf"
grep -qx /etc/rinki/rinki.conf "$ROOT/var/lib/dpkg/info/rinki.conffiles" ||
	bad "rinki.conf is not a conffile"
# The firmware entry key: rinkid (rinki) and rinki-flash for rinki-admin read it, no one else.
want /etc/rinki/fw-entry.key 440 rinki:rinki-admin
in_root dpkg-statoverride --list /etc/rinki/fw-entry.key || bad "no statoverride for fw-entry.key"
grep -qx /etc/rinki/fw-entry.key "$ROOT/var/lib/dpkg/info/rinki.conffiles" ||
	bad "fw-entry.key is not a conffile"
grep -qx '[0-9a-fA-F]\{32\}' "$ROOT/etc/rinki/fw-entry.key" ||
	bad "fw-entry.key holds no 16-byte key"
in_root su -s /bin/sh -c 'head -c 1 /etc/rinki/fw-entry.key' nobody > /dev/null 2>&1 &&
	bad "user nobody can read fw-entry.key"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/rinkid.service" ] &&
	ok "rinkid.service enabled ($(readlink "$ROOT/etc/systemd/system/multi-user.target.wants/rinkid.service"))" ||
	bad "rinkid.service is not enabled"
[ -x "$ROOT/usr/sbin/rinkid" ] && [ -x "$ROOT/usr/bin/rinkictl" ] || bad "rinkid or rinkictl missing"
[ ! -e "$ROOT/usr/bin/tetra-sim" ] && [ ! -e "$ROOT/usr/bin/modem-sim" ] ||
	bad "the package installs a simulator"
n=$(find "$ROOT/usr/share/rinki/prompts" -name '*.wav' | wc -l)
echo "prompts: $n files under /usr/share/rinki/prompts"
[ "$n" -gt 0 ] || bad "no prompts installed"
[ "$FAILS" -eq 0 ] && ok "postinst"

step "rinkid --check-config (the installed configuration)"
in_root /usr/sbin/rinkid --version
if in_root /usr/sbin/rinkid -c /etc/rinki/rinki.conf --check-config; then
	ok "rinkid --check-config exit 0"
else
	bad "rinkid --check-config exit $?"
fi

# --- one authority call ------------------------------------------------------------------
step "one authority call: installed rinkid, tetra-sim and modem-sim on the host"
RUN=$ROOT/run/deb-test # inside the root as /run/deb-test
mkdir -p "$RUN"
# start_sim NAME: the simulator on the host, its control connection through socat; events
# (every line it reports) collect in $RUN/NAME.events
start_sim() {
	local name=$1 i
	"build/$name" --ctl "$RUN/$name.ctl" --link "$RUN/$name.tty" -v \
		< /dev/null > "$RUN/$name.out" 2> "$RUN/$name.err" &
	PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -S "$RUN/$name.ctl" ] && [ -L "$RUN/$name.tty" ] && break
		sleep 0.05
	done
	[ -S "$RUN/$name.ctl" ] || die "$name did not start: $(cat "$RUN/$name.err")"
	mkfifo "$RUN/$name.in"
	socat - "UNIX-CONNECT:$RUN/$name.ctl" < "$RUN/$name.in" > "$RUN/$name.events" &
	PIDS+=($!)
	local v=fd_${name//-/_}
	eval "exec {$v}>\"$RUN/$name.in\""
	echo "$name: $(readlink "$RUN/$name.tty")"
}
# cmd NAME LINE: send a control line (the reply lands in the events file)
cmd() {
	local fd=fd_${1//-/_}
	echo "$2" >&"${!fd}"
}
# wait_for FILE NEEDLE: until a line of FILE contains NEEDLE (fixed string), TMO at most
wait_for() {
	local i
	for ((i = 0; i < TMO * 10; i++)); do
		grep -qF -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
	done
	bad "no '$2' in $(basename "$1") within $TMO s"
	return 1
}
start_sim tetra-sim
start_sim modem-sim

# the installed configuration with the simulators' ports, the rest as shipped
sed -e 's|^radio\.port .*|radio.port /run/deb-test/tetra-sim.tty|' \
	-e 's|^modem\.port .*|modem.port /run/deb-test/modem-sim.tty|' \
	"$ROOT/etc/rinki/rinki.conf" > "$RUN/sim.conf"
chmod 0644 "$RUN/sim.conf"
diff "$ROOT/etc/rinki/rinki.conf" "$RUN/sim.conf"
cp tools/demo/roster.csv "$RUN/roster.csv"
chmod 0644 "$RUN/roster.csv"
in_root chroot --userspec=rinki:rinki / /usr/bin/rinkictl -d /var/lib/rinki/rinki.db \
	roster import /run/deb-test/roster.csv || bad "roster import as rinki failed"
in_root /usr/sbin/rinkid -c /run/deb-test/sim.conf --check-config &&
	ok "rinkid --check-config on the simulator configuration"
mkdir -p "$ROOT/run/rinki" && chown 0:0 "$ROOT/run/rinki"
in_root systemd-tmpfiles --create rinki.conf || bad "systemd-tmpfiles --create rinki.conf"
# chroot itself (not the in_root function, which would fork a shell): $! is rinkid's pid
chroot "$ROOT" /usr/sbin/rinkid -c /run/deb-test/sim.conf > "$RUN/rinkid.log" 2>&1 &
RINKID=$!
PIDS+=($RINKID)
wait_for "$RUN/rinkid.log" "terminal ready"
wait_for "$RUN/rinkid.log" "modem ready"
# the uid as the root's passwd names it (the host may give uid 100 another name)
uid=$(ps -o uid= -p "$RINKID" | tr -d ' ')
echo "rinkid (pid $RINKID) runs as uid $uid: $(in_root getent passwd "$uid" | cut -d: -f1)"
[ "$uid" = "$(in_root id -u rinki)" ] || bad "rinkid did not drop to rinki"
cmd modem-sim "callee default answer 2"
cmd tetra-sim "call 2269001"
wait_for "$RUN/tetra-sim.events" "ATA"
wait_for "$RUN/modem-sim.events" "ATD+358"
echo "paged: $(grep -o 'ATD+[0-9]*;' "$RUN/modem-sim.events" | head -n 1)"
wait_for "$RUN/rinkid.log" "answered"
cmd modem-sim "dtmf 4"
wait_for "$RUN/rinkid.log" "bridged: officer 2269001"
cmd tetra-sim "release 1 1"
wait_for "$RUN/rinkid.log" "incident closed: completed"
in_root chroot --userspec=rinki:rinki / /usr/bin/rinkictl -d /var/lib/rinki/rinki.db log show 1 ||
	bad "rinkictl log show failed"
kill "$RINKID"
wait "$RINKID"
rc=$?
echo "rinkid exit $rc on SIGTERM"
[ $rc -eq 0 ] || bad "rinkid exit $rc"
echo "-- rinkid's log:"
cat "$RUN/rinkid.log"
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
PIDS=()
rm -rf "$RUN"
in_root ls -la /var/lib/rinki

# --- remove, purge ---------------------------------------------------------------------------
step "apt-get remove rinki"
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y rinki || bad "apt-get remove failed"
[ ! -e "$ROOT/usr/sbin/rinkid" ] || bad "rinkid is still there after remove"
[ -f "$ROOT/etc/rinki/rinki.conf" ] && ok "rinki.conf kept after remove" ||
	bad "rinki.conf gone after remove (a conffile stays until purge)"
in_root dpkg -s rinki | grep '^Status:'

step "apt-get purge rinki"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y rinki || bad "apt-get purge failed"
for p in /etc/rinki /var/lib/rinki /var/lib/rinki-web /run/rinki \
	/etc/systemd/system/multi-user.target.wants/rinkid.service; do
	if [ -e "$ROOT$p" ] || [ -L "$ROOT$p" ]; then
		bad "$p left after purge: $(ls -ld "$ROOT$p")"
	else
		echo "gone: $p"
	fi
done
! in_root dpkg-statoverride --list /etc/rinki/rinki.conf || bad "statoverride left after purge"
! in_root dpkg-statoverride --list /etc/rinki/fw-entry.key ||
	bad "fw-entry.key's statoverride left after purge"
[ ! -e "$ROOT/etc/rinki/fw-entry.key" ] || bad "fw-entry.key left after purge"
in_root dpkg -s rinki > /dev/null 2>&1 && bad "dpkg still knows rinki after purge"
# Debian keeps system users on purge (they may own files elsewhere); show what is left
echo "user left (Debian practice): $(in_root getent passwd rinki || echo none)"

echo
if [ "$FAILS" -eq 0 ]; then
	echo "deb-test: PASS ($(basename "$DEB") installed, checked, ran one call, removed, purged)"
	exit 0
fi
echo "deb-test: $FAILS check(s) FAILED"
exit 1
