# SPDX-License-Identifier: ISC (see LICENSE)
"""Real callers' exact argv and input (doc/design.md, Tests): PHP mail(),
Debian cron, mutt, git send-email, bsd-mailx, sudo, logwatch.  The DATA is
compared byte for byte once the generated Date and Message-ID are taken
out (and checked on their own)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, with_fake,
                     take_generated, split_message, field_value, crlf,
                     quiet_success, DATE_RE, MSGID_RE, DOMAIN)

DSN_CAPS = ["PIPELINING", "8BITMIME", "DSN", "SIZE 10000000"]


def deliver(name, args, stdin, fake=None, env=None, **kw):
    res, srv = with_fake(args, stdin, fake, env=env, **kw)
    if kw.get("stdout") is None:
        check("%s: exit 0, nothing on stdout/stderr" % name,
              quiet_success(res), res)
    else:
        check("%s: exit 0" % name, res.rc == 0, res)
    msgs = srv.messages()
    check("%s: delivered exactly once" % name, len(msgs) == 1,
          srv.transactions())
    return msgs[0] if msgs else None


def generated_ok(name, txn):
    """Date and Message-ID present and well-formed; return the rest."""
    rest, date, msgid = take_generated(txn.data)
    check("%s: Date added" % name,
          date is not None and DATE_RE.match(date) is not None, date)
    m = MSGID_RE.match(msgid or b"")
    check("%s: Message-ID added with the domain" % name,
          m is not None and m.group(1) == DOMAIN.encode(), msgid)
    return rest


def php():
    name = "PHP mail()"
    stdin = (b"To: a@x.test\r\nSubject: Hello from PHP\r\n"
             b"From: Web <web@x.test>\r\nX-Mailer: PHP/8.2.7\r\n\r\n"
             b"Body line 1\nline 2\n\n-- \nsig\n")
    t = deliver(name, ["-t", "-i", "-fbounce@x.test"], stdin)
    if not t:
        return
    check_eq("%s: envelope sender from -f" % name, t.mail, "bounce@x.test")
    check_eq("%s: recipient from To" % name, t.rcpts, ["a@x.test"])
    check_eq("%s: DATA byte for byte" % name, generated_ok(name, t),
             crlf(stdin))


def cron():
    name = "Debian cron"
    stdin = (b"From: root (Cron Daemon)\nTo: root\n"
             b"Subject: Cron <root@vm> test -x /usr/sbin/anacron\n"
             b"MIME-Version: 1.0\n"
             b"Content-Type: text/plain; charset=UTF-8\n"
             b"Content-Transfer-Encoding: 8bit\n"
             b"X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\n"
             b"X-Cron-Env: <LOGNAME=root>\n\n"
             b"job output\n")
    args = ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"]
    t = deliver(name, args, stdin, {"caps": DSN_CAPS})
    if not t:
        return
    check_eq("%s: envelope recipient qualified" % name, t.rcpts,
             ["root@x.test"])
    check_eq("%s: envelope sender from From, qualified" % name, t.mail,
             "root@x.test")
    check_eq("%s: BODY=8BITMIME (from -B, offered)" % name,
             t.mail_params.get("BODY"), "8BITMIME")
    want = stdin.replace(b"From: root (Cron Daemon)",
                         b"From: root@x.test (Cron Daemon)")
    want = want.replace(b"To: root\n", b"To: root@x.test\n")
    check_eq("%s: DATA byte for byte (From, To qualified)" % name,
             generated_ok(name, t), crlf(want))

    t = deliver(name + " (no 8BITMIME)", args, stdin,
                {"caps": ["PIPELINING"]})
    check("%s: no BODY= when 8BITMIME is not offered" % name,
          t is not None and "BODY" not in t.mail_params,
          t and t.mail_line)


def mutt():
    name = "mutt"
    stdin = (b"Date: Fri, 27 Nov 2026 10:00:00 +0100\n"
             b"From: Me <me@x.test>\nTo: a@x.test\nSubject: mutt test\n"
             b"Message-ID: <20261127090000.GA1@x.test>\n"
             b"MIME-Version: 1.0\n"
             b"Content-Type: text/plain; charset=us-ascii\n"
             b"Content-Disposition: inline\n\nhi from mutt\n.\nstill here\n")
    args = ["-oem", "-oi", "-f", "me@x.test", "-N", "failure,delay", "-R",
            "hdrs", "--", "a@x.test", "bcc@x.test"]
    t = deliver(name + " (DSN offered)", args, stdin, {"caps": DSN_CAPS})
    if t:
        check_eq("%s: envelope" % name, (t.mail, t.rcpts),
                 ("me@x.test", ["a@x.test", "bcc@x.test"]))
        check_eq("%s: RET=HDRS" % name, t.mail_params.get("RET", "").upper(),
                 "HDRS")
        notify = [l for l in t.rcpt_lines if "NOTIFY=" in l.upper()]
        check("%s: NOTIFY=FAILURE,DELAY on every RCPT" % name,
              len(notify) == 2 and all(
                  "NOTIFY=FAILURE,DELAY" in l.upper() for l in notify),
              t.rcpt_lines)
        check_eq("%s: DATA unchanged (has Date, Message-ID)" % name, t.data,
                 crlf(stdin))
    t = deliver(name + " (no DSN)", args, stdin,
                {"caps": ["PIPELINING", "8BITMIME"]})
    if t:
        check("%s: no RET/NOTIFY without DSN" % name,
              "RET" not in t.mail_params and
              not any("NOTIFY" in l.upper() for l in t.rcpt_lines),
              (t.mail_line, t.rcpt_lines))


def git_send_email():
    name = "git send-email"
    headers = (b"From: Dev <dev@x.test>\nTo: a@x.test\nCc: b@x.test\n"
               b"Subject: [PATCH] fix the thing\n"
               b"Date: Fri, 27 Nov 2026 10:00:00 +0000\n"
               b"Message-ID: <20261127100000.1-1-dev@x.test>\n"
               b"X-Mailer: git-send-email 2.39.5\nMIME-Version: 1.0\n"
               b"Content-Transfer-Encoding: 8bit\n\n")
    body = (b"Fix it.\n\nSigned-off-by: Dev <dev@x.test>\n---\n"
            b" f | 1 +\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n"
            b"@@ -0,0 +1 @@\n+.\n.leading dot\n")
    stdin = b"From 1a2b3c4d5e Mon Sep 17 00:00:00 2001\n" + headers + body
    t = deliver(name, ["-f", "env@x.test", "-i", "a@x.test", "b@x.test"],
                stdin)
    if not t:
        return
    check_eq("%s: envelope" % name, (t.mail, t.rcpts),
             ("env@x.test", ["a@x.test", "b@x.test"]))
    check_eq("%s: mbox From line dropped, rest byte for byte" % name,
             t.data, crlf(headers + body))


def mailx():
    name = "bsd-mailx"
    stdin = (b"To: a@x.test\nBcc: hidden@x.test\nSubject: mailx\n"
             b"X-Mailer: mail (GNU Mailutils 3.15)\n\nbody\n")
    t = deliver(name, ["-i", "-t"], stdin)
    if not t:
        return
    check_eq("%s: the Bcc recipient gets it" % name, sorted(t.rcpts),
             ["a@x.test", "hidden@x.test"])
    check("%s: no Bcc header in DATA" % name,
          b"bcc:" not in t.data.lower() and b"hidden" not in t.data,
          t.data)
    rest = generated_ok(name, t)
    fields, body = split_message(rest)
    froms = [field_value(f) for n, f in fields if n == b"from"]
    check("%s: From added for the user" % name,
          len(froms) == 1 and b"@x.test" in froms[0], froms)
    check_eq("%s: other headers and body unchanged" % name,
             b"".join(f for n, f in fields if n != b"from") + b"\r\n" +
             body, crlf(b"To: a@x.test\nSubject: mailx\n"
                        b"X-Mailer: mail (GNU Mailutils 3.15)\n\nbody\n"))


def sudo():
    name = "sudo"
    stdin = (b"To: root\nFrom: root\nAuto-Submitted: auto-generated\n"
             b"Subject: *** SECURITY information for vm ***\n\n"
             b"vm : Nov 27 10:00:00 : bob : user NOT in sudoers ; "
             b"TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/ls\n")
    t = deliver(name, ["-t"], stdin, env={"HOME": "/"},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if t:
        check_eq("%s: to root, qualified" % name, t.rcpts, ["root@x.test"])
        check("%s: body intact" % name,
              t.data.endswith(b"COMMAND=/bin/ls\r\n"), t.data)


def logwatch():
    name = "logwatch"
    stdin = (b"To: root\nFrom: Logwatch <logwatch>\n"
             b"Subject: Logwatch for vm (Linux)\nAuto-Submitted: auto-generated\n"
             b"MIME-Version: 1.0\nContent-Transfer-Encoding: 7bit\n"
             b"Content-Type: text/plain; charset=\"iso-8859-1\"\n\n"
             b" ################### Logwatch 7.7 ####################\n"
             b"   Processing Initiated: Fri Nov 27 06:25:01 2026\n"
             b".\nthis must not be sent\n")
    t = deliver(name, ["-t"], stdin)
    if not t:
        return
    check_eq("%s: recipient root@x.test" % name, t.rcpts, ["root@x.test"])
    check_eq("%s: envelope sender from From, qualified" % name, t.mail,
             "logwatch@x.test")
    want = stdin.split(b".\nthis must")[0]
    want = want.replace(b"To: root\n", b"To: root@x.test\n")
    want = want.replace(b"<logwatch>", b"<logwatch@x.test>")
    check_eq("%s: DATA ends at the lone dot, byte for byte" % name,
             generated_ok(name, t), crlf(want))


def main():
    require_postern()
    php()
    cron()
    mutt()
    git_send_email()
    mailx()
    sudo()
    logwatch()
    return done()


if __name__ == "__main__":
    sys.exit(main())
