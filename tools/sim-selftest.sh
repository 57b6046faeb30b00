#!/usr/bin/env bash
# sim-selftest: drive tetra-sim and modem-sim through their pty and control socket and
# check a few exchanges of each. Exits non-zero on the first mismatch.
#
#   tools/sim-selftest.sh [BINDIR]        (default BINDIR: build, the release binaries)
#   SIM_WRAP="valgrind -q --error-exitcode=99" tools/sim-selftest.sh   (run the sims under a tool)
#
# Needs bash, socat and stty. The control connection is `socat - UNIX-CONNECT:<sock>` on two
# FIFOs; the pty is opened directly by the shell. Every process started here is stopped by
# pid on exit, and its exit status is checked.
set -u

BINDIR=${1:-build}
WRAP=${SIM_WRAP:-}
# seconds to wait for any line that must come (a bound, not a pace: a slow machine only makes
# a failure take longer to report); SIM_SELFTEST_TMO overrides it
TMO=${SIM_SELFTEST_TMO:-30}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sim-selftest.XXXXXX")
SIM_PID=
SOCAT_PID=
PTY_FD=
CTL_W=
CTL_R=
EVENTS=()
CHECKS=0

cleanup() {
	[[ -n $SOCAT_PID ]] && kill "$SOCAT_PID" 2>/dev/null
	[[ -n $SIM_PID ]] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	echo "  sim stderr (last lines):" >&2
	tail -n 5 "$WORK/sim.err" 2>/dev/null | sed 's/^/    /' >&2
	exit 1
}

pass() {
	CHECKS=$((CHECKS + 1))
	[[ -n ${VERBOSE:-} ]] && echo "ok: $*"
	return 0
}

# start_sim NAME ARGS... : start a sim, connect the control socket, open the pty.
start_sim() {
	local name=$1
	shift
	EVENTS=()
	rm -f "$WORK/sim.out" "$WORK/ctl.in" "$WORK/ctl.out"
	$WRAP "$BINDIR/$name" --ctl "$WORK/ctl.sock" --link "$WORK/tty" "$@" \
		</dev/null >"$WORK/sim.out" 2>"$WORK/sim.err" &
	SIM_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $WORK/sim.out && -S $WORK/ctl.sock ]] && break
		sleep 0.05
	done
	local first
	read -r first <"$WORK/sim.out" || fail "$name printed nothing"
	[[ $first =~ ^pty\ (/dev/pts/[0-9]+)$ ]] || fail "$name first line '$first'"
	PTY=${BASH_REMATCH[1]}
	[[ $(readlink "$WORK/tty") == "$PTY" ]] || fail "--link does not point to $PTY"
	pass "start $name on $PTY"

	mkfifo "$WORK/ctl.in" "$WORK/ctl.out"
	socat - "UNIX-CONNECT:$WORK/ctl.sock" <"$WORK/ctl.in" >"$WORK/ctl.out" &
	SOCAT_PID=$!
	exec {CTL_W}>"$WORK/ctl.in" {CTL_R}<"$WORK/ctl.out"
	ctl_ok state '^ok ' # connected: events from here on reach us
	open_pty "$PTY"
}

open_pty() {
	[[ -n $PTY_FD ]] && exec {PTY_FD}<&-
	exec {PTY_FD}<>"$1" || fail "open $1"
	stty -F "$1" raw -echo 115200 || fail "stty $1"
	PTY=$1
}

# stop_sim: send quit (or the given signal) and check the exit status and cleanup.
stop_sim() {
	local how=${1:-quit} st
	if [[ $how == quit ]]; then
		ctl quit
		[[ $REPLY_LINE == ok ]] || fail "quit -> '$REPLY_LINE'"
	else
		kill "-$how" "$SIM_PID"
	fi
	wait "$SIM_PID"
	st=$?
	[[ $st == 0 ]] || fail "sim exit status $st after $how"
	SIM_PID=
	[[ ! -e $WORK/ctl.sock && ! -e $WORK/tty ]] || fail "socket or link left behind"
	pass "stop by $how"
	exec {CTL_W}>&- {CTL_R}<&- {PTY_FD}<&-
	PTY_FD=
	wait "$SOCAT_PID" 2>/dev/null
	SOCAT_PID=
}

# at CMD : write CMD + CR to the pty.
at() {
	printf '%s\r' "$1" >&"$PTY_FD"
}

