#!/usr/bin/python3
"""test_south_savo: an independent model of tools/demo/south-savo.csv against rinki's roster.

Written from the roster format's documentation (tools/demo/roster.csv), not from
gateway/store/roster*.c: it reads the CSV itself, keeps Helsinki time with Python's
zoneinfo (the system tzdata, where rinki has its own EU rule), computes the Finnish public
holidays with another Easter algorithm (Knuth's, TAOCP 1.3.2 ex. 14, where rinki uses
Meeus's), and works out who is on duty on each line, and whom a call for that line pages,
at every shift edge, office-hours edge and handoff of 2027 (and 1 s either side), around
both DST switches and through every holiday. Then it asks rinki at each of those instants
(tests/model/oncall_query: gw_roster_chain and gw_roster_plan on the imported roster) and,
for a sample of them, `rinkictl oncall --json`, and fails on any difference. It prints
how many instants it checked.

Usage: test_south_savo.py [CSV]; RINKI_BIN (default build/san/bin) holds rinkictl,
MODEL_QUERY (default build/san/model/oncall_query) the query tool.
"""
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import zoneinfo

HEL = zoneinfo.ZoneInfo("Europe/Helsinki")
UTC = dt.timezone.utc
YEAR = 2027
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def fail(msg):
    print("test_south_savo: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- time -------------------------------------------------------------------------------

def local_ms(day, minute, second=0):
    """UTC ms of a Helsinki wall-clock time; the data must not put an edge in a DST gap or
    overlap (the model does not implement rinki's written rules for those)."""
    naive = dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minute,
                                                                      seconds=second)
    a = naive.replace(tzinfo=HEL, fold=0)
    b = naive.replace(tzinfo=HEL, fold=1)
    if a.utcoffset() != b.utcoffset():
        fail("%s is in a DST gap or overlap: outside what this model covers" % naive)
    return int(a.timestamp() * 1000)


def local_of(ms):
    """(date, minute of the day, second) in Helsinki of UTC ms."""
    t = dt.datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(HEL)
    return t.date(), t.hour * 60 + t.minute, t.second


def iso_utc(ms):
    t = dt.datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def hhmm(s):
    h, m = s.split(":")
    if not (len(h) == 2 and len(m) == 2 and 0 <= int(h) <= 23 and 0 <= int(m) <= 59):
        fail("bad time " + s)
    return int(h) * 60 + int(m)


def day_mask(s):
    """DAYS as the route and line records write them: mon-fri, sat+sun, fri-mon."""
    mask = 0
    for part in s.split("+"):
        a, _, b = part.partition("-")
        i, j = DAYS.index(a), DAYS.index(b or a)
        while True:
            mask |= 1 << i
            if i == j:
                break
            i = (i + 1) % 7
    return mask


# ---- Finnish public holidays ---------------------------------------------------------

def easter(y):
    """Easter Sunday (Gregorian), D. E. Knuth, TAOCP vol. 1, 1.3.2 exercise 14."""
    g = y % 19 + 1
    c = y // 100 + 1
    x = 3 * c // 4 - 12
    z = (8 * c + 5) // 25 - 5
    d = 5 * y // 4 - x - 10
    e = (11 * g + 20 + z - x) % 30
    if (e == 25 and g > 11) or e == 24:
        e += 1
    n = 44 - e
    if n < 21:
        n += 30
    n = n + 7 - (d + n) % 7
    return dt.date(y, 3, 1) + dt.timedelta(days=n - 1)


def fi_holidays(y):
    e = easter(y)
    days = {dt.date(y, 1, 1), dt.date(y, 1, 6), e - dt.timedelta(2), e, e + dt.timedelta(1),
            dt.date(y, 5, 1), e + dt.timedelta(39), e + dt.timedelta(49), dt.date(y, 12, 6),
            dt.date(y, 12, 24), dt.date(y, 12, 25), dt.date(y, 12, 26)}
    for d in range(19, 26):  # Midsummer Eve: the Friday of 19-25 June, the Day after it
        if dt.date(y, 6, d).weekday() == 4:
            days |= {dt.date(y, 6, d), dt.date(y, 6, d + 1)}
    for k in range(7):  # All Saints' Day: the Saturday of 31 October - 6 November
        d = dt.date(y, 10, 31) + dt.timedelta(k)
        if d.weekday() == 5:
            days.add(d)
    return days


# ---- the roster file ------------------------------------------------------------------

