# SPDX-License-Identifier: ISC (see LICENSE)
"""The latency bench (issue 15), run by bench/latency.sh.

A userspace proxy on loopback delays each direction of every connection
by a one-way time (this kernel has no netem) and logs what passes, so
that the round trips a client waited for can be counted: each time the
client sends (or closes) after the server's bytes reached it, it has
waited for them.  A wait is named after what the client had sent before
it ("EHLO", "MAIL/RCPT/DATA", "." for the data and its dot, "TLS" for
encrypted bytes); the first is the greeting.

For each one-way delay (0, 10, 30 ms) it reports, for postern, msmtp and
Postfix's smtp-source: the wall time of one small message (median of
BENCH_LATENCY_RUNS) to smtp-sink, and with STARTTLS + AUTH PLAIN to the
tests' private Postfix (smtp-source has neither), with the replies each
waited for; then the time `postern -q` takes to drain a backlog of
BENCH_LATENCY_BACKLOG (2,000) messages to smtp-sink: with the binary
POSTERN_BASELINE (the one-connection postern of before, when given) and
with [queue] connections = each of BENCH_LATENCY_CONNS (1,3,20), all
through the same proxy in the same run.  The same drain to the private
Postfix, which offers CHUNKING, with BENCH_LATENCY_PF_BACKLOG (300)
messages at the largest delay only (Postfix delivers each into a
Maildir, which bounds its rate on a small machine).

    latency.py POSTERN TMPDIR RESULTS_MD
Knobs: BENCH_LATENCY_DELAYS ("0,10,30"), BENCH_LATENCY_RUNS (5),
BENCH_LATENCY_BACKLOG (2000), BENCH_LATENCY_CONNS ("1,3,20"),
BENCH_LATENCY_PF_BACKLOG (300),
POSTERN_BASELINE, MSMTP, SMTP_SINK, SMTP_SOURCE.
"""

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration", "lib"))

import bench  # noqa: E402  (smtp-sink, messages, tables)

ENV = os.environ
DELAYS = [int(x) for x in ENV.get("BENCH_LATENCY_DELAYS", "0,10,30")
          .split(",") if x]
RUNS = int(ENV.get("BENCH_LATENCY_RUNS", "5"))
BACKLOG = int(ENV.get("BENCH_LATENCY_BACKLOG", "2000"))
CONNS = [int(x) for x in ENV.get("BENCH_LATENCY_CONNS", "1,3,20").split(",")
         if x]
BASELINE = ENV.get("POSTERN_BASELINE", "")
PF_BACKLOG = int(ENV.get("BENCH_LATENCY_PF_BACKLOG", "300"))
VERBS = {b"EHLO", b"HELO", b"MAIL", b"RCPT", b"DATA", b"BDAT", b"QUIT",
         b"RSET", b"STARTTLS", b"AUTH", b"NOOP"}


# ------------------------------------------------------------------ proxy

class Proxy:
    """127.0.0.1:port -> 127.0.0.1:upstream, each direction delayed by
    delay seconds; conns holds one event list per connection:
    ("C", t, bytes) as the client's bytes arrive (b"" for its EOF),
    ("S", t, bytes) as the server's bytes are handed to the client."""

    def __init__(self, loop, upstream, delay):
        self.loop, self.upstream, self.delay = loop, upstream, delay
        self.conns = []
        self.server = None
        self.port = None

    async def _start(self):
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _pump(self, reader, writer, ev, tag):
        q = asyncio.Queue()

        async def feed():
            while True:
                b = await reader.read(65536)
                if tag == "C":
                    ev.append(("C", time.monotonic(), b))
                await q.put((time.monotonic() + self.delay, b))
                if not b:
                    return

        async def drain():
            while True:
                due, b = await q.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not b:
                    try:
                        writer.write_eof()
                    except (OSError, RuntimeError):
                        pass
                    return
                if tag == "S":
                    ev.append(("S", time.monotonic(), b))
                writer.write(b)
                await writer.drain()
        try:
            await asyncio.gather(feed(), drain())
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            pass

    async def _conn(self, creader, cwriter):
        ev = []
        self.conns.append(ev)
        try:
            sreader, swriter = await asyncio.open_connection(
                "127.0.0.1", self.upstream)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(self._pump(creader, swriter, ev, "C"),
                             self._pump(sreader, cwriter, ev, "S"))
        for w in (cwriter, swriter):
            try:
                w.close()
            except OSError:
                pass

    def start(self):
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)
        return self

    def stop(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)