# expect LINE... : the next non-empty pty lines must be exactly these (CR stripped).
expect() {
	local want got
	for want in "$@"; do
		while :; do
			IFS= read -r -t "$TMO" got <&"$PTY_FD" || fail "pty: wanted '$want', got nothing"
			got=${got//$'\r'/}
			[[ -n $got ]] && break
		done
		[[ $got == "$want" ]] || fail "pty: wanted '$want', got '$got'"
	done
	pass "pty $*"
}

# expect_prompt : the next pty bytes must be the SMS prompt "\r\n> " (no CRLF after it).
# (Not `read -N`: on a tty bash switches to its own mode for that, which turns CR into LF.)
expect_prompt() {
	local got
	got=$(timeout "$TMO" dd bs=1 count=4 status=none <&"$PTY_FD" | od -An -tx1 | tr -d ' \n')
	[[ $got == 0d0a3e20 ]] || fail "pty: wanted the prompt 0d0a3e20, got '$got'"
	pass "prompt"
}

# quiet SECONDS : nothing may arrive on the pty for that long.
quiet() {
	local got
	if IFS= read -r -t "$1" got <&"$PTY_FD"; then
		fail "pty: wanted silence, got '${got//$'\r'/}'"
	fi
	pass "quiet"
}

# ctl CMD : send a control command; the reply line goes to REPLY_LINE, events to EVENTS.
ctl() {
	local line
	printf '%s\n' "$1" >&"$CTL_W"
	while IFS= read -r -t "$TMO" line <&"$CTL_R"; do
		if [[ $line == event\ * ]]; then
			EVENTS+=("$line")
			continue
		fi
		REPLY_LINE=$line
		return 0
	done
	fail "ctl '$1': no reply"
}

# ctl_ok CMD [REGEX] : the reply must match REGEX (default: ok or ok t=<n>).
ctl_ok() {
	ctl "$1"
	[[ $REPLY_LINE =~ ${2:-^ok( t=[0-9]+)?$} ]] || fail "ctl '$1' -> '$REPLY_LINE'"
	pass "ctl $1"
}

ctl_err() {
	ctl "$1"
	[[ $REPLY_LINE == err\ * ]] || fail "ctl '$1' should fail, got '$REPLY_LINE'"
	pass "ctl $1 rejected"
}

# event REGEX : an event line matching REGEX must be (or arrive) in EVENTS; consumes it.
event() {
	local i line
	local deadline=$((SECONDS + TMO))
	while :; do
		for i in "${!EVENTS[@]}"; do
			if [[ ${EVENTS[$i]} =~ $1 ]]; then
				unset 'EVENTS[i]'
				EVENTS=("${EVENTS[@]}")
				pass "event $1"
				return 0
			fi
		done
		((SECONDS <= deadline)) || fail "no event matching '$1'"
		IFS= read -r -t 1 line <&"$CTL_R" && EVENTS+=("$line")
	done
}

test_tetra() {
	start_sim tetra-sim --issi 2001

	at AT
	expect OK
	event '^event rx ([0-9]+) AT$'
	local t_rx=${BASH_REMATCH[1]}
	event '^event tx ([0-9]+) OK$'
	((BASH_REMATCH[1] >= t_rx)) || fail "tx time before rx time"
	pass "rx/tx timestamps ordered"

	at 'AT+CNUMF?'
	expect '+CNUMF: 6,02440000100002001' OK
	at 'AT+CTOM=1'
	expect OK
	at 'AT+CTOM?'
	expect '+CTOM: 1' OK
	at 'AT+CREG?'
	expect '+CREG: 1,1,2440001' OK
	at 'AT+CTOM=9'
	expect '+CME ERROR: 35'
	at 'AT+BOGUS'
	expect '+CME ERROR: 35'
	printf 'AT+CSQ?\r\n' >&"$PTY_FD" # CRLF accepted as well
	expect '+CSQ: 25,99' OK

	# incoming individual call, answered, talker, own PTT, release
	ctl_ok 'call 1234' '^ok cci=1 t=[0-9]+ t0=[0-9]+$'
	expect '+CTICN: 1,0,0,0,1234,0,0,0,0,1,0,2001,0'
	ctl_ok state '^ok calls=1 1:ringing$'
	at ATA
	expect OK '+CTCC: 1,0,0,0,0,0,1'
	at ATA
	expect '+CME ERROR: 3'
	at 'AT+CLCC'
	expect '+CLCC: 1,1,0,0,0' OK
	pass "AT+CLCC lists the live call"
	ctl_ok 'talker 1 1234'
	expect '+CTXG: 1,3,0,0,0,1234'
	ctl_ok 'cease 1'
	expect '+CDTXC: 1,0'
	at 'AT+CTXD=1,1'
	expect OK '+CTXG: 1,0,0,0'
	ctl_ok state '^ok calls=1 1:tx$'
	at 'AT+CUTXC=1'
	expect OK
	at 'AT+CTXD=7,1'
	expect '+CME ERROR: 3'
	ctl_ok 'release 1 13'
	expect '+CTCR: 1,13'
	ctl_ok state '^ok calls=0$'

	# call options, TSI caller, group call, ATH releases all
	ctl_ok 'call 09011638300023404 hook=1 simplex=1 prio=3 cci=7 called=55' \
		'^ok cci=7 t=[0-9]+ t0=[0-9]+$'
	expect '+CTICN: 7,0,0,5,09011638300023404,1,1,0,0,1,0,55,3'
	ctl_ok 'group 1002 9001' '^ok cci=2 t=[0-9]+ t0=[0-9]+$'
	expect '+CTICN: 2,0,0,0,1002,1,1,0,1,1,0,9001,0'
	at ATH
	expect OK '+CTCR: 7,1' '+CTCR: 2,1'
	event '^event released 7 1$'
	event '^event released 2 1$'

	# outgoing call
	at 'AT+CTSDC=0,0,0,1,1,0,1,1,0,0'
	expect OK
	at 'ATD9001'
	expect OK '+CTOCP: 3,2'
	ctl_ok 'answer-out 3'
	expect '+CTCC: 3,1,1,0,0,1,1'
	ctl_err 'answer-out 3'
	ctl_ok 'release 3 1'
	expect '+CTCR: 3,1'

	# SDS from the host: AT+CMGS, CRLF, hex, Ctrl-Z
	printf 'AT+CMGS=23404,048\r\n820401014869\x1a' >&"$PTY_FD"
	expect '+CMGS: 0' OK '+CMGS: 0,4,1'
	event '^event sds-out 23404 820401014869$'
	printf 'AT+CMGS=23404,048\r\n8204XY014869\x1a' >&"$PTY_FD"
	expect '+CME ERROR: 35'
	printf '8002\x1a' >&"$PTY_FD"
	expect '+CME ERROR: 36'
	ctl_ok 'cmgs-status 5'
	printf 'AT+CMGS=2002,16\r8002\x1a' >&"$PTY_FD"
	expect '+CMGS: 1' OK '+CMGS: 1,5,1'

	# SDS to the host
	ctl_ok 'sds-text 1234 Hyvää yötä' '^ok ref=1 t=[0-9]+$'
	expect '+CTSDSR: 12,1234,0,2001,0,112' '82040101487976E4E42079F674E4'
	ctl_err 'sds-text 1234 Ω'
	ctl_ok 'sds-fwd 1234 123 Tallenna' '^ok ref=2 t=[0-9]+$'
	expect '+CTSDSR: 12,1234,0,2001,0,128' '8205021B0312300154616C6C656E6E61'
	ctl_ok 'sds-fwd 1234 1234 Hi' '^ok ref=3 t=[0-9]+$'
	expect '+CTSDSR: 12,1234,0,2001,0,80' '8205031B041234014869'
	ctl_err 'sds-fwd 1234 12a4 Hi'
	ctl_ok 'sds-pdu 1234 12 56 8202011A0041FF'
	expect '+CTSDSR: 12,1234,0,2001,0,56' '8202011A0041FF'
	ctl_err 'sds-pdu 1234 12 64 8202011A0041FF'
	ctl_err 'sds-pdu 1234 12 4096 82'
	ctl_ok 'sds-status 1234 8002'
	expect '+CTSDSR: 13,1234,0,2001,0,16' '8002'
	ctl_ok 'sds-report 1234 1'
	expect '+CTSDSR: 12,1234,0,2001,0,32' '82100001'

	# bad control commands
	ctl_err 'call 12345678901'
	ctl_err 'call 1234 hook=2'
	ctl_err 'talker 99 1234'
	ctl_err 'rawbytes 4'
	ctl_err 'frobnicate'

	# forced error, echo, silence, raw output
	ctl_ok 'cme 42'
	at AT
	expect '+CME ERROR: 42'
	at ATE1
	expect OK # typed while echo was off: not echoed
	at AT
	expect AT OK
	at ATE0
	expect ATE0 OK
	ctl_ok 'silent on'
	at AT
	quiet 0.5
	event '^event rx [0-9]+ AT$'
	ctl_ok 'silent off'
	ctl_ok 'raw +CTOM: 5'
	expect '+CTOM: 5'
	ctl_ok 'rawbytes 410D0A'
	expect A
	event '^event tx [0-9]+ A\\x0D\\x0A$'

	# reboot banner drops calls and resets echo
	ctl_ok 'call 1234' '^ok cci=4 t=[0-9]+ t0=[0-9]+$'
	expect '+CTICN: 4,0,0,0,1234,0,0,0,0,1,0,2001,0'
	ctl_ok 'echo on'
	ctl_ok banner
	expect '+CTOM: 0'
	ctl_ok state '^ok calls=0$'
	at AT
	expect OK

	# unplug/replug
	local old=$PTY
	ctl_ok hangup-port '^ok pty=/dev/pts/[0-9]+$'
	local new=${REPLY_LINE#ok pty=}
	event "^event pty $new\$"
	[[ $(sed -n 2p "$WORK/sim.out") == "pty $new" ]] || fail "second pty line missing"
	[[ $(readlink "$WORK/tty") == "$new" ]] || fail "link not updated"
	pass "hangup-port $old -> $new"
	open_pty "$new"
	at AT
	expect OK

	# scenario replies: dial-reply, floor-reply, grant/interrupt/txwait, sds-during-tx
	at 'AT+CTSDC=0,0,0,0,1,0,0,1,0,0'
	expect OK
	ctl_ok 'dial-reply answer'
	at 'ATD9002'
	expect OK '+CTOCP: 5,2' '+CTCC: 5,0,1,0,0,0,1'
	ctl_ok 'floor-reply queue'
	at 'AT+CTXD=5,1'
	expect OK '+CTXG: 5,2,0,0'
	ctl_ok 'grant 5'
	expect '+CTXG: 5,0,0,0'
	ctl_err 'grant 5'
	ctl_ok 'txwait 5'
	expect '+CTXW: 5,0'
	ctl_ok 'interrupt 5 2269009'
	expect '+CTXI: 5,0,0,0,2269009'
	ctl_ok 'floor-reply refuse'
	at 'AT+CTXD=5,1'
	expect OK '+CTXG: 5,1,0,0'
	ctl_ok 'floor-reply busy'
	at 'AT+CTXD=5,1'
	expect '+CME ERROR: 3'
	ctl_err 'floor-reply maybe'
	ctl_ok 'sds-during-tx refuse'
	printf 'AT+CMGS=23404,16\r\n8002\x1a' >&"$PTY_FD"
	expect '+CME ERROR: 42'
	event '^event sds-refused 23404 8002$'
	ctl_ok 'cease 5'
	expect '+CDTXC: 5,0'
	ctl_ok 'release 5 1'
	expect '+CTCR: 5,1'
	ctl_ok 'dial-reply reject 2'
	at 'ATD9003'
	expect OK '+CTOCP: 6,2' '+CTCR: 6,2'
	ctl_ok 'dial-reply refuse'
	at 'ATD9004'
	expect '+CME ERROR: 3'
	ctl_err 'dial-reply answer 3'
	ctl_ok state '^ok calls=0$'

	# silent reboot: no banner, no +CTCR, then the power-up state
	ctl_ok 'call 1234 cci=9' '^ok cci=9 t=[0-9]+ t0=[0-9]+$'
	expect '+CTICN: 9,0,0,0,1234,0,0,0,0,1,0,2001,0'
	ctl_ok 'reboot-silent 0.2 mode=1'
	event '^event power-up mode=1$'
	ctl_ok state '^ok calls=0$'
	at 'AT+CTOM?'
	expect 'AT+CTOM?' '+CME ERROR: 35'
	at 'AT+CTOM?'
	expect 'AT+CTOM?' '+CTOM: 1' OK
	at 'ATE0'
	expect 'ATE0' OK
	# call identifiers start from 1 again
	ctl_ok 'call 1234' '^ok cci=1 t=[0-9]+ t0=[0-9]+$'
	expect '+CTICN: 1,0,0,0,1234,0,0,0,0,1,0,2001,0'
	ctl_ok 'reboot-silent'
	event '^event power-up mode=0$'
	at 'AT'
	expect AT '+CME ERROR: 35'
	at 'ATE0'
	expect ATE0 OK
	ctl_err 'reboot-silent x'
	ctl_err 'reboot-silent mode=9'

	stop_sim quit
}

test_modem() {
	start_sim modem-sim --dialect huawei

	at AT
	expect OK
	at 'AT+CPIN?'
	expect '+CPIN: READY' OK
	at 'AT+CREG?'
	expect '+CREG: 2,1,"00C3","0000A13F",7' OK
	at 'AT+CSQ'
	expect '+CSQ: 20,99' OK
	at 'AT+COPS?'
	expect '+COPS: 0,0,"Elisa",7' OK
	at 'AT+CMEE=2'
	expect OK
	at 'AT+CMEE=7'
	expect ERROR
	at 'AT+CNMI=2,1,0,0,0'
	expect OK
	at 'AT^DDSETEX=2'
	expect OK
	at 'AT+QPCMV=1,2'
	expect ERROR
	at 'AT+CEER'
	expect '+CEER: "No cause information available"' OK
	at 'AT+CLCC'
	expect OK

	# URCs in front of answers: before the answer and again before its final code
	ctl_ok 'urc-front 2 ^RSSI:15'
	at 'AT+CPIN?'
	expect '^RSSI:15' '+CPIN: READY' '^RSSI:15' OK
	ctl_ok 'cme 10'
	at 'AT+CREG?'
	expect '^RSSI:15' '^RSSI:15' '+CME ERROR: 10'
	at 'AT+CSQ'
	expect '+CSQ: 20,99' OK
	ctl_err 'urc-front 2'
	ctl_err 'urc-front x ^RSSI:15'

	# a late release report of the call hung up, after the next ATD's OK; a late list entry
	ctl_ok 'late-end on'
	ctl_ok 'callee 777 answer 30'
	at 'ATD777;'
	expect OK '^ORIG:1,0'
	expect '^CONF:1'
	at 'AT+CHUP'
	expect OK
	ctl_ok 'clcc-late 2'
	at 'ATD778;'
	expect OK '^CEND:1,0,0,16' '^ORIG:1,0'
	event '^event late-end \^CEND:1,0,0,16$'
	ctl_ok 'clcc-late 0'
	at 'AT+CLCC'
	expect OK
	event '^event clcc-late 778$'
	at 'AT+CLCC'
	expect OK
	event '^event clcc-late 778$'
	at 'AT+CLCC'
	expect '+CLCC: 1,0,2,0,0,"778",129' OK
	ctl_ok 'late-end off'
	at 'AT+CHUP'
	expect OK '^CEND:1,0,0,16'
	ctl_err 'late-end maybe'
	ctl_err 'clcc-late -1'
	ctl_err 'clcc-late 0.6'

	# answered call (when told: no race with this script's speed), DTMF, remote hang-up
	ctl_ok 'callee +358401234567 noanswer'
	ctl_err 'answer-out'
	at 'ATD+358401234567;'
	expect OK '^ORIG:1,0'
	event '^event dial [0-9]+ \+358401234567$'
	event '^event call dialing( [0-9]+)?$'
	at 'AT+CLCC'
	expect '+CLCC: 1,0,2,0,0,"+358401234567",145' OK
	expect '^CONF:1'
	at 'AT+CLCC'
	expect '+CLCC: 1,0,3,0,0,"+358401234567",145' OK
	ctl_ok state '^ok call=alerting number=\+358401234567 sim=ready pin_left=[0-9]$'
	ctl_err 'answer-out now'
	ctl_ok 'answer-out' '^ok t=[0-9]+$'
	expect '^CONN:1,0'
	event '^event call active( [0-9]+)?$'
	at 'AT+CLCC'
	expect '+CLCC: 1,0,0,0,0,"+358401234567",145' OK
	ctl_err 'answer-out'
	at 'ATD+358401234567;'
	expect '+CME ERROR: 3'
	ctl_ok 'dtmf 4'
	expect '+DTMF: 4'
	ctl_ok hangup
	expect 'NO CARRIER' '^CEND:1,0,0,16'
	ctl_ok state '^ok call=none number= sim=ready pin_left=[0-9]$'
	ctl_err hangup

	# busy, reject, no answer
	ctl_ok 'callee 555 busy'
	at 'ATD555;'
	expect OK '^ORIG:1,0' '^CONF:1' BUSY '^CEND:1,0,0,16'
	at 'AT+CEER'
	expect '+CEER: "User busy"' OK
	ctl_ok 'callee 556 reject'
	at 'ATD556;'
	expect OK '^ORIG:1,0' '^CONF:1' 'NO CARRIER' '^CEND:1,0,0,16'
	ctl_ok 'callee default noanswer 0.4'
	at 'ATD0401234567;'
	expect OK '^ORIG:1,0' '^CONF:1' 'NO ANSWER' '^CEND:1,0,0,16'
	ctl_err 'callee 557 answer'
	ctl_err 'callee 557 busy 3'

	# host hang-up
	ctl_ok 'callee default noanswer'
	at 'ATD123;'
	expect OK '^ORIG:1,0' '^CONF:1'
	at 'AT+CHUP'
	expect OK '^CEND:1,0,0,16'
	event '^event hangup host$'
	at 'ATD123'
	expect ERROR

	# incoming call
	ctl_ok 'ring +358501112233'
	expect RING '+CLIP: "+358501112233",145,"",,"",0'
	at 'AT+CLCC'
	expect '+CLCC: 1,1,4,0,0,"+358501112233",145' OK
	at ATA
	expect OK '^CONN:1,0'
	ctl_ok state '^ok call=active number=\+358501112233 sim=ready pin_left=[0-9]$'
	at ATH
	expect OK
	expect '^CEND:1,0,0,16'
	at ATA
	expect 'NO CARRIER'

	stop_sim TERM

	start_sim modem-sim --dialect quectel --echo
	at 'ATD112;'
	expect 'ATD112;' OK '+QIND: "ccinfo",1,0,2,0,0,"112",129'
	expect '+QIND: "ccinfo",1,0,3,0,0,"112",129'
	ctl_ok 'cme 30'
	at AT
	expect AT '+CME ERROR: 30'
	expect '+QIND: "ccinfo",1,0,0,0,0,"112",129'
	ctl_ok 'dtmf 4'
	expect '+QTONEDET: 52'
	at ATE0
	expect ATE0 OK
	at ATH
	expect OK '+QIND: "ccinfo",1,0,-1,0,0,"112",129'
	stop_sim INT

	start_sim modem-sim --dialect simcom
	ctl_ok 'ring 0501112233'
	expect '+CLCC: 1,1,4,0,0,"0501112233",129' RING '+CLIP: "0501112233",129,"",,"",0'
	ctl_err 'dtmf 5'
	TMO=$((TMO + 4))
	expect RING '+CLIP: "0501112233",129,"",,"",0' # repeats every 4 s
	TMO=$((TMO - 4))
	at ATA
	expect OK '+CLCC: 1,1,0,0,0,"0501112233",129'
	ctl_ok 'dtmf 5'
	expect '+RXDTMF: 5'
	stop_sim quit
}

# SMS in PDU mode (modem-at.md 1.4, 2.1), all of it while a voice call is up.
test_sms() {
	# SMS-SUBMIT to +358401234567, "Hälytys 4" (modem-at.md 2.1): 22 TPDU octets
	local sub=0011000C915348103254760000AA09C83D3B4FCFCF4134
	local smsc=0791534850020200 # SMSC field +358405202000 (8 octets)
	# SMS-DELIVER (33 TPDU octets) and SMS-STATUS-REPORT (25), as AT+CMGR prints them
	local dlv=${smsc}040C9153481032547600004230514103508010CB7A9A4E0F8775A07D9A9E063D97
	local rep=${smsc}062A0C91534810325476423051410350804230514123508000
	local low=${smsc}${sub:2}
	local i

	start_sim modem-sim
	at 'AT+CMGF=0'
	expect OK
	at 'AT+CMGF?'
	expect '+CMGF: 0' OK
	at 'AT+CNMI=2,1,0,0,0'
	expect OK
	at 'AT+CPMS?'
	expect '+CPMS: "ME",0,30,"ME",0,30,"ME",0,30' OK
	at 'AT+CPMS="ME","me","ME"'
	expect '+CPMS: 0,30,0,30,0,30' OK
	at 'AT+CPMS="SM","SM","SM"'
	expect '+CMS ERROR: 302'
	at 'AT+CPMS="ME","ME","ME","ME"'
	expect ERROR
	at 'AT+CPMS=ME'
	expect ERROR

	ctl_ok 'callee default answer 0'
	at 'ATD+358401234567;'
	expect OK
	event '^event call active( [0-9]+)?$'

	# send: prompt without CRLF, body + Ctrl-Z, +CMGS: <mr> counting from 0
	at 'AT+CMGS=22'
	expect_prompt
	quiet 0.3
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMGS: 0' OK
	event "^event sms-out [0-9]+ 0 $sub\$"
	# CRLF inside the body, lower-case hex, an SMSC address in front
	printf 'AT+CMGS=22\r' >&"$PTY_FD"
	expect_prompt
	printf '%s\r\n%s\x1a' "${sub:0:12}" "${sub:12}" >&"$PTY_FD"
	expect '+CMGS: 1' OK
	event "^event sms-out [0-9]+ 1 $sub\$"
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "${low,,}" >&"$PTY_FD"
	expect '+CMGS: 2' OK
	event "^event sms-out [0-9]+ 2 ${low,,}\$"

	# invalid bodies: 304 and no message reference used
	at 'AT+CMGS=21'
	expect_prompt
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s0\x1a' "$sub" >&"$PTY_FD" # odd length
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=22'
	expect_prompt
	printf 'XY%s\x1a' "${sub:2}" >&"$PTY_FD" # not hex
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=22'
	expect_prompt
	printf '0A%s\x1a' "${sub:2}" >&"$PTY_FD" # SMSC length octet beyond the PDU
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=1'
	expect_prompt
	printf '\x1a' >&"$PTY_FD" # empty body
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=0'
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=165'
	expect '+CMS ERROR: 304'
	at 'AT+CMGS="+358401234567"'
	expect '+CMS ERROR: 304'

	# ESC aborts, also after host lines were swallowed as body; URCs still come
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1b' "${sub:0:10}" >&"$PTY_FD"
	expect OK
	event '^event sms-abort [0-9]+$'
	at 'AT+CMGS=22'
	expect_prompt
	at AT
	at 'AT+CLCC'
	quiet 0.5 # no Ctrl-Z: the prompt stays open, without a time limit
	ctl_ok 'dtmf 7'
	expect '+DTMF: 7'
	printf '\x1b' >&"$PTY_FD"
	expect OK
	event '^event sms-abort [0-9]+$'
	at 'AT+CMGS=22'
	expect_prompt
	printf '\x1a' >&"$PTY_FD" # the swallowed lines did not stay in the body
	expect '+CMS ERROR: 304'

	# sms-fail: the next valid body fails; an invalid one still gets 304
	ctl_ok 'sms-fail 500'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "${sub}00" >&"$PTY_FD"
	expect '+CMS ERROR: 304'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMS ERROR: 500'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMGS: 3' OK
	ctl_ok 'sms-fail 332'
	ctl_ok 'sms-fail none'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMGS: 4' OK
	ctl_err 'sms-fail 512'
	ctl_err 'sms-fail'

	# sms-stuck: Ctrl-Z and later commands swallowed until ESC
	ctl_ok 'sms-stuck on'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	quiet 0.5
	at AT
	quiet 0.3
	printf '\x1b' >&"$PTY_FD"
	expect OK
	at AT
	expect OK
	ctl_ok 'sms-stuck off'
	ctl_err 'sms-stuck maybe'

	# esc-late: the ESC's answer held back, a command sent meanwhile answered after it
	ctl_ok 'esc-late 300 500'
	at 'AT+CMGS=22'
	expect_prompt
	printf '\x1b' >&"$PTY_FD"
	quiet 0.1
	at AT
	expect '+CMS ERROR: 500' OK
	ctl_ok 'esc-late 0 ok'
	ctl_err 'esc-late 10001 ok'
	ctl_err 'esc-late 100 maybe'
	ctl_err 'esc-late 100'
	at 'AT+CMGS=22'
	expect_prompt
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMGS: 5' OK

	# text mode: sends and reads are refused
	at 'AT+CMGF=1'
	expect OK
	at 'AT+CMGS="+358401234567"'
	expect '+CMS ERROR: 302'
	at 'AT+CMGS=22'
	expect '+CMS ERROR: 302'
	at 'AT+CMGR=1'
	expect '+CMS ERROR: 302'
	at 'AT+CMGF=0'
	expect OK

	# receive: +CMTI, AT+CMGR marks read, AT+CMGD deletes
	ctl_ok "sms-in $dlv" '^ok idx=1$'
	expect '+CMTI: "ME",1'
	ctl_ok sms-in-bad '^ok idx=2$'
	expect '+CMTI: "ME",2'
	ctl_ok sms-list '^ok 1,2$'
	at 'AT+CPMS?'
	expect '+CPMS: "ME",2,30,"ME",2,30,"ME",2,30' OK
	at 'AT+CMGR=1'
	expect '+CMGR: 0,,33' "$dlv" OK
	at 'AT+CMGR=1'
	expect '+CMGR: 1,,33' "$dlv" OK
	at 'AT+CMGR=2'
	expect '+CMGR: 0,,4' 0791534850020200040C9153 OK
	at 'AT+CMGR=3'
	expect '+CMS ERROR: 321'
	at 'AT+CMGR=31'
	expect '+CMS ERROR: 321'
	at 'AT+CMGR=x'
	expect ERROR
	at 'AT+CMGD=2'
	expect OK
	event '^event sms-deleted 2$'
	ctl_ok sms-list '^ok 1$'
	at 'AT+CMGR=2'
	expect '+CMS ERROR: 321'
	at 'AT+CMGD=2'
	expect OK # already free
	at 'AT+CMGD=31'
	expect '+CMS ERROR: 321'
	at 'AT+CMGD=1,5'
	expect ERROR
	ctl_ok "sms-in $rep" '^ok idx=2$' # the lowest free index
	expect '+CMTI: "ME",2'
	ctl_ok "sms-in ${dlv,,}" '^ok idx=3$'
	expect '+CMTI: "ME",3'
	at 'AT+CMGR=3'
	expect '+CMGR: 0,,33' "$dlv" OK # printed in upper case
	at 'AT+CMGR=2'
	expect '+CMGR: 0,,25' "$rep" OK
	at 'AT+CMGR=3'
	expect '+CMGR: 1,,33' "$dlv" OK
	ctl_ok "sms-in $dlv" '^ok idx=4$'
	expect '+CMTI: "ME",4'
	at 'AT+CMGD=0,1' # every read message: 1, 2, 3, not the unread 4
	expect OK
	event '^event sms-deleted 1$'
	event '^event sms-deleted 2$'
	event '^event sms-deleted 3$'
	ctl_ok sms-list '^ok 4$'
	ctl_ok "sms-in $rep" '^ok idx=1$'
	expect '+CMTI: "ME",1'
	at 'AT+CMGD=1,4' # all
	expect OK
	event '^event sms-deleted 1$'
	event '^event sms-deleted 4$'
	ctl_ok sms-list '^ok$'
	# sms-store: stored without +CMTI (it came while nobody listened), found by AT+CMGL
	ctl_ok "sms-store $dlv" '^ok idx=1$'
	quiet 0.3
	ctl_ok sms-in-bad '^ok idx=2$'
	expect '+CMTI: "ME",2'
	at 'AT+CMGL=0'
	expect '+CMGL: 1,0,,33' "$dlv" '+CMGL: 2,0,,4' 0791534850020200040C9153 OK
	event '^event sms-listed 0$'
	at 'AT+CMGL=0' # listed: now read
	expect OK
	at 'AT+CMGL=4'
	expect '+CMGL: 1,1,,33' "$dlv" '+CMGL: 2,1,,4' 0791534850020200040C9153 OK
	at 'AT+CMGL=5'
	expect ERROR
	at 'AT+CMGD=1,4'
	expect OK
	event '^event sms-deleted 1$'
	event '^event sms-deleted 2$'
	ctl_err 'sms-store'
	ctl_ok cmti-bogus
	expect '+CMTI: "SM",-1'

	# sms-in checks its PDU
	ctl_err 'sms-in'
	ctl_err "sms-in $dlv 00"
	ctl_err 'sms-in 00'
	ctl_err 'sms-in 0G'
	ctl_err "sms-in ${dlv}0"
	ctl_err "sms-in ${dlv:0:-2}"   # user data shorter than TP-UDL
	ctl_err "sms-in ${dlv}00"      # one octet too many
	ctl_err "sms-in $smsc${sub:2}" # an SMS-SUBMIT
	ctl_err "sms-in 0C${dlv:2}"    # SMSC length beyond the limit
	ctl_err "sms-in ${rep:0:-2}"   # status report without TP-ST
	ctl_ok sms-list '^ok$'

	# a message arriving while the prompt is open; the send still completes
	at 'AT+CMGS=22'
	expect_prompt
	ctl_ok "sms-in $dlv" '^ok idx=1$'
	expect '+CMTI: "ME",1'
	printf '%s\x1a' "$sub" >&"$PTY_FD"
	expect '+CMGS: 6' OK

	# storage full at 30
	for ((i = 2; i <= 30; i++)); do
		ctl_ok sms-in-bad "^ok idx=$i\$"
		expect "+CMTI: \"ME\",$i"
	done
	ctl_err sms-in-bad
	ctl_err "sms-in $dlv"
	at 'AT+CPMS?'
	expect '+CPMS: "ME",30,30,"ME",30,30,"ME",30,30' OK

	# the message reference wraps after 255
	for ((i = 7; i <= 256; i++)); do
		if ((i % 32 == 8)); then # read and drop the events so far (keeps the last batch)
			ctl_ok state '^ok '
			EVENTS=()
		fi
		printf 'AT+CMGS=22\r' >&"$PTY_FD"
		expect_prompt
		printf '%s\x1a' "$sub" >&"$PTY_FD"
		expect "+CMGS: $((i % 256))" OK
	done
	event "^event sms-out [0-9]+ 255 $sub\$"
	event "^event sms-out [0-9]+ 0 $sub\$"

	# the call was never touched
	ctl_ok state '^ok call=active number=\+358401234567 sim=ready pin_left=[0-9]$'
	at 'AT+CLCC'
	expect '+CLCC: 1,0,0,0,0,"+358401234567",145' OK
	ctl_ok hangup
	expect 'NO CARRIER'
	stop_sim quit
}

command -v socat >/dev/null || fail "socat not installed"
[[ -x $BINDIR/tetra-sim && -x $BINDIR/modem-sim ]] ||
	fail "build the sims first (make build/tetra-sim build/modem-sim)"
test_tetra
test_modem
test_sms
echo "sim-selftest: $CHECKS checks passed"
