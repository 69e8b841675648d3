# SPDX-License-Identifier: ISC (see LICENSE)
"""Fewer round trips and a parallel queue run (issue 15): one message in
one group with CHUNKING (BDAT), DATA kept where BDAT could break the
all-or-nothing contract, QUIT not awaited, a server that closes after the
final reply; [queue] connections: every message once over several
connections, two runners at once, fewer connections when the server
refuses them (421 greeting, Exchange Online's 432 at MAIL), a server that
is down.  Timings are never asserted."""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, tmpdir,
                     write_ini, merge, default_sections, quiet_success,
                     crlf, postern_path, base_env)
from fakesmtp import FakeSMTP, DROP

ARGS = ["-i", "-f", "a@x.test", "b@x.test"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def setup(connections=None, mode="fallback"):
    d = tmpdir()
    port = free_port()
    q = {"dir": os.path.join(d, "spool"), "mode": mode}
    if connections is not None:
        q["connections"] = connections
    ini = write_ini(d, merge(default_sections(port, d, timeout=10),
                             {"queue": q}))
    return ini, d, port, q["dir"]


def queued(spool):
    p = os.path.join(spool, "queue")
    return sorted(os.listdir(p)) if os.path.isdir(p) else []


def msg(subject, body="hello\n"):
    return crlf("From: a@x.test\nTo: b@x.test\nSubject: %s\n\n%s"
                % (subject, body))


def subjects(srv):
    return sorted(t.data.split(b"Subject: ")[1].split(b"\r\n")[0]
                  for t in srv.messages())


def spool_n(ini, spool, n, tag):
    """n messages in the spool (the upstream is down: fallback)."""
    for i in range(n):
        res = run(ARGS, msg("%s %d" % (tag, i)), ini=ini)
        if res.rc != 0:
            return False
    return len(queued(spool)) == n


def state_attempts(spool):
    out = {}
    sd = os.path.join(spool, "state")
    for name in os.listdir(sd) if os.path.isdir(sd) else []:
        with open(os.path.join(sd, name), "rb") as f:
            for line in f.read().split(b"\n"):
                if line.startswith(b"attempts "):
                    out[name] = int(line.split()[1])
    return out


# -- one message, fewest round trips --------------------------------------

def bdat_accepted():
    body = "line one\n.starts with a dot\n..two dots\nend\n"
    with FakeSMTP(caps=["PIPELINING", "8BITMIME", "CHUNKING"]) as srv:
        d = tmpdir()
        ini = write_ini(d, default_sections(srv.port, d))
        res = run(ARGS, msg("bdat", body), ini=ini)
        srv.wait_closed()
    check("BDAT: exit 0, silent", quiet_success(res), res)
    c = srv.conns[0] if srv.conns else None
    check("BDAT: MAIL, RCPT, BDAT n LAST and the data in one read",
          c is not None and len(c.reads) >= 2 and
          c.reads[1].startswith(b"MAIL FROM:<a@x.test>") and
          b"\r\nBDAT " in c.reads[1] and c.reads[1].endswith(b"end\r\n"),
          c and c.reads)
    check("BDAT: no DATA, no final dot, then QUIT",
          c is not None and "DATA" not in c.commands and
          c.commands[-1] == "QUIT", c and c.commands)
    m = srv.messages()
    check("BDAT: the lines with dots arrive as written, not stuffed",
          len(m) == 1 and m[0].data.endswith(
              crlf("\n" + body)), m and m[0].data[-80:])
    n = int(c.bdat_lines[0].split()[1]) if c and c.bdat_lines else -1
    check_eq("BDAT: n is the size of what followed",
             n, len(m[0].data) if m else -2)


def bdat_refused_rcpt():
    with FakeSMTP(caps=["PIPELINING", "CHUNKING"],
                  rcpt="550 5.1.1 no such user") as srv:
        d = tmpdir()
        sec = merge(default_sections(srv.port, d),
                    {"queue": {"dir": os.path.join(d, "spool"),
                               "mode": "never"}})
        ini = write_ini(d, sec)
        res = run(ARGS, msg("refused"), ini=ini)
        srv.wait_closed()
    check_eq("BDAT, recipient refused: exit 67", res.rc, 67)
    check("BDAT, recipient refused: one line naming it",
          res.err.count(b"\n") == 1 and b"RCPT TO:<b@x.test> refused" in
          res.err, res.err)
    check("BDAT, recipient refused: nothing delivered",
          not srv.messages() and srv.conns and
          srv.conns[0].bdat_lines, srv.commands())


def data_kept():
    """Two recipients, all-or-nothing: DATA, and a refusal aborts it."""
    with FakeSMTP(caps=["PIPELINING", "CHUNKING"],
                  rcpt={"c@x.test": "550 5.1.1 no such user"}) as srv:
        d = tmpdir()
        sec = merge(default_sections(srv.port, d),
                    {"queue": {"dir": os.path.join(d, "spool"),
                               "mode": "never"}})
        ini = write_ini(d, sec)
        res = run(["-i", "-f", "a@x.test", "b@x.test", "c@x.test"],
                  msg("two"), ini=ini)
        srv.wait_closed()
    check_eq("two recipients, one refused: exit 69", res.rc, 69)
    check("two recipients: DATA, not BDAT; nothing delivered",
          "DATA" in srv.commands() and
          not any(c.bdat_lines for c in srv.conns) and
          not srv.messages(), srv.commands())
    with FakeSMTP(caps=["PIPELINING", "8BITMIME"]) as srv:
        d = tmpdir()
        ini = write_ini(d, default_sections(srv.port, d))
        res = run(ARGS, msg("plain"), ini=ini)
        srv.wait_closed()
    check("no CHUNKING: DATA and the dot, exit 0",
          quiet_success(res) and "DATA" in srv.commands() and
          len(srv.messages()) == 1, (res, srv.commands()))


def quit_not_awaited():
    """A server that never answers QUIT must not hold postern: with
    timeout = 30 the server's own idle limit (5 s) would end first."""
    srv = FakeSMTP(idle_timeout=5)
    orig = srv._reply

    def reply(c, r):
        if c.commands and c.commands[-1] == "QUIT":
            srv._wait_for_close(c)
            c.quit_unanswered = True
            return False
        return orig(c, r)
    srv._reply = reply
    srv.start()
    try:
        d = tmpdir()
        ini = write_ini(d, default_sections(srv.port, d, timeout=30))
        res = run(ARGS, msg("quit"), ini=ini)
        srv.wait_closed()
    finally:
        srv.stop()
    c = srv.conns[0] if srv.conns else None
    check("QUIT unanswered: exit 0, delivered", quiet_success(res) and
          len(srv.messages()) == 1, res)
    check("QUIT unanswered: postern closed the connection itself",
          c is not None and getattr(c, "quit_unanswered", False) and
          c.commands[-1] == "QUIT", c and c.commands)


def closed_after_final_reply():
    """The server hangs up right after accepting: a success."""
    class Hangup(FakeSMTP):
        def _read_data(self, c, txn, lines):
            ok = FakeSMTP._read_data(self, c, txn, lines)
            return False if ok else ok
    for caps, name in ((["PIPELINING"], "DATA"),
                       (["PIPELINING", "CHUNKING"], "BDAT")):
        srv = Hangup(caps=caps)
        if name == "BDAT":
            orig = srv._bdat
            srv._bdat = lambda c, t, l, ls: orig(c, t, l, ls) and False
        srv.start()
        try:
            d = tmpdir()
            sec = merge(default_sections(srv.port, d),
                        {"queue": {"dir": os.path.join(d, "spool"),
                                   "mode": "never"}})
            res = run(ARGS, msg("hangup"), ini=write_ini(d, sec))
            srv.wait_closed()
        finally:
            srv.stop()
        check("%s, closed after the final reply: exit 0, delivered once"
              % name, quiet_success(res) and len(srv.messages()) == 1,
              (res, srv.commands()))


def lost_after_bdat():
    """The connection drops after the BDAT group, before its reply: the
    message may have arrived; fallback spools it and the log says the
    retry may deliver it twice."""
    with FakeSMTP(caps=["PIPELINING", "CHUNKING"], dot=DROP) as srv:
        d = tmpdir()
        sec = merge(default_sections(srv.port, d),
                    {"queue": {"dir": os.path.join(d, "spool")}})
        res = run(ARGS, msg("lost"), ini=write_ini(d, sec))
        srv.wait_closed()
    with open(os.path.join(d, "postern.log"), "rb") as f:
        log = f.read()
    check("lost after BDAT: spooled, exit 0", quiet_success(res) and
          len(queued(os.path.join(d, "spool"))) == 1, res)
    check("lost after BDAT: the log warns of a possible duplicate",
          b"lost after BDAT: the message may have been delivered" in log
          and b"may deliver the message twice" in log, log)


# -- [queue] connections ---------------------------------------------------

def parallel():
    ini, d, port, spool = setup(connections=4)
    n = 40
    if not check("parallel: %d messages spooled" % n,
                 spool_n(ini, spool, n, "par"), queued(spool)):
        return
    srv = FakeSMTP().start(port)
    try:
        res = run(["-q"], ini=ini)
        srv.wait_closed(20)
    finally:
        srv.stop()
    check("parallel: -q exits 0 silently", quiet_success(res), res)
    check_eq("parallel: every message delivered once", subjects(srv),
             sorted(("par %d" % i).encode() for i in range(n)))
    check("parallel: several connections, at most 4 at once",
          2 <= len(srv.conns) <= 4 and srv.peak <= 4,
          (len(srv.conns), srv.peak))
    check("parallel: each connection carried its messages, then QUIT",
          all(c.commands[-1] == "QUIT" for c in srv.conns) and
          sum(len(c.txns) for c in srv.conns) == n,
          [len(c.txns) for c in srv.conns])
    check_eq("parallel: spool empty", queued(spool), [])


def two_runners():
    ini, d, port, spool = setup(connections=4)
    n = 60
    if not check("two runners: %d messages spooled" % n,
                 spool_n(ini, spool, n, "two"), queued(spool)):
        return
    srv = FakeSMTP().start(port)
    try:
        procs = [subprocess.Popen([postern_path(), "-C", ini, "-q"],
                                  env=base_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(3)]
        outs = [p.communicate(timeout=120) for p in procs]
        srv.wait_closed(20)
    finally:
        srv.stop()
    check("three runners of 4 connections: all exit 0 silently",
          all(p.returncode == 0 for p in procs) and
          all(o == (b"", b"") for o in outs), outs)
    check_eq("three runners of 4 connections: each message once",
             subjects(srv),
             sorted(("two %d" % i).encode() for i in range(n)))
    check_eq("three runners: spool empty", queued(spool), [])


def fewer_on_421():
    """Only 2 sessions at once: the others are greeted with 421; their
    workers stop and give their message back untouched."""
    ini, d, port, spool = setup(connections=5)
    n = 30
    if not check("421: %d messages spooled" % n,
                 spool_n(ini, spool, n, "lim"), queued(spool)):
        return
    srv = FakeSMTP(max_conns=2).start(port)
    try:
        res = run(["-q"], ini=ini)
        srv.wait_closed(20)
    finally:
        srv.stop()
    check("421: -q exits 0", quiet_success(res), res)
    check_eq("421: every message delivered once all the same",
             subjects(srv),
             sorted(("lim %d" % i).encode() for i in range(n)))
    refused = [c for c in srv.conns if c.over]
    check("421: the refused connections carried nothing",
          all(not c.txns for c in refused), [c.commands for c in refused])
    check_eq("421: spool empty, nothing deferred", queued(spool), [])


def fewer_on_432():
    """Exchange Online: a 432 to MAIL on the sessions beyond 2; the
    message is deferred, that worker stops, the others carry on."""
    ini, d, port, spool = setup(connections=4)
    n = 30
    if not check("432: %d messages spooled" % n,
                 spool_n(ini, spool, n, "exo"), queued(spool)):
        return
    srv = FakeSMTP(max_conns=2, over_at="mail",
                   over="432 4.3.2 Concurrent connections limit exceeded")
    srv.start(port)
    try:
        res = run(["-q"], ini=ini)
        srv.wait_closed(20)
    finally:
        srv.stop()
    over = [c for c in srv.conns if c.over]
    left = queued(spool)
    check("432: -q exits 0", quiet_success(res), res)
    check("432: a refused session tried one message, then stopped",
          all(len(c.txns) <= 1 for c in over), [c.commands for c in over])
    check_eq("432: what was refused stays queued, the rest delivered",
             len(left) + len(srv.messages()), n)
    check_eq("432: the deferred ones were tried once by -q",
             sorted(set(state_attempts(spool).values())) or [2], [2])
    check("432: nothing delivered twice",
          len(set(subjects(srv))) == len(srv.messages()), subjects(srv))


def server_down():
    ini, d, port, spool = setup(connections=3)
    n = 9
    if not check("down: %d messages spooled" % n,
                 spool_n(ini, spool, n, "down"), queued(spool)):
        return
    res = run(["-q"], ini=ini)
    check("down: -q exits 0 silently", quiet_success(res), res)
    att = state_attempts(spool)
    check_eq("down: every message kept, tried once", (len(queued(spool)),
             sorted(set(att.values()))), (n, [2]))


def server_refuses():
    """Every session greeted with 421: each worker tries once, and the
    messages they gave back are deferred without another connection."""
    ini, d, port, spool = setup(connections=3)
    n = 9
    if not check("421 for all: %d messages spooled" % n,
                 spool_n(ini, spool, n, "all"), queued(spool)):
        return
    srv = FakeSMTP(greeting="421 4.3.2 not now").start(port)
    try:
        res = run(["-q"], ini=ini)
        srv.wait_closed(20)
    finally:
        srv.stop()
    check("421 for all: -q exits 0 silently", quiet_success(res), res)
    check("421 for all: at most one connection per worker",
          1 <= len(srv.conns) <= 3, len(srv.conns))
    check_eq("421 for all: every message kept, tried once by -q",
             (len(queued(spool)), sorted(set(state_attempts(spool)
                                             .values()))), (n, [2]))


def main():
    require_postern()
    bdat_accepted()
    bdat_refused_rcpt()
    data_kept()
    quit_not_awaited()
    closed_after_final_reply()
    lost_after_bdat()
    parallel()
    two_runners()
    fewer_on_421()
    fewer_on_432()
    server_down()
    server_refuses()
    return done()


if __name__ == "__main__":
    sys.exit(main())
