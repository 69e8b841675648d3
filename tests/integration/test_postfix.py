# SPDX-License-Identifier: ISC (see LICENSE)
"""Delivery through a real Postfix (private instance on loopback): Remote
and Local mode, a small and a 1 MB message.  What lands in the Maildir,
minus the trace headers Postfix adds, must equal what was sent (Postfix
stores LF line ends)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, ini_for,
                     take_generated, quiet_success, DATE_RE, MSGID_RE)
from postfix import PrivatePostfix, PostfixError, strip_added_headers

RCPT = "bob@example.test"


def expected_lf(stdin):
    return stdin.replace(b"\r\n", b"\n")


def deliver(pf, name, mode, stdin, want, args=None):
    ini, _ = ini_for(pf.port, mode=mode, timeout=30)
    t0 = time.monotonic()
    res = run(args or ["-i", "-f", "alice@x.test", RCPT], stdin, ini=ini,
              timeout=120)
    check("%s: exit 0, quiet" % name, quiet_success(res), res)
    got = pf.wait_messages(1, timeout=30)
    secs = time.monotonic() - t0
    check("%s: one message in the Maildir" % name, len(got) == 1,
          "%d messages after %.1fs; maillog:\n%s" % (len(got), secs,
                                                    pf.log_tail(8)))
    if len(got) != 1:
        return
    msg = got[0]
    check("%s: delivered to %s" % (name, RCPT),
          ("Delivered-To: %s\n" % RCPT).encode() in msg, msg[:400])
    check("%s: envelope sender" % name,
          msg.startswith(b"Return-Path: <alice@x.test>\n"), msg[:200])
    rest, date, msgid = take_generated(strip_added_headers(msg))
    check("%s: Date added" % name,
          date is not None and DATE_RE.match(date) is not None, date)
    check("%s: Message-ID added" % name,
          msgid is not None and MSGID_RE.match(msgid) is not None, msgid)
    same = rest == want
    detail = ""
    if not same:
        n = next((i for i, (a, b) in enumerate(zip(rest, want)) if a != b),
                 min(len(rest), len(want)))
        detail = "differs at octet %d (got %d, want %d octets): %r vs %r" % (
            n, len(rest), len(want), rest[max(0, n - 40):n + 40],
            want[max(0, n - 40):n + 40])
    check("%s: message byte for byte" % name, same, detail)


def main():
    require_postern()
    if os.geteuid() != 0:
        check("private Postfix: needs root", False, "run as root")
        return done()
    pf = PrivatePostfix()
    try:
        try:
            pf.start()
        except (PostfixError, OSError) as e:
            check("private Postfix starts", False, str(e))
            return done()
        check("private Postfix starts (%.1fs)" % pf.start_seconds, True)

        stdin = (b"From: Alice <alice@x.test>\r\nTo: bob@example.test\r\n"
                 b"Subject: through Postfix\r\n\r\nline one\n.leading dot\n"
                 b"..two dots\n\nlast\n")
        want = expected_lf(stdin)
        deliver(pf, "Remote via Postfix", "remote", stdin, want)
        deliver(pf, "Local via Postfix", "local", stdin, want)

        line = b"".join(b"%07d the quick brown fox jumps over the lazy dog\n"
                        % i for i in range(20000))
        big = (b"From: alice@x.test\nTo: bob@example.test\n"
               b"Subject: one megabyte\n\n") + line
        check("1 MB message is >= 1 MB", len(big) >= 1000000, len(big))
        deliver(pf, "1 MB via Postfix", "remote", big, big)
    finally:
        pf.stop()
    return done()


if __name__ == "__main__":
    sys.exit(main())
