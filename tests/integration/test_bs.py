#!/usr/bin/python3
# SPDX-License-Identifier: ISC (see LICENSE)
"""sendmail -bs: SMTP on stdin/stdout, driven as Symfony and Laravel do,
against the scripted upstream."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, ini_for, require_postern,  # noqa
                     postern_path, base_env, crlf, take_generated)
from fakesmtp import FakeSMTP, DROP, reserve_port  # noqa: E402


class Session:
    """A postern -bs process and a reader of its replies."""

    def __init__(self, ini, args=("-bs", "-i")):
        self.p = subprocess.Popen([postern_path(), "-C", ini] + list(args),
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=base_env())
        self.buf = b""

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def reply(self, timeout=30):
        """One whole reply: (code, [lines]); (None, lines) on EOF."""
        lines = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    return None, lines
                self.buf += chunk
                continue
            line, self.buf = self.buf[:nl], self.buf[nl + 2:]
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines
        return None, lines

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "timeout"
        self.err = self.p.stderr.read()
        return rc


MSG1 = ("From: app@x.test\r\nTo: a@y.test\r\nSubject: one\r\n"
        "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n"
        "Message-ID: <one@x.test>\r\n\r\nfirst body\r\n..dot line\r\n")
MSG2 = ("From: app@x.test\r\nTo: b@y.test\r\nSubject: two\r\n"
        "Date: Fri, 27 Nov 2026 10:00:01 +0000\r\n"
        "Message-ID: <two@x.test>\r\n\r\nsecond body\r\n")


def symfony_session():
    """HELO (not EHLO), two messages, NOOP, QUIT."""
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        codes = [s.reply()[0]]
        codes.append(s.cmd("HELO app.x.test")[0])
        for frm, to, body in (("app@x.test", "a@y.test", MSG1),
                              ("app@x.test", "b@y.test", MSG2)):
            codes.append(s.cmd("MAIL FROM:<%s>" % frm)[0])
            codes.append(s.cmd("RCPT TO:<%s>" % to)[0])
            codes.append(s.cmd("DATA")[0])
            s.send(body.encode() + b".\r\n")
            codes.append(s.reply()[0])
        codes.append(s.cmd("NOOP")[0])
        codes.append(s.cmd("QUIT")[0])
        rc = s.close()
        srv.wait_closed(5)
        msgs = srv.messages()
    finally:
        srv.stop()
    check_eq("bs symfony: reply codes", codes,
             [220, 250, 250, 250, 354, 250, 250, 250, 354, 250, 250, 221])
    check_eq("bs symfony: exit 0", rc, 0)
    check_eq("bs symfony: nothing on stderr", s.err, b"")
    check_eq("bs symfony: two messages upstream", len(msgs), 2)
    if len(msgs) == 2:
        check_eq("bs symfony: first envelope", (msgs[0].mail, msgs[0].rcpts),
                 ("app@x.test", ["a@y.test"]))
        check_eq("bs symfony: second envelope",
                 (msgs[1].mail, msgs[1].rcpts), ("app@x.test", ["b@y.test"]))
        check_eq("bs symfony: first message byte for byte (.. unstuffed "
                 "once, then stuffed again upstream)", msgs[0].data,
                 MSG1.replace("..dot", ".dot").encode())
        check_eq("bs symfony: second message byte for byte", msgs[1].data,
                 MSG2.encode())


def upstream_refusals():
    """The framework sees the upstream's own codes."""
    cases = [
        ("rcpt 550", {"rcpt": "550 5.1.1 no such user"}, 550, "5.1.1"),
        ("dot 554", {"dot": "554 5.7.1 spam rejected"}, 554, "5.7.1"),
        ("dot 451", {"dot": "451 4.3.0 try later"}, 451, "4.3.0"),
        ("mail 452", {"mail": "452 4.3.1 full"}, 452, "4.3.1"),
        ("greeting 421 (ours is 451: our channel stays open)",
         {"greeting": "421 4.3.2 shutting down"}, 451, "4.3.2"),
    ]
    for name, fake, want, enh in cases:
        srv = FakeSMTP(**fake).start()
        try:
            ini, _ = ini_for(srv.port)
            s = Session(ini)
            s.reply()
            s.cmd("EHLO app.x.test")
            s.cmd("MAIL FROM:<app@x.test>")
            s.cmd("RCPT TO:<a@y.test>")
            s.cmd("DATA")
            s.send(MSG1.encode() + b".\r\n")
            code, lines = s.reply()
            after = s.cmd("NOOP")[0]
            s.cmd("QUIT")
            s.close()
            srv.wait_closed(5)
            delivered = [m for m in srv.messages() if m.accepted]
        finally:
            srv.stop()
        check_eq("bs upstream %s: reply code" % name, code, want)
        check("bs upstream %s: enhanced code and text passed on" % name,
              lines and lines[0].startswith("%d %s " % (want, enh)),
              lines)
        check_eq("bs upstream %s: session still usable" % name, after, 250)
        check_eq("bs upstream %s: nothing delivered" % name, delivered, [])

    # Upstream down: a 4xx to the framework (no spool in this mode).
    port = reserve_port()   # nothing listens, nobody else takes it
    ini, _ = ini_for(port, timeout=3)
    s = Session(ini)
    s.reply()
    s.cmd("HELO a")
    s.cmd("MAIL FROM:<app@x.test>")
    s.cmd("RCPT TO:<a@y.test>")
    s.cmd("DATA")
    s.send(MSG1.encode() + b".\r\n")
    code, lines = s.reply()
    s.cmd("QUIT")
    s.close()
    check("bs upstream down: 4xx", code is not None and 400 <= code < 500,
          lines)