class Roster:
    def __init__(self, path):
        self.lines, self.workers, self.rots, self.members = {}, {}, [], {}
        self.steps, self.holidays = {}, set()
        with open(path, encoding="utf-8-sig", newline="") as f:
            for rec in csv.reader(f):
                if not rec or rec[0].startswith("#") or not "".join(rec).strip():
                    continue
                self.record(rec)
        for y in (YEAR - 1, YEAR, YEAR + 1):
            self.holidays |= fi_holidays(y)

    def record(self, rec):
        kind, f = rec[0], rec[1:] + [""] * 10
        if kind == "line":
            office = None
            if f[4]:
                a, b = f[5].split("-")
                office = (day_mask(f[4]), hhmm(a), hhmm(b), f[6])
            self.lines[f[0]] = office
        elif kind == "worker":
            self.workers[f[0]] = f[4] in ("", "1")
        elif kind == "pattern":
            shifts = {}
            for tok in f[4].split():
                name, _, t = tok.partition("=")
                a, _, b = t.partition("-")
                shifts[name] = [hhmm(a), hhmm(b) if b else None]
            starts = sorted(s[0] for s in shifts.values())
            for s in shifts.values():  # a shift lasts until the next one starts
                if s[1] is None:
                    later = [x for x in starts if x > s[0]]
                    s[1] = later[0] if later else starts[0] + 1440
                elif s[1] <= s[0]:
                    s[1] += 1440
            self.rots.append({"kind": "pattern", "name": f[0], "line": f[1],
                              "start": dt.date.fromisoformat(f[2]), "cycle": f[3].split(),
                              "shifts": shifts, "position": int(f[5]),
                              "step": int(f[6]) if f[6] else None})
            if f[7] or f[8]:
                fail("pattern END_DATE and TEMP_ROSTER are outside this model")
        elif kind == "rotation":
            if f[7] or f[8]:
                fail("rotation END_DATE and TEMP_ROSTER are outside this model")
            self.rots.append({"kind": f[2], "name": f[0], "line": f[1],
                              "start": dt.date.fromisoformat(f[3]), "handoff": hhmm(f[4]),
                              "position": int(f[5]), "hours": f[6] or "all"})
        elif kind == "rotation_member":
            self.members.setdefault(f[0], {})[int(f[1])] = f[2]
        elif kind == "chain_step":
            self.steps.setdefault(f[0], []).append((int(f[1]), f[2], f[3]))
        elif kind == "holiday":
            self.holidays.add(dt.date.fromisoformat(f[0]))
        elif kind in ("route", "directory"):
            pass  # routing is not what this model checks
        else:
            fail("record kind %s is outside this model" % kind)

    def office_day(self, day):
        return day.weekday() < 5 and day not in self.holidays

    # Duty intervals [start, end) in UTC ms with (position, worker), for local days d0..d1.
    def intervals(self, line, d0, d1):
        out = []
        for x in self.rots:
            if x["line"] != line:
                continue
            mem = self.members.get(x["name"], {})
            n = len(mem)
            day = d0 - dt.timedelta(days=8)  # a turn or night that began before d0
            while day <= d1:
                if x["kind"] == "pattern":
                    step = x["step"] if x["step"] is not None else len(x["cycle"]) // n
                    for k in range(1, n + 1):
                        i = ((day - x["start"]).days - (k - 1) * step) % len(x["cycle"])
                        tok = x["cycle"][i]
                        if tok == "-" or day < x["start"]:
                            continue
                        a, b = x["shifts"][tok]
                        out.append((local_ms(day, a), local_ms(day, b), x["position"], mem[k],
                                    x["name"]))
                else:
                    period = 7 if x["kind"] == "weekly" else 1
                    days = (day - x["start"]).days
                    if days >= 0 and days % period == 0:
                        self.turn(out, x, mem[days // period % n + 1], day, period)
                day += dt.timedelta(days=1)
        return out

    def turn(self, out, x, who, day, period):
        """One turn of a rotation: from its day's handoff to the next turn's, all of it, or
        only its office hours (Mon-Fri 08:00-16:00 but holidays), or only the rest."""
        lo = local_ms(day, x["handoff"])
        hi = local_ms(day + dt.timedelta(period), x["handoff"])
        office = []
        for k in range(period + 1):
            dd = day + dt.timedelta(k)
            o1, o2 = max(lo, local_ms(dd, 8 * 60)), min(hi, local_ms(dd, 16 * 60))
            if self.office_day(dd) and o1 < o2:
                office.append((o1, o2))
        if x["hours"] == "all":
            parts = [(lo, hi)]
        elif x["hours"] == "office":
            parts = office
        else:
            parts, cur = [], lo
            for o1, o2 in office:
                parts.append((cur, o1))
                cur = o2
            parts.append((cur, hi))
        for a, b in parts:
            if a < b:
                out.append((a, b, x["position"], who, x["name"]))


class Model:
    def __init__(self, roster):
        self.r = roster
        d0, d1 = dt.date(YEAR - 1, 12, 25), dt.date(YEAR + 1, 1, 7)
        self.iv = {line: roster.intervals(line, d0, d1) for line in roster.lines}

    def duty(self, line, t):
        cover = sorted((iv for iv in self.iv[line] if iv[0] <= t < iv[1]),
                       key=lambda iv: (iv[2], iv[0]))
        out = []
        for iv in cover:
            if self.r.workers[iv[3]] and iv[3] not in out:
                out.append(iv[3])
        return out

    def in_office(self, line, t):
        office = self.r.lines[line]
        if not office:
            return True
        day, minute, _ = local_of(t)
        return bool(office[0] >> day.weekday() & 1) and day not in self.r.holidays \
            and office[1] <= minute < office[2]

    def plan(self, line, t):
        after = None
        if not self.in_office(line, t):
            after = line = self.r.lines[line][3]
        steps = []
        chain = sorted(self.r.steps.get(line, []))
        if not chain:
            steps = self.duty(line, t)
        for _, kind, who in chain:
            found = [who] if kind == "person" else self.duty(who, t)
            for w in found[:1] if kind == "oncall" else found:
                if w not in steps:
                    steps.append(w)
        return steps, after


# ---- the instants ------------------------------------------------------------------------

def instants(roster, model):
    edges = set()
    day, last = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
    y0, y1 = local_ms(day, 0), local_ms(last + dt.timedelta(1), 0)
    for ivs in model.iv.values():  # every shift, turn and office edge of the year
        for iv in ivs:
            edges |= {e for e in iv[:2] if y0 <= e < y1}
    for office in roster.lines.values():  # each line's office edges, every day
        d = day
        while office and d <= last:
            edges |= {local_ms(d, office[1]), local_ms(d, office[2])}
            d += dt.timedelta(1)
    n_edges = len(edges)
    out = set()
    for e in edges:
        out |= {e - 1000, e, e + 1000}
    # DST switches: the instant itself and 1 s, 30 min and 1 h either side
    dst = []
    t = y0
    while t < y1:
        if dt.datetime.fromtimestamp(t / 1000, tz=HEL).utcoffset() != \
                dt.datetime.fromtimestamp((t + 3600000) / 1000, tz=HEL).utcoffset():
            lo, hi = t, t + 3600000
            while hi - lo > 1000:
                mid = (lo + hi) // 2 // 1000 * 1000
                if dt.datetime.fromtimestamp(mid / 1000, tz=HEL).utcoffset() == \
                        dt.datetime.fromtimestamp(lo / 1000, tz=HEL).utcoffset():
                    lo = mid
                else:
                    hi = mid
            dst.append(hi)
        t += 3600000
    if len(dst) != 2:
        fail("expected two DST switches in %d, found %d" % (YEAR, len(dst)))
    for s in dst:
        out |= {s + k for k in (-3600000, -1800000, -1000, 0, 1000, 1800000, 3600000)}
    # each holiday of the year: its whole day at every hour and around the office edges
    hols = sorted(h for h in roster.holidays if h.year == YEAR)
    for h in hols:
        out |= set(range(local_ms(h, 0), local_ms(h + dt.timedelta(1), 0), 3600000))
        out |= {local_ms(h, 8 * 60) - 1000, local_ms(h, 16 * 60) - 1000}
    return sorted(out), n_edges, len(dst), len(hols)


# ---- rinki -----------------------------------------------------------------------------

def run(argv, stdin=None):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return p.stdout


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tools/demo/south-savo.csv"
    bindir = os.environ.get("RINKI_BIN", "build/san/bin")
    query = os.environ.get("MODEL_QUERY", "build/san/model/oncall_query")
    if easter(YEAR) != dt.date(2027, 3, 28) or easter(2026) != dt.date(2026, 4, 5):
        fail("the model's Easter is wrong")  # the published dates
    roster = Roster(path)
    model = Model(roster)
    times, n_edges, n_dst, n_hols = instants(roster, model)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "model.db")
        run([bindir + "/rinkictl", "-d", db, "roster", "import", path])
        build_ms = local_ms(dt.date(YEAR, 1, 1), 0)  # horizon: 7 days back, 400 ahead
        got = run([query, db, str(build_ms)], "".join("%d\n" % t for t in times))
        answers = {}
        for row in got.splitlines():
            ms, line, duty, plan, after = row.split(" ")
            answers[(int(ms), line)] = (duty, plan, after)
        bad = []
        for t in times:
            for line in roster.lines:
                duty = model.duty(line, t)
                steps, after = model.plan(line, t)
                want = (",".join(duty) or "-", ",".join(steps) or "-", after or "-")
                if answers.get((t, line)) != want:
                    bad.append("%s %s: rinki %s, model %s" % (iso_utc(t), line,
                                                              answers.get((t, line)), want))
        # rinkictl oncall itself at a sample of the instants (each a process of its own)
        sample = times[::max(1, len(times) // 60)]
        for t in sample:
            out = json.loads(run([bindir + "/rinkictl", "-d", db, "oncall", "--at", iso_utc(t),
                                  "--json"]))
            for ln in out["lines"]:
                steps, after = model.plan(ln["line"], t)
                duty = model.duty(ln["line"], t)
                g = ([d["handle"] for d in ln["duty"]],
                     [s["handle"] for s in ln["plan"]["steps"]], ln["plan"]["after_hours_line"])
                if g != (duty, steps, after):
                    bad.append("rinkictl oncall --at %s, %s: %s, model %s"
                               % (iso_utc(t), ln["line"], g, (duty, steps, after)))
    for b in bad[:20]:
        print("  " + b, file=sys.stderr)
    print("test_south_savo: %d instants of %d checked on %d lines (%d shift, turn and office "
          "edges and 1 s either side, %d DST switches, %d holidays), %d of them also with "
          "rinkictl oncall: %d differences"
          % (len(times), YEAR, len(roster.lines), n_edges, n_dst, n_hols, len(sample),
             len(bad)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