def start_loop():
    loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    return loop


def label(run):
    """Name a client flight by its commands."""
    if not run:
        return "close"
    if run[:1] in (b"\x14", b"\x15", b"\x16", b"\x17"):
        return "TLS"
    out = []
    for line in run.split(b"\r\n"):
        w = line.split(b" ", 1)[0].upper()
        if w in VERBS and (not out or out[-1] != w.decode()):
            out.append(w.decode())
    if run.endswith(b"\r\n.\r\n") or run == b".\r\n":
        out.append(".")
    return "/".join(out) or "data"


def waits(ev):
    """The waits of one connection, named; the first is the greeting."""
    out, run, seen = [], b"", False
    for d, _, b in ev:
        if d == "S":
            seen = True
            continue
        if seen:
            out.append(label(run) if out else "greeting")
            run, seen = b"", False
        run += b
    return out


# ---------------------------------------------------------------- clients

def run_client(argv, msgf, timeout=120):
    t0 = time.monotonic()
    with open(msgf, "rb") as f:
        p = subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
    return time.monotonic() - t0, p.returncode, p.stderr.decode(
        "utf-8", "replace").strip()


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def plain_clients(postern, tmp, port, msgf):
    ini = write_private(os.path.join(tmp, "lat-plain.ini"),
                        "[remote]\nhost = 127.0.0.1\nport = %d\n"
                        "helo = bench.example.test\n[sender]\n"
                        "domain = example.test\n[log]\nsyslog = no\n"
                        "[queue]\nmode = never\ndir = %s\n"
                        % (port, os.path.join(tmp, "lat-spool")))
    rc = write_private(os.path.join(tmp, "lat-msmtprc"),
                       "defaults\nauth off\ntls off\nsyslog off\n"
                       "account default\nhost 127.0.0.1\nport %d\nfrom %s\n"
                       % (port, bench.SENDER))
    return [("postern", [postern, "-C", ini, "-i", bench.RCPT]),
            ("msmtp", [bench.MSMTP, "-C", rc, "-i", bench.RCPT]),
            ("smtp-source", [bench.SOURCE, "-M", "bench.example.test", "-f",
                             bench.SENDER, "-t", bench.RCPT, "-F", msgf,
                             "127.0.0.1:%d" % port])]


def tls_clients(postern, tmp, port, ca):
    ini = write_private(os.path.join(tmp, "lat-tls.ini"),
                        "[remote]\nhost = 127.0.0.1\nport = %d\n"
                        "tls = starttls\ntls_ca_file = %s\n"
                        "tls_session_cache = %s\nauth = basic\n"
                        "user = alice\npassword = secret\n"
                        "helo = bench.example.test\n[sender]\n"
                        "domain = example.test\n[log]\nsyslog = no\n"
                        "[queue]\nmode = never\ndir = %s\n"
                        % (port, ca, os.path.join(tmp, "lat-tlscache"),
                           os.path.join(tmp, "lat-spool")))
    rc = write_private(os.path.join(tmp, "lat-msmtprc-tls"),
                       "defaults\ntls on\ntls_starttls on\n"
                       "tls_trust_file %s\ntls_host_override localhost\n"
                       "auth plain\nuser alice\npassword secret\n"
                       "syslog off\naccount default\nhost 127.0.0.1\n"
                       "port %d\nfrom %s\n" % (ca, port, bench.SENDER))
    return [("postern", [postern, "-C", ini, "-i", bench.RCPT]),
            ("msmtp", [bench.MSMTP, "-C", rc, "-i", bench.RCPT])]


# ---------------------------------------------------------------- backlog

