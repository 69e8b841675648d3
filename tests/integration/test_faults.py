# SPDX-License-Identifier: ISC (see LICENSE)
"""Every fault of the scripted server, and usage/data/config errors: the
documented exit status (postern(8), EXIT STATUS), one stderr line starting
"postern: ", and nothing delivered that should not be."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, with_fake, run,
                     ini_for, write_ini, tmpdir, stderr_line_ok,
                     quiet_success, crlf)
from fakesmtp import FakeSMTP, SILENT, DROP, Endless

MSG = crlf("From: a@x.test\nTo: b@x.test\nSubject: faults\n\nhello\n")
ARGS = ["-i", "-f", "a@x.test", "b@x.test"]


def delivered(srv):
    return len(srv.messages())


def dot_sent(srv):
    return any(t.ended for t in srv.transactions())


def fails(name, res, srv, rc, text=None, dot=False):
    """The failure contract: status, one stderr line, nothing delivered."""
    check("%s: exit %d" % (name, rc), res.rc == rc, res)
    check("%s: one stderr line 'postern: ...'" % name, stderr_line_ok(res),
          res.err)
    check("%s: nothing on stdout" % name, res.out == b"", res.out)
    if text is not None:
        check("%s: stderr carries the server's reply" % name,
              text.encode() in res.err, res.err)
    check("%s: not delivered" % name, delivered(srv) == 0,
          srv.transactions())
    if not dot:
        check("%s: no final dot sent" % name, not dot_sent(srv),
              srv.transactions())


def server_replies():
    cases = [
        ("421 greeting", {"greeting": "421 4.3.2 going down now"}, 75,
         "going down now"),
        ("451 on MAIL", {"mail": "451 4.3.0 mail later"}, 75, "mail later"),
        ("550 on MAIL", {"mail": "550 5.7.1 sender rejected"}, 69,
         "sender rejected"),
        ("452 on DATA", {"data": "452 4.3.1 no room"}, 75, "no room"),
        ("554 on DATA", {"data": "554 5.3.0 no data for you"}, 69,
         "no data for you"),
    ]
    for name, fake, rc, text in cases:
        res, srv = with_fake(ARGS, MSG, fake)
        fails(name, res, srv, rc, text)

    for name, dot, rc in (("451 after the dot", "451 4.7.1 greylisted", 75),
                          ("554 after the dot", "554 5.7.1 spam", 69)):
        res, srv = with_fake(ARGS, MSG, {"dot": dot})
        fails(name, res, srv, rc, dot[10:], dot=True)


def recipients():
    two = ["-i", "-f", "a@x.test", "b@x.test", "c@x.test"]
    res, srv = with_fake(two, MSG, {"rcpt": "550 5.1.1 no such user"})
    fails("550 on every RCPT", res, srv, 67, "no such user")

    res, srv = with_fake(two, MSG, {"rcpt": "553 5.1.3 bad address"})
    fails("553 on every RCPT", res, srv, 67)

    one_bad = {"rcpt": {"c@x.test": "550 5.1.1 c unknown"}}
    res, srv = with_fake(two, MSG, one_bad)
    # Not every recipient was refused: ERR_UNAVAIL (smtp.h), not NOUSER.
    fails("550 on one of two RCPT (all-or-nothing)", res, srv, 69,
          "c unknown")

    res, srv = with_fake(two, MSG, {"rcpt": "451 4.3.0 try again"})
    fails("451 on every RCPT", res, srv, 75, "try again")

    res, srv = with_fake(two, MSG, {"rcpt": {"c@x.test": "450 4.2.0 busy"}})
    fails("450 on one of two RCPT", res, srv, 75, "busy")

    res, srv = with_fake(two, MSG, one_bad,
                         ini_extra={"delivery": {"partial_delivery": "yes"}})
    check("partial_delivery: exit 0", res.rc == 0, res)
    msgs = srv.messages()
    check("partial_delivery: delivered once", len(msgs) == 1,
          srv.transactions())
    check("partial_delivery: to the accepted recipient only",
          msgs and msgs[0].rcpts == ["b@x.test"],
          msgs and msgs[0].rcpts)


def connection_faults():
    big = crlf("From: a@x.test\nSubject: big\n\n") + \
        (b"0123456789" * 7 + b"\r\n") * 2000
    res, srv = with_fake(ARGS, big, {"drop_in_data": 5000})
    fails("dropped mid-DATA", res, srv, 75)

    t0 = time.monotonic()
    res, srv = with_fake(ARGS, MSG, {"greeting": SILENT}, timeout=2)
    secs = time.monotonic() - t0
    fails("silent server (no greeting), timeout 2", res, srv, 75)
    check("silent server (no greeting): gives up within 8s", secs < 8,
          "%.1fs" % secs)

    t0 = time.monotonic()
    res, srv = with_fake(ARGS, MSG, {"dot": SILENT}, timeout=2)
    secs = time.monotonic() - t0
    fails("silent after the dot, timeout 2", res, srv, 75, dot=True)
    check("silent after the dot: gives up within 8s", secs < 8,
          "%.1fs" % secs)

    res, srv = with_fake(ARGS, MSG, {"greeting": "220 " + "x" * 5000})
    fails("over-long greeting line", res, srv, 75)

    res, srv = with_fake(ARGS, MSG, {"ehlo": "250-fake.test\n250 " +
                                     "S" * 5000})
    fails("over-long EHLO line", res, srv, 75)

    t0 = time.monotonic()
    res, srv = with_fake(ARGS, MSG, {"ehlo": Endless("250")}, timeout=5)
    secs = time.monotonic() - t0
    fails("endless multi-line EHLO reply", res, srv, 75)
    check("endless reply: gives up within 10s", secs < 10, "%.1fs" % secs)

    res, srv = with_fake(ARGS, MSG, {"mail": DROP})
    fails("connection closed instead of a MAIL reply", res, srv, 75)

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()           # nothing listens there now
    ini, _ = ini_for(dead)
    res = run(ARGS, MSG, ini=ini)
    check("connection refused: exit 75", res.rc == 75, res)
    check("connection refused: one stderr line", stderr_line_ok(res),
          res.err)

    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port, {"remote": {
            "host": "127.0.0.1:%d, 127.0.0.1:%d" % (dead, srv.port),
            "port": None}})
        res = run(ARGS, MSG, ini=ini)
        srv.wait_closed()
    finally:
        srv.stop()
    check("failover to the second host: exit 0, quiet", quiet_success(res),
          res)
    check("failover to the second host: delivered", delivered(srv) == 1,
          srv.transactions())


def capabilities():
    # No PIPELINING: one command per write, still delivered.
    two = ["-i", "-f", "a@x.test", "b@x.test", "c@x.test"]
    res, srv = with_fake(two, MSG, {"caps": ["8BITMIME"]})
    check("no PIPELINING: exit 0, quiet", quiet_success(res), res)
    check("no PIPELINING: delivered", delivered(srv) == 1,
          srv.transactions())
    envelope = [r for r in srv.reads()
                if r.upper().startswith((b"MAIL", b"RCPT", b"DATA"))]
    check("no PIPELINING: MAIL, RCPT, RCPT, DATA in four separate reads",
          len(envelope) == 4 and all(r.count(b"\r\n") == 1
                                     for r in envelope), envelope)

    # PIPELINING: MAIL, every RCPT and DATA in one write.
    res, srv = with_fake(two, MSG, {"caps": ["PIPELINING", "8BITMIME"]})
    check("PIPELINING: delivered", res.rc == 0 and delivered(srv) == 1,
          res)
    first = [r for r in srv.reads() if r.upper().startswith(b"MAIL")]
    lines = first[0].split(b"\r\n") if first else []
    check("PIPELINING: MAIL, RCPT, RCPT, DATA arrive in one read",
          len(lines) == 5 and lines[1].upper().startswith(b"RCPT") and
          lines[2].upper().startswith(b"RCPT") and
          lines[3].upper() == b"DATA" and lines[4] == b"", first)

    # Multi-line EHLO reply arriving in pieces.
    res, srv = with_fake(ARGS, MSG, {"caps": ["PIPELINING", "8BITMIME",
                                              "ENHANCEDSTATUSCODES", "HELP"],
                                     "ehlo_split": True})
    check("EHLO reply in several segments: delivered",
          res.rc == 0 and delivered(srv) == 1, res)

    # EHLO refused: HELO works.
    res, srv = with_fake(ARGS, MSG, {"ehlo": "502 5.5.2 what is EHLO"})
    check("no EHLO: exit 0, quiet", quiet_success(res), res)
    check("no EHLO: HELO sent", any(c.upper().startswith("HELO ")
                                    for c in srv.commands()),
          srv.commands())
    check("no EHLO: delivered", delivered(srv) == 1, srv.transactions())
    check("no EHLO: no ESMTP parameters on MAIL",
          all(" " not in t.mail_line[10:].strip()
              for t in srv.transactions()), srv.commands())

    # SIZE smaller than the message: refused before DATA.
    big = MSG + b"y" * 900 + b"\r\n"
    res, srv = with_fake(ARGS, big, {"caps": ["PIPELINING", "SIZE 100000"]})
    sizes = [t.mail_params.get("SIZE", "") for t in srv.transactions()]
    check("SIZE offered: MAIL carries SIZE= at least the message size",
          len(sizes) == 1 and sizes[0].isdigit() and
          int(sizes[0]) >= len(big), (sizes, len(big)))
    res, srv = with_fake(ARGS, big, {"caps": ["PIPELINING", "SIZE 500"]})
    check("SIZE 500, 1 kB message: exit 69", res.rc == 69, res)
    check("SIZE 500: one stderr line", stderr_line_ok(res), res.err)
    check("SIZE 500: refused before MAIL, or by the 552 to MAIL SIZE=",
          all("SIZE" in t.mail_params for t in srv.transactions()),
          srv.commands())
    check("SIZE 500: no message data sent",
          all(t.data_raw == b"" for t in srv.transactions()) and
          delivered(srv) == 0, srv.transactions())


def usage_and_input():
    srv = FakeSMTP().start()
    d = tmpdir()
    try:
        ini, _ = ini_for(srv.port, d=d)
        cases = [
            ("unknown option -y", ["-y", "b@x.test"]),
            ("no recipients", ["-i"]),
            ("-t and no recipient headers", ["-t", "-i"]),
            ("LF inside a recipient", ["-i", "b@x.test\nBcc: c@x.test"]),
            ("CR inside -f", ["-i", "-f", "a@x.test\r", "b@x.test"]),
            ("-f without its value", ["-f"]),
        ]
        for name, args in cases:
            stdin = crlf("Subject: no rcpt\n\nhi\n")
            res = run(args, stdin, ini=ini)
            check("%s: exit 64" % name, res.rc == 64, res)
            check("%s: one stderr line" % name, stderr_line_ok(res),
                  res.err)
        res = run(["-i", "b@x.test"], b"Subject: nul\r\n\r\na\x00b\r\n",
                  ini=ini)
        check("NUL byte in the body: exit 65", res.rc == 65, res)
        check("NUL byte: one stderr line", stderr_line_ok(res), res.err)
        check("NUL byte: stderr says NUL", b"nul" in res.err.lower(),
              res.err)
        # A good address, then a broken one: 65, and under LeakSanitizer
        # (make check-asan) no leak on the way out (issue 10 item 8).
        res = run(["-i", "b@x.test, <c@x.test"],
                  crlf("Subject: x\n\nhi\n"), ini=ini)
        check("broken second address in argv: exit 65", res.rc == 65, res)
        check("broken second address: one stderr line naming it",
              stderr_line_ok(res) and b"<c@x.test" in res.err, res.err)
        srv.wait_closed()
        check("usage/data errors: no message data ever sent",
              not any(t.data_raw or t.ended for t in srv.transactions()),
              srv.transactions())
    finally:
        srv.stop()

    # -v: the transcript on stderr; otherwise silence.
    res, srv = with_fake(["-v"] + ARGS, MSG)
    check("-v: exit 0", res.rc == 0, res)
    check("-v: transcript on stderr (EHLO, MAIL FROM, 250)",
          b"EHLO" in res.err and b"MAIL FROM" in res.err.upper() and
          b"250" in res.err, res.err)
    check("-v: nothing on stdout", res.out == b"", res.out)
    res, srv = with_fake(ARGS, MSG)
    check("success: nothing on stdout or stderr", quiet_success(res), res)


def bad_config():
    d = tmpdir()
    cases = [
        ("unknown key", "[remote]\nhost = 127.0.0.1\nport = 25\n"
         "bogus_key = 1\n", (b":4",)),
        ("unknown section", "[delivery]\nmode = remote\n[nonsense]\n"
         "a = b\n", (b":3", b":4")),
        ("bad mode", "[delivery]\nmode = carrier-pigeon\n", (b":2",)),
        ("bad timeout", "[remote]\nhost = 127.0.0.1\ntimeout = soon\n",
         (b":3",)),
        ("not ini", "this is not an ini file\n", (b":1",)),
    ]
    for name, text, where in cases:
        ini = write_ini(d, text=text, name="bad.ini")
        res = run(ARGS, MSG, ini=ini)
        check("bad ini (%s): exit 78" % name, res.rc == 78, res)
        check("bad ini (%s): one stderr line" % name, stderr_line_ok(res),
              res.err)
        check("bad ini (%s): names file:line" % name,
              any((b"bad.ini" + w + b":") in res.err for w in where),
              res.err)
    res = run(ARGS, MSG, ini=os.path.join(d, "does-not-exist.ini"))
    check("missing ini: exit 78", res.rc == 78, res)
    check("missing ini: one stderr line", stderr_line_ok(res), res.err)


def no_room_for_the_body():
    """The body file cannot be created: 71 (EX_OSERR), one line, nothing
    sent."""
    res, srv = with_fake(["a@x.test"], b"Subject: x\n\nhi\n",
                         env={"TMPDIR": "/nonexistent/dir"})
    check("no temporary file: exit 71, one line naming the directory",
          res.rc == 71 and stderr_line_ok(res) and b"/nonexistent/dir"
          in res.err, res)
    check_eq("no temporary file: nothing sent", srv.transactions(), [])


def main():
    require_postern()
    server_replies()
    recipients()
    connection_faults()
    capabilities()
    usage_and_input()
    bad_config()
    no_room_for_the_body()
    return done()


if __name__ == "__main__":
    sys.exit(main())