def bad_sequences():
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        s.reply()
        r = {}
        r["data before mail"] = s.cmd("DATA")[0]
        r["rcpt before mail"] = s.cmd("RCPT TO:<a@y.test>")[0]
        r["ehlo"] = s.cmd("EHLO app.x.test")[0]
        r["mail"] = s.cmd("MAIL FROM:<app@x.test>")[0]
        r["mail twice"] = s.cmd("MAIL FROM:<app@x.test>")[0]
        r["data before rcpt"] = s.cmd("DATA")[0]
        r["mail syntax"] = s.cmd("RSET")[0], s.cmd("MAIL TO:<x@y>")[0]
        r["bad param"] = s.cmd("MAIL FROM:<app@x.test> FOO=bar")[0]
        r["bad size"] = s.cmd("MAIL FROM:<app@x.test> SIZE=abc")[0]
        r["bad rcpt addr"] = (s.cmd("MAIL FROM:<app@x.test>")[0],
                              s.cmd("RCPT TO:<a@@b>")[0])
        r["null rcpt"] = s.cmd("RCPT TO:<>")[0]
        r["utf8 rcpt without SMTPUTF8"] = s.cmd("RCPT TO:<j\u00f6rg@y.test>")[0]
        r["utf8 sender without SMTPUTF8"] = (s.cmd("RSET")[0], s.cmd(
            "MAIL FROM:<j\u00f6rg@x.test>")[0])
        r["utf8 with SMTPUTF8"] = (
            s.cmd("MAIL FROM:<j\u00f6rg@x.test> SMTPUTF8")[0],
            s.cmd("RCPT TO:<j\u00f6rg@y.test>")[0], s.cmd("RSET")[0])
        r["unknown"] = s.cmd("FROB")[0]
        r["starttls"] = s.cmd("STARTTLS")[0]
        r["vrfy"] = s.cmd("VRFY root")[0]
        r["help"] = s.cmd("HELP")[0]
        r["long line"] = s.cmd("NOOP " + "x" * 5000)[0]
        r["after long"] = s.cmd("NOOP")[0]
        r["helo no arg"] = s.cmd("HELO")[0]
        r["quit"] = s.cmd("QUIT")[0]
        rc = s.close()
        srv.wait_closed(2)
        conns = len(srv.conns)
    finally:
        srv.stop()
    want = {"data before mail": 503, "rcpt before mail": 503, "ehlo": 250,
            "mail": 250, "mail twice": 503, "data before rcpt": 503,
            "mail syntax": (250, 501), "bad param": 555, "bad size": 501,
            "bad rcpt addr": (250, 501), "null rcpt": 501,
            "utf8 rcpt without SMTPUTF8": 553,
            "utf8 sender without SMTPUTF8": (250, 553),
            "utf8 with SMTPUTF8": (250, 250, 250), "unknown": 500,
            "starttls": 502, "vrfy": 252, "help": 214, "long line": 500,
            "after long": 250, "helo no arg": 501, "quit": 221}
    for k, v in want.items():
        check_eq("bs sequence: %s" % k, r[k], v)
    check_eq("bs sequence: exit 0", rc, 0)
    check_eq("bs sequence: upstream never contacted", conns, 0)


