#!/usr/bin/python3
"""Browser test of rinki-web: Debian's headless Chromium, driven over the DevTools protocol.

rinki-web (the ASan build) runs on a temporary rinki.db: a roster imported by rinkictl
with a one-day gap on line sos, call-log entries written by web_fixture through the
store, and a stand-in for rinkid's control socket that answers "status" with one ok line
in the protocol of include/rinki/proto.h. Plain HTTP requests first check the limits (413,
415, 400, 405, 404) and the headers every answer carries; then, on a phone-sized screen,
the test:

  * logs in with a wrong password (refused, the form says so) and then the right one,
    and lands on the on-call page: the line, who is on duty now, the gap in red;
  * opens the call log and an incident: its events and the chain verification; a caller
    name that is markup shows as text;
  * sends a change (POST /logout) without and with a wrong CSRF token: 403, still logged in;
  * on the roster page uploads a file with errors (each shown with its row number, no
    apply), the example roster (the preview says what changes), and the test's roster
    with one more worker (applied: the worker is listed, the gap still red on the on-call
    page, the download has it), adds an override in two steps (the first sends
    nothing) and disables a worker; the fake socket stands in for rinkid's roster-import and override-add by
    running rinkictl's import and override code on the same database (the real verbs
    are tested with rinkid in tests/integration/test_web_admin.c);
  * sets a new password from the command line (the open session ends) and on the password
    page (the session goes on with new tokens);
  * opens the system page (the status from the socket) and logs out with the button;
  * logs in as a manager: the overview has no names or phone numbers, and the
    coordinator's pages (/oncall, /log, /log/ID) answer 403; the report of yesterday and
    today has its four SVG charts with a bar per day with calls (3 calls in all), 168
    heatmap cells, one time-to-accept bar (12 s) and who took the calls (first worker 1,
    nobody 2), no names; its CSV downloads with the same total;
  * logs in as a technician: the system page only;
  * finds every refusal in rinki-web's audit trail;
  * makes a self-signed pair with rinki-web tls-selfsigned and serves 0.0.0.0 over HTTPS:
    the certificate verifies for 127.0.0.1, every cookie is Secure, a login and a page
    work, plain HTTP gets nothing, and a key others may read is refused at start; a first
    start with neither file there makes the pair itself.

Every page Chromium loads also gets axe-core's accessibility run (build/axe/, installed by
make browser); a serious or critical violation fails the test.

Five logins on the plain server, which the per-address limit (a burst of five) lets through
whatever the machine's speed; the HTTPS server is a process of its own with its own limit.

Screenshots go to build/test-artefacts/web-*.png. Every wait is bounded and waits for an
event that must come (a page load, a line on stdout). Without Chromium the test says so
and exits 0 (the only case it skips).
"""
import base64
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("RINKI_BIN", os.path.join(ROOT, "build/san/bin"))
FIXTURE = os.path.join(ROOT, "build/san/browser/web_fixture")
ARTEFACTS = os.path.join(ROOT, "build/test-artefacts")
WAIT_S = 60  # bound on any one wait; a loaded machine is slow, never wrong