def make_backlog(postern, tmp, msgf, n, name="lat-backlog"):
    """n messages in a spool, committed while nothing listens."""
    spool = os.path.join(tmp, name)
    ini = write_private(os.path.join(tmp, "lat-down.ini"),
                        "[remote]\nhost = 127.0.0.1\nport = %d\n"
                        "[sender]\ndomain = example.test\n[log]\n"
                        "syslog = no\n[queue]\nmode = fallback\ndir = %s\n"
                        % (bench.free_port(), spool))
    for i in range(n):
        _, rc, err = run_client([postern, "-C", ini, "-i", bench.RCPT], msgf)
        if rc != 0:
            raise SystemExit("latency: spooling message %d: %s" % (i, err))
    return spool


def drain(binary, tmp, spool, port, conns):
    """Copy the backlog, drain it with binary -q; (seconds, left)."""
    work = os.path.join(tmp, "lat-drain")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(spool, work, symlinks=True)
    text = ("[remote]\nhost = 127.0.0.1\nport = %d\ntimeout = 60\n"
            "helo = bench.example.test\n[sender]\ndomain = example.test\n"
            "[log]\nsyslog = no\n[queue]\ndir = %s\n" % (port, work))
    if conns is not None:
        text += "connections = %d\n" % conns
    ini = write_private(os.path.join(tmp, "lat-drain.ini"), text)
    t0 = time.monotonic()
    p = subprocess.run([binary, "-C", ini, "-q"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=3600)
    secs = time.monotonic() - t0
    left = len(os.listdir(os.path.join(work, "queue")))
    shutil.rmtree(work, ignore_errors=True)
    return secs, left, p.returncode


def drains(loop, upstream, d, postern, tmp, spool, where):
    """The backlog drained by each run, through one proxy."""
    runs = ([("before (one connection)", BASELINE, None)]
            if BASELINE else [])
    runs += [("connections = %d" % c, postern, c) for c in CONNS]
    out = []
    px = Proxy(loop, upstream, d / 1000.0).start()
    try:
        for name, binary, c in runs:
            bench.log("latency: backlog to %s, %d ms, %s" % (where, d, name))
            secs, left, rc = drain(binary, tmp, spool, px.port, c)
            out.append((d, name, secs, left, rc))
    finally:
        px.stop()
    return out


# ----------------------------------------------------------------- report

def fmt_waits(ph):
    if ph is None:
        return "-", "-"
    return str(len(ph) - 1), ", ".join(ph[1:]) or "-"


def backlog_table(backlog, n, where):
    out = ["", "Backlog: %d messages spooled, then `postern -q` to %s "
           "through the same proxy." % (n, where), ""]
    rows = []
    for delay, name, secs, left, rc in backlog:
        rows.append(["%d ms" % delay, name, "%.1f" % secs,
                     "%.0f" % (n / secs if secs else 0), str(left),
                     str(rc)])
    out.append(bench.table(["one-way", "run", "drain s", "msgs/s", "left",
                            "exit"], rows))
    base = {d: s for d, name, s, _, _ in backlog if name.startswith("before")}
    for d, name, s, _, _ in backlog:
        if d in base and not name.startswith("before") and s:
            out.append("- %d ms, %s: %.1fx faster than before"
                       % (d, name, base[d] / s))
    return out


def report(single, backlog, pf_backlog, notes):
    out = ["", "## Latency (bench/latency.sh)", "",
           "Each direction of every connection delayed by the one-way "
           "time in a userspace proxy on loopback.  \"replies waited\": "
           "after the greeting, counted from the proxy's log (the client "
           "sent, or closed, after the server's bytes reached it), each "
           "named after what the client had sent; \"TLS\" is encrypted.  "
           "Wall: median of %d runs." % RUNS, ""]
    rows = []
    for (what, delay), res in single:
        for name, (wall, ph) in res.items():
            n, names = fmt_waits(ph)
            rows.append([what, "%d ms" % delay, name, bench.ms(wall), n,
                         names])
    if rows:
        out.append(bench.table(["message", "one-way", "client", "wall ms",
                                "replies waited", "waits for"], rows))
    if backlog:
        out += backlog_table(backlog, BACKLOG, "smtp-sink (no CHUNKING)")
    if pf_backlog:
        out += backlog_table(pf_backlog, PF_BACKLOG,
                             "the private Postfix (CHUNKING)")
    if notes:
        out += ["", "### Notes (latency)", ""] + ["- " + x for x in notes]
    return "\n".join(out) + "\n"


def tls_setup(tmp):
    certs = os.path.join(tmp, "lat-certs")
    subprocess.run(["sh", os.path.join(TOP, "tests", "certs", "mkcerts.sh"),
                    certs], check=True, stdout=subprocess.DEVNULL)
    from postfix import PrivatePostfix
    pf = PrivatePostfix(tls={"cert": os.path.join(certs, "server.pem"),
                             "key": os.path.join(certs, "server.key")},
                        sasl={"users": {"alice": "secret"}})
    pf.start()
    return pf, os.path.join(certs, "ca.pem")


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: latency.py POSTERN TMPDIR RESULTS_MD")
    postern, tmp, results = sys.argv[1:]
    notes, single, backlog, pf_backlog = [], [], [], []
    msgf = os.path.join(tmp, "lat-1k.eml")
    bench.write_message(msgf, 1024, "lat1k")
    loop = start_loop()
    sink = bench.start_sink(tmp)
    pf = None
    try:
        for d in DELAYS if RUNS > 0 else []:
            bench.log("latency: one message, %d ms" % d)
            res = one_message(loop, sink, d,
                              lambda p: plain_clients(postern, tmp, p, msgf),
                              msgf, notes, "plain")
            single.append((("1 KB plain", d), res))
        if os.geteuid() == 0:
            pf, ca = tls_setup(tmp)
            for d in DELAYS if RUNS > 0 else []:
                bench.log("latency: STARTTLS + AUTH PLAIN, %d ms" % d)
                res = one_message(
                    loop, pf.submission_port, d,
                    lambda p: tls_clients(postern, tmp, p, ca), msgf, notes,
                    "STARTTLS+AUTH")
                single.append((("1 KB STARTTLS+AUTH", d), res))
            if PF_BACKLOG > 0 and DELAYS:
                bench.log("latency: spooling %d messages" % PF_BACKLOG)
                spool = make_backlog(postern, tmp, msgf, PF_BACKLOG,
                                     "lat-pf-backlog")
                pf_backlog = drains(loop, pf.port, max(DELAYS), postern,
                                    tmp, spool, "Postfix")
            pf.stop()
            pf = None
        else:
            notes.append("STARTTLS + AUTH skipped: a private Postfix needs "
                         "root")
        if BACKLOG > 0:
            bench.log("latency: spooling %d messages" % BACKLOG)
            spool = make_backlog(postern, tmp, msgf, BACKLOG)
            for d in DELAYS:
                backlog += drains(loop, sink, d, postern, tmp, spool,
                                  "smtp-sink")
    finally:
        if pf is not None:
            pf.stop()
        bench.stop_sink()
    text = report(single, backlog, pf_backlog, notes)
    with open(results, "a") as f:
        f.write(text)
    print(text, end="")
    return 0


def one_message(loop, upstream, delay, make, msgf, notes, what):
    """{client: (median wall, [wait names])} through one proxy; make
    gives the clients for the proxy's port."""
    out = {}
    px = Proxy(loop, upstream, delay / 1000.0).start()
    try:
        for name, argv in make(px.port):
            walls, phases = [], None
            for i in range(RUNS + 1):       # the first warms caches
                before = len(px.conns)
                wall, rc, err = run_client(argv, msgf)
                if rc != 0:
                    notes.append("%s, %s, %d ms: exit %d: %s"
                                 % (what, name, delay, rc, err[:200]))
                    break
                time.sleep(max(0.05, 3 * delay / 1000.0))   # let it close
                if i == 0:
                    continue
                walls.append(wall)
                if len(px.conns) == before + 1:
                    phases = waits(px.conns[-1])
            if walls:
                out[name] = (statistics.median(walls), phases)
    finally:
        px.stop()
    return out


if __name__ == "__main__":
    sys.exit(main())