def vanishing_client():
    """A client that disconnects mid-DATA leaves nothing half-sent."""
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        s.reply()
        s.cmd("EHLO a")
        s.cmd("MAIL FROM:<app@x.test>")
        s.cmd("RCPT TO:<a@y.test>")
        s.cmd("DATA")
        s.send(b"Subject: half\r\n\r\nhalf a message\r\n")
        rc = s.close()
        time.sleep(0.5)
        conns = len(srv.conns)
    finally:
        srv.stop()
    check("bs vanish: postern ends", rc != "timeout", rc)
    check_eq("bs vanish: upstream never contacted", conns, 0)


def pipelined_client():
    """The whole transaction in one write; replies come back in order."""
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        s.reply()
        s.send(b"EHLO a\r\nMAIL FROM:<app@x.test> BODY=8BITMIME\r\n"
               b"RCPT TO:<a@y.test> NOTIFY=FAILURE\r\n"
               b"RCPT TO:<root>\r\nDATA\r\n")
        codes = [s.reply()[0] for _ in range(5)]
        s.send(MSG1.encode() + b".\r\nQUIT\r\n")
        codes += [s.reply()[0], s.reply()[0]]
        rc = s.close()
        srv.wait_closed(5)
        msgs = srv.messages()
    finally:
        srv.stop()
    check_eq("bs pipelined: codes", codes, [250, 250, 250, 250, 354, 250,
                                             221])
    check_eq("bs pipelined: exit", rc, 0)
    check("bs pipelined: delivered to both, root qualified",
          len(msgs) == 1 and msgs[0].rcpts == ["a@y.test", "root@x.test"],
          msgs)


def ehlo_offer():
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        greet = s.reply()
        code, lines = s.cmd("EHLO app.x.test")
        s.cmd("QUIT")
        s.close()
    finally:
        srv.stop()
    check_eq("bs greeting is 220", greet[0], 220)
    kw = set(x[4:].split(" ")[0] for x in lines[1:])
    for cap in ("PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE", "DSN",
                "ENHANCEDSTATUSCODES"):
        check("bs ehlo offers %s" % cap, cap in kw, lines)


def bad_config():
    """An unusable ini still gives the framework an SMTP reason."""
    from harness import tmpdir, write_ini
    d = tmpdir()
    ini = write_ini(d, text="[remote]\nprot = 25\n")
    s = Session(ini)
    code, lines = s.reply()
    rc = s.close()
    check_eq("bs bad ini: 421 greeting", code, 421)
    check_eq("bs bad ini: exit 78", rc, 78)


def bounds():
    """An idle client gets 421; so does one that only makes errors."""
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port, {"delivery": {"session_timeout": "1"}})
        s = Session(ini)
        s.reply()
        s.cmd("EHLO a")
        t0 = time.monotonic()
        code, lines = s.reply(timeout=10)
        took = time.monotonic() - t0
        rc = s.close()
        check("bs idle: 421 after session_timeout", code == 421 and
              took < 5, (code, lines, took))
        check_eq("bs idle: exit 0", rc, 0)

        ini, _ = ini_for(srv.port)
        s = Session(ini)
        s.reply()
        codes = [s.cmd("FROB %d" % i)[0] for i in range(20)]
        last = s.cmd("NOOP")
        rc = s.close()
        check("bs runaway: 20 errors answered 500, then 421",
              codes == [500] * 20 and last[0] == 421, (codes, last))
        check_eq("bs runaway: exit 0", rc, 0)

        s = Session(ini)
        s.reply()
        s.send(b"NOOP\r\n" * 10001)
        codes = [s.reply()[0] for _ in range(10001)]
        rc = s.close()
        check("bs runaway: 10000 commands, then 421",
              codes[:10000] == [250] * 10000 and codes[10000] == 421,
              codes[-3:])
    finally:
        srv.stop()