failures = []
AXE_JS = os.environ.get("AXE_JS", os.path.join(ROOT, "build/axe/node_modules/axe-core/axe.min.js"))
AXE_SRC = None  # read in main(); the Makefile's browser target installs it
AXE_TOTALS = {}  # impact -> nodes, over every page visited


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def wait_line(proc, pattern, what):
    """Read proc's stdout until a line matches pattern (bounded)."""
    end = time.monotonic() + WAIT_S
    buf = b""
    while time.monotonic() < end:
        r, _, _ = select.select([proc.stdout], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        m = re.search(pattern, buf.decode("utf-8", "replace"))
        if m:
            return m
    raise RuntimeError("%s: no line matching %r within %d s; got %r" % (what, pattern, WAIT_S, buf))


class FakeRinkid(threading.Thread):
    """Answers 'status' on a UNIX socket with one ok line, as rinkid's control socket does."""

    LINE = ("ok version=9.9-test proto=1 uptime_s=3725 radio.port_up=yes radio.ready=yes "
            "radio.reg=1 radio.rssi_dbm=-71 radio.identity=1001 radio.live_calls=0 "
            "modem.port_up=yes modem.ready=no modem.sim=yes modem.reg=5 "
            "modem.operator=Elisa modem.rssi_dbm=-85 modem.call=idle modem.recoveries=0 "
            "io.present=no call.live=no call.id=3 call.state=IDLE callback.live=no "
            "callback.id=0 callback.state=IDLE callback.worker= db.spooling=no "
            "counters.incidents=3 counters.pages=4 counters.sms_out=1 counters.sms_in=0 "
            "counters.sds_out=0 counters.sds_in=0 ctl.clients=1 ctl.requests=1 "
            "ctl.denied=0 ctl.dropped=0\n")

    def __init__(self, path, db=None, tmp=None):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.requests = []
        self.db, self.tmp, self.n = db, tmp, 0
        self.ctl = os.path.join(BIN, "rinkictl")

    def rinkictl(self, db, *args):
        return subprocess.run([self.ctl, "-d", db] + list(args), capture_output=True, text=True,
                              timeout=WAIT_S)

    def roster_import(self, line, csv):
        """roster-import as specified for rinkid (the real verb is another helper's work):
        the CSV checked and imported by rinkictl's code, a preview on a scratch database."""
        self.n += 1
        path = os.path.join(self.tmp, "upload-%d.csv" % self.n)
        with open(path, "wb") as f:
            f.write(csv)
        apply = "mode=apply" in line.split()
        r = self.rinkictl(self.db if apply else os.path.join(self.tmp, "scratch-%d.db" % self.n),
                          "roster", "import", path)
        if apply:
            return "ok mode=apply\n" if r.returncode == 0 else "err usage not imported\n"
        out = ""
        errors = re.findall(r"^[^\n]*?:(\d+): ([^\n]*)$", r.stderr, re.M)
        for row, text in errors:
            out += "+ error row=%s text=%s\n" % (row, urllib.parse.quote(text))
        rows = csv.count(b"\n")
        if errors:
            return out + "ok mode=preview rows=%d errors=%d\n" % (rows, len(errors))
        now = dict((k, int(v)) for v, k in
                   re.findall(r"(\d+) (lines|workers|shifts)", r.stdout))
        was = self.rinkictl(self.db, "roster", "export").stdout
        counts = " ".join("%s=%d was_%s=%d" % (k, now.get(k, 0), k,
                                               sum(1 for x in was.splitlines()
                                                   if x.startswith(k[:-1] + ",")))
                          for k in ("lines", "workers", "shifts"))
        return out + "ok mode=preview rows=%d errors=0 conflicts=0 %s\n" % (rows, counts)

    def override_add(self, line):
        kv = dict(urllib.parse.unquote(a).split("=", 1) for a in line.split()[1:])
        r = self.rinkictl(self.db, "override", "add", kv["kind"], kv["worker"], kv["from"],
                          kv["to"], "--line", kv["line"],
                          *(["--by", kv["by_worker"]] if "by_worker" in kv else []))
        return "ok\n" if r.returncode == 0 else "err failed %s\n" % r.stderr.strip()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                data, fds, _, _ = socket.recv_fds(c, 4096, 1)
                while data and b"\n" not in data:
                    k = c.recv(1024)
                    if not k:
                        break
                    data += k
                self.requests.append(data)
                line = data.strip().decode()
                if line == "status":
                    c.sendall(self.LINE.encode())
                elif line.startswith("roster-import ") and fds and self.db:
                    with os.fdopen(fds[0], "rb") as f:
                        c.sendall(self.roster_import(line, f.read()).encode())
                elif line.startswith("override-add ") and self.db:
                    c.sendall(self.override_add(line).encode())
                elif line.startswith("worker-set ") and self.db:
                    kv = dict(urllib.parse.unquote(a).split("=", 1) for a in line.split()[1:])
                    r = self.rinkictl(self.db, "worker",
                                      "disable" if kv["disabled"] == "1" else "enable",
                                      kv["worker"])
                    more = [a for k in ("lang", "phone") if k in kv for a in ("--" + k, kv[k])]
                    if r.returncode == 0 and more:
                        r = self.rinkictl(self.db, "worker", "set", kv["worker"], *more)
                    c.sendall(b"ok\n" if r.returncode == 0 else b"err failed\n")
                else:
                    c.sendall(b"err usage unknown request\n")


class Page:
    """One Chromium tab over the DevTools protocol (websocket-client from Debian)."""

    def __init__(self, ws_url):
        import websocket  # python3-websocket

        self.ws = websocket.create_connection(ws_url, timeout=WAIT_S, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.seen = []  # every event since the last navigation began

    def recv(self):
        msg = json.loads(self.ws.recv())
        if "method" in msg:
            self.seen.append(msg)
        return msg

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        end = time.monotonic() + WAIT_S
        while time.monotonic() < end:
            msg = self.recv()
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)
        raise RuntimeError("%s: no answer within %d s" % (method, WAIT_S))

    def wait_event(self, name):
        end = time.monotonic() + WAIT_S
        while time.monotonic() < end:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    del self.events[: i + 1]
                    return e
            self.events.append(self.recv())
        raise RuntimeError("no %s within %d s" % (name, WAIT_S))

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("js %r: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def status(self):
        """HTTP status of the last document loaded (after redirects)."""
        docs = [e["params"]["response"]["status"] for e in self.seen
                if e["method"] == "Network.responseReceived" and e["params"]["type"] == "Document"]
        return docs[-1] if docs else None

    def goto(self, url):
        self.events.clear()
        self.seen.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        self.axe()
        return self.status()

    def submit(self, expr):
        """Run expr, which submits a form or clicks; wait for the next page's load."""
        self.events.clear()
        self.seen.clear()
        self.js(expr)
        self.wait_event("Page.loadEventFired")
        self.axe()
        return self.status()

    def axe(self):
        """axe-core on the page just loaded; every serious or critical violation fails."""
        self.js(AXE_SRC + "\n;0")
        found = self.js(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, help: v.help, "
            "nodes: v.nodes.map(n => n.target.join(' '))})))")
        where = self.js("location.pathname + location.search")
        counts = {}
        for v in found:
            counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
            AXE_TOTALS[v["impact"]] = AXE_TOTALS.get(v["impact"], 0) + len(v["nodes"])
            print("     axe %s %s: %s (%s) at %s" % (where, v["impact"], v["id"], v["help"],
                                                  ", ".join(v["nodes"][:4])))
        bad = counts.get("serious", 0) + counts.get("critical", 0)
        check(bad == 0, "axe: no serious or critical violations on %s: %r" % (where, counts))

    def shot(self, name):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = os.path.join(ARTEFACTS, "web-%s.png" % name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print("     screenshot %s" % os.path.relpath(path, ROOT))


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_roster(path):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    rows = [
        "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call",
        "worker,aino,Aino Virtanen,+358401234567,",
        "worker,mikko,Mikko Korhonen,+358401234568,",
        # on duty now, then nobody for a day (the gap), then Mikko
        "shift,sos,aino,%s,%s,1" % (iso(now - timedelta(days=1)), iso(now + timedelta(days=2))),
        "shift,sos,mikko,%s,%s,1" % (iso(now + timedelta(days=3)), iso(now + timedelta(days=30))),
        "route,sos,,0",
        # the report's municipalities: the fixture's callers 2269001 and 2269002 (not 2269003)
        'directory,2269001,"Poliisi, Mikkeli",Mikkeli,member',
        'directory,2269002,"Poliisi, Pieksämäki",Pieksämäki,contract',
    ]
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


def run(cmd, stdin=None, **kw):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=WAIT_S, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def main():
    chromium = shutil.which("chromium")
    if not chromium:
        print("SKIP browser test: Chromium is not installed (Debian package chromium; "
              "make deps installs it)")
        return 0
    global AXE_SRC
    if not os.path.exists(AXE_JS):
        print("FAIL axe-core is not at %s (make browser installs it with npm)" % AXE_JS)
        return 1
    with open(AXE_JS) as f:
        AXE_SRC = f.read()
    os.makedirs(ARTEFACTS, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="rinki-web-test.")
    procs = []
    try:
        return scenario(chromium, tmp, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=WAIT_S)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def scenario(chromium, tmp, procs):
    db = os.path.join(tmp, "rinki.db")
    conf = os.path.join(tmp, "rinki.conf")
    sock = os.path.join(tmp, "rinki.sock")
    roster = os.path.join(tmp, "roster.csv")
    web = os.path.join(BIN, "rinki-web")
    root = ["--allow-root"] if os.getuid() == 0 else []

    write_roster(roster)
    run([os.path.join(BIN, "rinkictl"), "-d", db, "roster", "import", roster])
    seeded = [time.time()]
    ids = [int(x) for x in re.findall(r"incident (\d+)", run([FIXTURE, db]))]
    seeded.append(time.time())
    check(len(ids) == 3, "fixture wrote three incidents")
    with open(conf, "w") as f:
        f.write("db.path %s\nctl.socket %s\nweb.listen 127.0.0.1:0\nweb.users %s\n"
                % (db, sock, os.path.join(tmp, "users.db")))
    fake = FakeRinkid(sock, db, tmp)
    fake.start()
    run([web, "-c", conf] + root + ["user", "add", "aino", "coordinator", "--lang", "fi"],
        stdin="aino's long password\n")
    # rinkictl user runs the same account code as rinki-web user
    run([os.path.join(BIN, "rinkictl"), "user", "add", "maija", "manager", "--lang", "en",
         "-c", conf] + root, stdin="maija's long password\n")
    run([web, "-c", conf] + root + ["user", "add", "timo", "technician", "--lang", "sv"],
        stdin="timo's long password\n")

    # a non-loopback address is refused without TLS
    with open(conf + ".any", "w") as f:
        f.write(open(conf).read().replace("127.0.0.1:0", "0.0.0.0:0"))
    r = subprocess.run([web, "-c", conf + ".any"] + root, capture_output=True, text=True,
                       timeout=WAIT_S)
    check(r.returncode == 1 and "not a loopback address" in r.stderr,
          "web.listen 0.0.0.0 is refused without TLS")

    srv = subprocess.Popen([web, "-c", conf] + root, stdout=subprocess.PIPE, stderr=open(
        os.path.join(tmp, "web.log"), "w"))
    procs.append(srv)
    base = wait_line(srv, r"listening (http://127\.0\.0\.1:\d+)/", "rinki-web").group(1)

    # plain HTTP first: limits, methods and the headers every answer carries
    import http.client
    host, hport = base[len("http://"):].split(":")

    def request(method, path, body=None, ctype=None):
        c = http.client.HTTPConnection(host, int(hport), timeout=WAIT_S)
        c.request(method, path, body=body, headers={"Content-Type": ctype} if ctype else {})
        r = c.getresponse()
        r.read()
        c.close()
        return r

    r = request("GET", "/login")
    check(r.status == 200 and r.getheader("X-Frame-Options") == "DENY" and
          "frame-ancestors 'none'" in (r.getheader("Content-Security-Policy") or "") and
          r.getheader("Cache-Control") == "no-store" and
          r.getheader("X-Content-Type-Options") == "nosniff", "security headers on every page")
    form = "application/x-www-form-urlencoded"
    check(request("POST", "/login", "a=" + "x" * 5000, form).status == 413,
          "a form body over 4 KiB is refused (413)")
    check(request("POST", "/login", "user=aino", "text/plain").status == 415,
          "a body that is not a form is refused (415)")
    check(request("POST", "/login", "user=a&user=b", form).status == 400,
          "a malformed form is refused (400)")
    check(request("DELETE", "/login").status == 405, "an unknown method is refused (405)")
    check(request("POST", "/roster/upload", "x" * 5000, "multipart/form-data; boundary=B")
          .status == 413, "an upload over 4 KiB without a coordinator's session is refused (413)")
    check(request("GET", "/../etc/passwd").status == 404, "an unknown path is 404")
    r = request("GET", "/oncall")
    check(r.status == 303 and r.getheader("Location") == "/login", "pages ask for a login")

    profile = os.path.join(tmp, "chromium")
    args = [chromium, "--headless=new", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--remote-debugging-port=0", "--user-data-dir=" + profile,
            "about:blank"]
    if os.getuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    browser = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(browser)
    browser.stdout = browser.stderr  # wait_line reads .stdout
    port = int(wait_line(browser, r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", "chromium")
               .group(1))
    # keep reading Chromium's stderr (to a file), so a chatty browser never blocks on a full pipe
    chromium_log = open(os.path.join(tmp, "chromium.log"), "wb")
    threading.Thread(target=lambda: shutil.copyfileobj(browser.stderr, chromium_log),
                     daemon=True).start()
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=WAIT_S) as f:
        target = next(t for t in json.load(f) if t["type"] == "page")
    page = Page(target["webSocketDebuggerUrl"])
    page.call("Page.enable")
    page.call("Network.enable")
    page.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2,
              mobile=True)

    # --- coordinator --------------------------------------------------------------------
    page.goto(base + "/login")
    check(page.js("document.querySelector('form.login') !== null"), "login form shown")
    page.shot("login")
    login = ("document.getElementById('user').value=%s;"
             "document.getElementById('password').value=%s;"
             "document.getElementById('login').click()")
    status = page.submit(login % (json.dumps("aino"), json.dumps("wrong password!")))
    check(status == 401 and page.js("location.pathname") == "/login" and
          page.js("document.getElementById('login-error') !== null"),
          "a wrong password is refused with a message")
    page.shot("login-refused")
    page.submit(login % (json.dumps("aino"), json.dumps("aino's long password")))
    check(page.js("location.pathname") == "/oncall", "the right password opens the on-call page")
    cookies = {c["name"]: c for c in page.call("Network.getCookies", urls=[base + "/"])["cookies"]}
    sc = cookies.get("rinki_session", {})
    check(sc.get("httpOnly") is True and sc.get("sameSite") == "Strict" and sc.get("path") == "/"
          and not sc.get("secure") and sc.get("session") is True,
          "the session cookie is HttpOnly, SameSite=Strict, not Secure without TLS: %r"
          % ({k: sc.get(k) for k in ("httpOnly", "sameSite", "secure", "path", "session")},))
    check(page.js("document.cookie") == "", "scripts cannot read the session cookie")
    check(page.js("document.querySelector('#line-sos ol.now').innerText.includes('Aino Virtanen')"),
          "on call now: Aino on line sos")
    check(page.js("document.querySelector('#line-sos a[href^=\"tel:\"]').textContent")
          == "+358401234567", "the coordinator sees the phone number")
    gap = page.js("[...document.querySelectorAll('#line-sos tr.gap')].map(r => r.innerText)")
    check(bool(gap) and "Aukko" in gap[0], "the one-day gap is listed: %r" % (gap,))
    check(page.js("getComputedStyle(document.querySelector('#line-sos tr.gap td')).color")
          == "rgb(176, 0, 0)", "the gap is red")
    check(page.js("document.querySelector('#line-sos svg rect.gap').getAttribute('fill')")
          == "#d00000", "the 14-day bar has the gap in red")
    check(page.js("document.documentElement.scrollWidth <= window.innerWidth + 1"),
          "the on-call page fits a phone screen")
    page.shot("oncall")

    page.goto(base + "/log")
    links = page.js("[...document.querySelectorAll('#calls a')].map(a => a.getAttribute('href'))")
    check(links == ["/log/%d" % i for i in reversed(ids)],
          "call log lists the incidents: %r" % (links,))
    check(page.js("document.querySelectorAll('script').length") == 0 and
          page.js("document.body.innerText.includes('<script>alert(1)</script>')"),
          "a caller name that is markup shows as text")
    page.shot("log")
    page.goto(base + "/log?outcome=no_answer")
    check(page.js("[...document.querySelectorAll('#calls a')].map(a => a.textContent)")
          == [str(ids[1])], "the outcome filter keeps the unanswered call only")
    page.goto(base + "/log")
    page.submit("document.querySelector('#calls a[href=\"/log/%d\"]').click()" % ids[0])
    check(page.js("location.pathname") == "/log/%d" % ids[0], "an incident opens from the log")
    kinds = page.js("[...document.querySelectorAll('#events tr td:nth-child(3)')]"
                    ".map(td => td.textContent)")
    check(kinds == ["open", "page", "sms", "answered", "accepted", "close"],
          "the incident's events in order: %r" % (kinds,))
    check(page.js("document.getElementById('chain').className") == "ok" and
          page.js("document.getElementById('chain').textContent.startsWith('Lokiketju ehjä')"),
          "the chain verification says intact")
    page.shot("incident")

    # the logout form without its CSRF token, then with a wrong one: both refused
    for how, expr in (("missing", "f.querySelector('input[name=csrf]').remove()"),
                      ("wrong", "const c = f.querySelector('input[name=csrf]'); "
                                "c.value = (c.value[0] === 'a' ? 'b' : 'a') + c.value.slice(1)")):
        status = page.submit("const f = document.querySelector('form[action=\"/logout\"]'); "
                             "%s; f.querySelector('button').click()" % expr)
        check(status == 403 and page.js("document.querySelector('h1').textContent")
              .startswith("Lomake vanhentui"), "a change with a %s CSRF token is refused: %s"
              % (how, status))
        if how == "missing":
            page.shot("csrf-refused")
        check(page.goto(base + "/oncall") == 200 and page.js("location.pathname") == "/oncall",
              "still logged in after the refused change")

    # a new password set from the command line ends the sessions opened before it
    run([web, "-c", conf] + root + ["user", "passwd", "aino"], stdin="aino's new password\n")
    page.goto(base + "/oncall")
    check(page.js("location.pathname") == "/login", "a new password ends the open session")
    page.submit(login % (json.dumps("aino"), json.dumps("aino's new password")))
    check(page.js("location.pathname") == "/oncall", "the new password logs in")
    # and one set on the password page: the session goes on with new tokens
    page.goto(base + "/password")
    old_csrf = page.js("document.querySelector('input[name=csrf]').value")
    status = page.submit("document.querySelector('input[name=old]').value = %s; "
                         "document.querySelector('input[name=new]').value = %s; "
                         "document.querySelector('form.login button').click()"
                         % (json.dumps("aino's new password"), json.dumps("aino's web password")))
    check(status == 200 and page.js("document.getElementById('msg').className") == "ok",
          "the password page sets a new password")
    check(page.js("document.querySelector('input[name=csrf]').value") != old_csrf,
          "the session's CSRF token is new after the password change")
    check(page.goto(base + "/oncall") == 200 and page.js("location.pathname") == "/oncall",
          "the session goes on after its own password change")

    roster_checks(page, base, tmp, roster, fake)

    page.goto(base + "/system")
    status = page.js("document.getElementById('status').innerText")
    check("9.9-test" in status and "Elisa" in status and "1 h 02 min" in status,
          "the system page shows rinkid's status")
    check(page.js("document.querySelector('#status .err') !== null"),
          "a modem that is not ready is marked")
    page.shot("system")
    page.submit("document.querySelector('form[action=\"/logout\"] button').click()")
    check(page.js("location.pathname") == "/login", "the logout button logs out")
    page.goto(base + "/oncall")
    check(page.js("location.pathname") == "/login", "after logout the pages ask for a login")

    # --- manager ------------------------------------------------------------------------
    page.submit(login % (json.dumps("maija"), json.dumps("maija's long password")))
    check(page.js("location.pathname") == "/overview", "the manager lands on the overview")
    text = page.js("document.body.innerText")
    check("+358" not in text and "Aino" not in text and "Mikko" not in text,
          "the overview shows no names or phone numbers")
    check(page.js("document.querySelector('#coverage tr:nth-child(2) td.gap') !== null"),
          "the overview shows the coverage gap")
    page.shot("overview")
    for path in ("/log", "/log/%d" % ids[0], "/oncall"):
        status = page.goto(base + path)
        check(status == 403 and page.js("document.querySelector('h1').textContent")
              == "You may not open this page", "the manager opening %s is refused: %s"
              % (path, status))
        check("+358" not in page.js("document.body.innerText"),
              "the refusal shows no phone number")
    page.shot("manager-refused")
    report_checks(page, base, seeded)

    # --- technician: the system page only ----------------------------------------------
    page.submit("document.querySelector('form[action=\"/logout\"] button').click()")
    page.submit(login % (json.dumps("timo"), json.dumps("timo's long password")))
    check(page.js("location.pathname") == "/system", "the technician lands on the system page")
    check(page.js("document.getElementById('chain').className") == "ok",
          "the technician sees the chain check")
    for path in ("/overview", "/log", "/oncall"):
        check(page.goto(base + path) == 403, "the technician opening %s is refused" % path)

    audit = run([web, "-c", conf] + root + ["audit", "100"])
    for action in ("login_fail", "csrf_refused", "denied", "logout", "login"):
        check(re.search(r"\b%s\b" % action, audit) is not None, "audit has %s" % action)
    status_asked = [q for q in fake.requests if q == b"status\n"]
    check(len(status_asked) == 2, "rinki-web asked the socket for status once per system page")
    check(all(q == b"status\n" or q.split()[0] in (b"roster-import", b"override-add", b"worker-set")
              for q in fake.requests), "and for the roster's changes only: %r" % fake.requests)

    srv.send_signal(signal.SIGTERM)
    check(srv.wait(timeout=WAIT_S) == 0, "rinki-web exits 0 on SIGTERM (ASan found nothing)")

    https_checks(web, root, conf, tmp, procs)
    print("axe-core violations (nodes) over every page visited: %r" % (AXE_TOTALS,))
    if failures:
        print("web browser test: %d FAILED" % len(failures))
        with open(os.path.join(tmp, "web.log")) as f:
            sys.stdout.write(f.read()[-4000:])
        return 1
    print("web browser test: all passed")
    return 0


def upload(page, path):
    """Put path in the roster form's file input (DevTools) and submit the form."""
    doc = page.call("DOM.getDocument")["root"]["nodeId"]
    node = page.call("DOM.querySelector", nodeId=doc, selector="#roster-file")["nodeId"]
    page.call("DOM.setFileInputFiles", files=[path], nodeId=node)
    return page.submit("document.querySelector('#upload button').click()")


def roster_checks(page, base, tmp, roster, fake):
    """Upload with preview and apply, the download, an override in two steps."""
    check(page.goto(base + "/roster") == 200, "the coordinator opens the roster page")
    page.shot("roster")
    # a file with errors: each with its row number, and nothing to apply
    bad = os.path.join(tmp, "bad.csv")
    with open(roster) as f, open(bad, "w") as g:
        g.write(f.read() + "shift,sos,nobody,2030-01-01T08:00Z,2030-01-02T08:00Z,1\nfoo,bar\n")
    status = upload(page, bad)
    rows = page.js("[...document.querySelectorAll('#errors tr td:first-child')]"
                   ".map(td => td.textContent)")
    n = len(open(roster).read().splitlines())  # the two bad rows come after the roster's
    check(status == 422 and rows == [str(n + 1), str(n + 2)],
          "a roster with errors: each error with its row number: %s %r" % (status, rows))
    check(page.js("document.getElementById('apply')") is None, "and no apply is offered")
    page.shot("roster-errors")
    # the example roster: what would change; cancelled
    page.goto(base + "/roster")
    status = upload(page, os.path.join(ROOT, "tools/demo/roster.csv"))
    changed = page.js("[...document.querySelectorAll('#changes tr.changed th')]"
                      ".map(th => th.textContent)")
    check(status == 200 and "lines" in changed and "workers" in changed,
          "the example roster's preview says what changes: %r" % (changed,))
    page.shot("roster-preview")
    # ours with one more worker: preview, apply, and the new worker is there
    more = os.path.join(tmp, "more.csv")
    with open(roster) as f, open(more, "w") as g:
        g.write(f.read() + "worker,sanna,Sanna Hämäläinen,+358401234571,\n")
    page.goto(base + "/roster")
    upload(page, more)
    check(page.js("document.querySelector('#changes tr.changed th').textContent") == "workers",
          "one more worker: the preview shows the workers change")
    status = page.submit("document.querySelector('#apply button').click()")
    check(status == 200 and page.js("document.getElementById('result').className") == "ok",
          "the apply goes through")
    page.goto(base + "/roster")
    check("Sanna Hämäläinen" in page.js("document.getElementById('workers').innerText"),
          "the applied roster has the new worker")
    page.goto(base + "/oncall")
    check(page.js("document.querySelector('#line-sos tr.gap') !== null"),
          "the coverage after the apply: the gap is still red")
    page.goto(base + "/roster")
    # an override in two steps: the form, then the confirm
    start = (datetime.now(timezone.utc) + timedelta(days=10)).astimezone()
    page.js("const f = document.getElementById('override-add');"
            "f.line.value = 'sos'; f.worker.value = 'mikko'; f.kind.value = 'add';"
            "f.from.value = %s; f.to.value = %s; f.reason.value = 'flu cover';"
            % (json.dumps(start.strftime("%Y-%m-%dT08:00")),
               json.dumps(start.strftime("%Y-%m-%dT16:00"))))
    n = len(fake.requests)
    status = page.submit("document.querySelector('#override-add button').click()")
    what = page.js("document.getElementById('what').innerText")
    check(status == 200 and "Mikko Korhonen" in what and "08:00" in what and
          len(fake.requests) == n, "an override's first step only shows it: %r" % what)
    page.shot("override-confirm")
    status = page.submit("document.getElementById('confirm').click()")
    check(status == 200 and page.js("document.getElementById('result').className") == "ok" and
          fake.requests[-1].startswith(b"override-add kind=add line=sos worker=mikko from="),
          "the confirm sends override-add: %r" % fake.requests[-1:])
    page.goto(base + "/roster")
    check(page.js("document.querySelector('#overrides').innerText.includes('mikko')"),
          "the roster page lists the override")
    # a worker disabled from the workers table
    status = page.submit("const f = [...document.querySelectorAll('#workers form')].find("
                         "f => f.worker.value === 'sanna'); f.disabled.checked = true; "
                         "f.querySelector('button').click()")
    check(status == 200 and fake.requests[-1] == b"worker-set worker=sanna disabled=1 by=aino\n",
          "the workers table sends worker-set: %r" % fake.requests[-1:])
    page.goto(base + "/roster")
    check("Sanna Hämäläinen (" in page.js("document.getElementById('workers').innerText"),
          "and the worker shows as disabled")
    # her language and phone from the same form: only what changed is sent, the phone as E.164
    status = page.submit("const f = [...document.querySelectorAll('#workers form')].find("
                         "f => f.worker.value === 'sanna'); f.lang.value = 'sv'; "
                         "f.phone.value = '0401234599'; "
                         "f.querySelector('button').click()")
    check(status == 200 and fake.requests[-1] ==
          b"worker-set worker=sanna disabled=1 lang=sv phone=+358401234599 by=aino\n",
          "the workers table sends a language and phone change: %r" % fake.requests[-1:])
    page.goto(base + "/roster")
    row = page.js("[...document.querySelectorAll('#workers tr')].find("
                  "t => t.innerText.includes('Sanna')).innerText")
    check("+358401234599" in row and "\tsv\t" in row,
          "and the workers table shows her new phone and language: %r" % row)
    r = urllib.request.Request(base + "/roster.csv", headers={"Cookie": "rinki_session=" + next(
        c["value"] for c in page.call("Network.getCookies", urls=[base + "/"])["cookies"]
        if c["name"] == "rinki_session")})
    with urllib.request.urlopen(r, timeout=WAIT_S) as f:
        check(b"worker,sanna," in f.read(), "the download has the applied roster")


def report_checks(page, base, seeded):
    """The report of yesterday and today (the fixture's three calls) as the manager."""
    from zoneinfo import ZoneInfo
    hel = ZoneInfo("Europe/Helsinki")
    today = datetime.now(hel).date()
    q = "from=%s&to=%s" % (today - timedelta(days=1), today)
    check(page.goto(base + "/report?" + q) == 200, "the manager opens the report")

    def bars(chart):
        return page.js("[...document.querySelectorAll('#%s rect.bar')]"
                       ".map(r => r.querySelector('title').textContent)" % chart)
    days = bars("chart-days")
    check(sum(int(d.rsplit(": ", 1)[1]) for d in days) == 3,
          "calls per day: the 3 calls in the bars: %r" % (days,))
    # the fixture's calls started 60, 50 and 40 min before it ran: their local days
    want = [{datetime.fromtimestamp(t - m * 60, hel).date() for m in (60, 50, 40)}
            for t in seeded]
    if want[0] == want[1]:
        check(len(days) == len(want[0]), "a bar per local day with calls: %r" % (days,))
    check(page.js("document.querySelectorAll('#chart-heatmap rect.cell').length") == 168,
          "the heatmap has 7 x 24 cells")
    check(bars("chart-accept") == ["≤ 20 s: 1"], "time to accept: one call in 12 s: %r"
          % (bars("chart-accept"),))
    check(bars("chart-who") == ["first worker: 1", "nobody: 2"],
          "who took the calls: %r" % (bars("chart-who"),))
    munis = page.js("[...document.querySelectorAll('#chart-munis rect.bar')]"
                    ".map(r => r.getAttribute('class') + ' ' + r.querySelector('title').textContent)")
    check(munis == ["bar member Mikkeli (member municipality): 1",
                    "bar contract Pieksämäki (contract municipality): 1",
                    "bar none no municipality: 1"],
          "calls per municipality, marked by membership: %r" % (munis,))
    check(page.js("document.getElementById('check').className") == "ok",
          "the report's self-check holds")
    text = page.js("document.body.innerText")
    check("+358" not in text and "Aino" not in text and "aino" not in text,
          "the report shows no names or phone numbers")
    check(page.js("document.documentElement.scrollWidth <= window.innerWidth + 1"),
          "the report page fits a phone screen")
    page.shot("report")
    cookie = next(c for c in page.call("Network.getCookies", urls=[base + "/"])["cookies"]
                  if c["name"] == "rinki_session")
    req = urllib.request.Request(base + "/report.csv?" + q,
                                 headers={"Cookie": "rinki_session=" + cookie["value"]})
    with urllib.request.urlopen(req, timeout=WAIT_S) as r:
        csv = r.read().decode()
        check(r.headers["Content-Type"] == "text/csv; charset=utf-8" and
              r.headers["Content-Disposition"].startswith("attachment; filename=\"rinki-report-"),
              "the report's CSV downloads as a file")
    check(re.search(r"\r\n[^,]*,[^,]*,total,,,3,", csv) is not None,
          "the CSV's total has the 3 calls: %r" % csv[:300])
    check(re.search(r"\r\n[^,]*,[^,]*,municipality,Mikkeli,member municipality,1,", csv)
          is not None and re.search(r"\r\n[^,]*,[^,]*,municipality,Pieksämäki,contract "
                                    r"municipality,1,", csv) is not None,
          "the CSV has a row per municipality: %r" % csv[:600])


def https_checks(web, root, conf, tmp, procs):
    """HTTPS with a self-signed pair: any address allowed, every cookie Secure."""
    import http.client
    import ssl

    cert, key = os.path.join(tmp, "web.crt"), os.path.join(tmp, "web.key")
    run([web, "tls-selfsigned", cert, key, "127.0.0.1"])
    check(os.stat(key).st_mode & 0o777 == 0o600, "the self-signed key is mode 0600")
    tls_conf = conf + ".tls"
    with open(tls_conf, "w") as f:
        f.write(open(conf).read().replace("127.0.0.1:0", "0.0.0.0:0") +
                "web.tls_cert %s\nweb.tls_key %s\n" % (cert, key))
    srv = subprocess.Popen([web, "-c", tls_conf] + root, stdout=subprocess.PIPE,
                           stderr=open(os.path.join(tmp, "web-tls.log"), "w"))
    procs.append(srv)
    port = int(wait_line(srv, r"listening https://0\.0\.0\.0:(\d+)/", "rinki-web (TLS)").group(1))
    check(True, "web.listen 0.0.0.0 is served with TLS")
    ctx = ssl.create_default_context(cafile=cert)  # verifies the chain and 127.0.0.1

    def request(method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=WAIT_S, context=ctx)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    r, data = request("GET", "/login")
    login_cookie = r.getheader("Set-Cookie") or ""
    check(r.status == 200 and "; Secure" in login_cookie and login_cookie.startswith(
        "rinki_login="), "over HTTPS the login cookie is Secure: %r" % login_cookie)
    tok = re.search(r'name="csrf" value="([0-9a-f]+)"', data.decode()).group(1)
    body = "csrf=%s&user=timo&password=%s" % (tok, urllib.parse.quote("timo's long password"))
    r, _ = request("POST", "/login", body, {"Cookie": "rinki_login=" + tok,
                                            "Content-Type": "application/x-www-form-urlencoded"})
    sess = [v for k, v in r.getheaders() if k == "Set-Cookie" and v.startswith("rinki_session=")]
    check(r.status == 303 and len(sess) == 1 and "; Secure" in sess[0] and "HttpOnly" in sess[0],
          "over HTTPS the session cookie is Secure and HttpOnly: %r" % (sess,))
    if sess:
        r, data = request("GET", "/system", headers={"Cookie": sess[0].split(";")[0]})
        check(r.status == 200 and b'id="chain"' in data, "the system page over HTTPS")
    # plain HTTP to the TLS port gets no page
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_S)
        c.request("GET", "/login")
        plain = c.getresponse().status
    except (http.client.HTTPException, OSError):
        plain = None
    check(plain is None, "plain HTTP to the TLS port gets no page: %r" % plain)
    # a key others may read is refused at start, with the reason
    os.chmod(key, 0o644)
    r = subprocess.run([web, "-c", tls_conf] + root, capture_output=True, text=True,
                       timeout=WAIT_S)
    check(r.returncode == 1 and "chmod 0600" in r.stderr, "a key others may read is refused")
    srv.send_signal(signal.SIGTERM)
    check(srv.wait(timeout=WAIT_S) == 0, "rinki-web (TLS) exits 0 on SIGTERM")

    # first start with neither file there: rinki-web makes a self-signed pair and serves it
    cert, key = os.path.join(tmp, "first.crt"), os.path.join(tmp, "first.key")
    with open(tls_conf + ".first", "w") as f:
        f.write(open(conf).read() + "web.tls_cert %s\nweb.tls_key %s\n" % (cert, key))
    srv = subprocess.Popen([web, "-c", tls_conf + ".first"] + root, stdout=subprocess.PIPE,
                           stderr=open(os.path.join(tmp, "web-first.log"), "w"))
    procs.append(srv)
    port = int(wait_line(srv, r"listening https://127\.0\.0\.1:(\d+)/", "rinki-web (first)")
               .group(1))
    check(os.stat(key).st_mode & 0o777 == 0o600 and os.path.exists(cert),
          "a first start with neither file makes a self-signed pair (key 0600)")
    ctx = ssl.create_default_context(cafile=cert)
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=WAIT_S, context=ctx)
    c.request("GET", "/login")
    check(c.getresponse().status == 200, "and serves it")
    c.close()
    srv.send_signal(signal.SIGTERM)
    check(srv.wait(timeout=WAIT_S) == 0, "rinki-web (first start) exits 0 on SIGTERM")


if __name__ == "__main__":
    sys.exit(main())
