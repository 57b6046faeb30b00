#!/usr/bin/python3
"""check_ics: validate an iCalendar file written by `rinkictl roster ics` (test_rinkictl).

Run by Debian's python3 (the python3-icalendar package): check_ics.py FILE. It parses the
file with icalendar, checks what RFC 5545 asks of it beyond what the parser enforces
(CRLF line ends, content lines of at most 75 octets, VERSION and PRODID, every VEVENT with
a unique UID, DTSTAMP, DTSTART before DTEND, all in UTC), and prints one line per event,
sorted: "START END SUMMARY" with times as YYYY-MM-DDTHH:MMZ. Exit 1 with a reason on stderr.
"""
import sys

import icalendar


def fail(msg):
    print("check_ics: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: check_ics.py FILE")
    raw = open(sys.argv[1], "rb").read()
    if not raw.endswith(b"\r\n"):
        fail("the file does not end with CRLF")
    for n, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        if b"\n" in line or b"\r" in line:
            fail("line %d: a bare LF or CR" % n)
        if len(line) > 75:
            fail("line %d: %d octets, more than 75" % (n, len(line)))
        line.decode("utf-8")
    cal = icalendar.Calendar.from_ical(raw)
    if cal.name != "VCALENDAR" or str(cal.get("VERSION")) != "2.0" or not cal.get("PRODID"):
        fail("not a VCALENDAR with VERSION 2.0 and a PRODID")
    uids, out = set(), []
    for ev in cal.walk("VEVENT"):
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            if ev.get(prop) is None:
                fail("an event without %s" % prop)
        uid = str(ev["UID"])
        if uid in uids:
            fail("UID %s twice" % uid)
        uids.add(uid)
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        for t in (start, end, ev.decoded("DTSTAMP")):
            if t.utcoffset() is None or t.utcoffset().total_seconds() != 0:
                fail("%s: a time not in UTC" % uid)
        if not start < end:
            fail("%s: DTSTART is not before DTEND" % uid)
        out.append("%s %s %s" % (start.strftime("%Y-%m-%dT%H:%MZ"),
                                 end.strftime("%Y-%m-%dT%H:%MZ"), ev.decoded("SUMMARY").decode()))
    for line in sorted(out):
        print(line)
    print("%d events" % len(out))


main()