def partial_ignored():
    """partial_delivery does not apply to -bs: the refusal of one
    recipient reaches the framework as the reply to the dot, and nobody
    gets a message the client was told had gone (RFC 5321 section 6.1)."""
    srv = FakeSMTP(rcpt={"bad@y.test": "550 5.1.1 no such user"}).start()
    try:
        ini, d = ini_for(srv.port, {"delivery": {"partial_delivery":
                                                 "yes"}})
        s = Session(ini)
        s.reply()
        s.cmd("EHLO a")
        s.cmd("MAIL FROM:<app@x.test>")
        s.cmd("RCPT TO:<a@y.test>")
        s.cmd("RCPT TO:<bad@y.test>")
        s.cmd("DATA")
        s.send(MSG1.encode() + b".\r\n")
        code, lines = s.reply()
        s.cmd("QUIT")
        rc = s.close()
        srv.wait_closed(5)
        msgs = [m for m in srv.messages() if m.accepted]
    finally:
        srv.stop()
    check("bs partial_delivery: the 550 is the reply to the dot",
          code == 550 and "bad@y.test" in lines[0], lines)
    check_eq("bs partial_delivery: nobody gets it", msgs, [])
    check_eq("bs partial_delivery: nothing on stderr", (rc, s.err), (0, b""))


def smuggling():
    """Only CRLF.CRLF ends DATA: a bare-LF dot line is data, so a second
    message cannot be smuggled in (RFC 5321 4.1.1.4, CVE-2023-51766
    class)."""
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        s.reply()
        s.cmd("EHLO a")
        s.cmd("MAIL FROM:<app@x.test>")
        s.cmd("RCPT TO:<a@y.test>")
        s.cmd("DATA")
        s.send(b"Subject: one\r\n\r\nbody\n.\nMAIL FROM:<evil@x.test>"
               b"\r\n.\r\n")
        code = s.reply()[0]
        quit_code = s.cmd("QUIT")[0]
        s.close()
        srv.wait_closed(5)
        msgs = srv.messages()
    finally:
        srv.stop()
    check("bs smuggling: one transaction, 250, then QUIT 221",
          code == 250 and quit_code == 221 and len(msgs) == 1, msgs)
    check("bs smuggling: the would-be command stayed in the body",
          msgs and msgs[0].data.endswith(
              b"body\r\n\r\nMAIL FROM:<evil@x.test>\r\n"), msgs)


def limits_and_storage():
    """1001 recipients get 452 past the 1000th; an unknown RCPT option
    555; no room for the DATA file 451, and nothing is sent."""
    srv = FakeSMTP().start()
    try:
        ini, _ = ini_for(srv.port)
        s = Session(ini)
        s.reply()
        s.cmd("EHLO a")
        s.cmd("MAIL FROM:<app@x.test>")
        s.send(b"".join(b"RCPT TO:<r%d@y.test>\r\n" % i
                        for i in range(1001)))
        codes = [s.reply()[0] for _ in range(1001)]
        opt = s.cmd("RCPT TO:<z@y.test> FOO=bar")[0]
        # The option is echoed: its CR and control bytes must not be.
        s.send(b"RCPT TO:<z@y.test> F\rO\x01=bar\r\n")
        echo = s.reply()
        s.cmd("QUIT")
        s.close()

        p = subprocess.Popen([postern_path(), "-C", ini, "-bs"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=base_env({"TMPDIR": "/nonexistent"}))
        out, _ = p.communicate(b"EHLO a\r\nMAIL FROM:<app@x.test>\r\n"
                               b"RCPT TO:<a@y.test>\r\nDATA\r\n"
                               b"QUIT\r\n", timeout=30)
        srv.wait_closed(2)
        sent = srv.messages()
    finally:
        srv.stop()
    check("bs: 1000 recipients, then 452",
          codes[:1000] == [250] * 1000 and codes[1000] == 452, codes[-2:])
    check_eq("bs: unknown RCPT option 555", opt, 555)
    check("bs: an option with CR and \\x01 echoed as one clean line",
          echo[0] == 555 and len(echo[1]) == 1 and
          not any(ord(c) < 0x20 for c in echo[1][0]), echo)
    check("bs: no room for the DATA file: 451 to DATA, nothing sent",
          b"\r\n451 4.3.0" in out and b"\r\n354" not in out and
          not sent, out)


def main():
    require_postern()
    limits_and_storage()
    smuggling()
    partial_ignored()
    bounds()
    symfony_session()
    upstream_refusals()
    bad_sequences()
    vanishing_client()
    pipelined_client()
    ehlo_offer()
    bad_config()
    return done()


if __name__ == "__main__":
    sys.exit(main())
