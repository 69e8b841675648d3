# SPDX-License-Identifier: ISC (see LICENSE)
"""The message rules of postern(8), THE MESSAGE, end to end against the
scripted server: what goes on the wire, byte for byte."""

import os
import quopri
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, with_fake,
                     take_generated, split_message, field_value, crlf,
                     max_line, quiet_success, stderr_line_ok, DATE_RE,
                     MSGID_RE)

SENDER = ["-f", "a@x.test"]


def send(name, args, text, fake=None, ini_extra=None):
    """Deliver text; check the quiet success; return the one transaction
    (or None)."""
    res, srv = with_fake(args, text, fake, ini_extra)
    check("%s: exit 0, quiet" % name, quiet_success(res), res)
    msgs = srv.messages()
    check("%s: delivered once" % name, len(msgs) == 1, srv.transactions())
    return msgs[0] if msgs else None


def body_of(txn):
    return split_message(txn.data)[1] if txn else None


def rest_of(txn):
    """DATA without the generated Date and Message-ID."""
    return take_generated(txn.data)[0] if txn else None


def dots():
    head = "From: a@x.test\nTo: b@x.test\nSubject: dots\n\n"
    text = crlf(head + "one\n.\nafter the dot\n")
    t = send("lone dot without -i", SENDER + ["b@x.test"], text)
    check_eq("lone dot without -i: input ends at the dot", body_of(t),
             b"one\r\n")
    t = send("lone dot with -i", SENDER + ["-i", "b@x.test"], text)
    check_eq("lone dot with -i: kept as data", body_of(t),
             b"one\r\n.\r\nafter the dot\r\n")
    check("lone dot with -i: stuffed on the wire",
          t is not None and b"\r\n..\r\n" in t.data_raw, t and t.data_raw)

    text = crlf(head + "..\n.x\nlast\n")
    t = send("'..' without -i", SENDER + ["b@x.test"], text)
    check_eq("'..' without -i: not unstuffed, not an end", body_of(t),
             b"..\r\n.x\r\nlast\r\n")
    check("dot-stuffing: '..' -> '...', '.x' -> '..x'",
          t is not None and b"\r\n...\r\n..x\r\n" in t.data_raw,
          t and t.data_raw)


def line_ends():
    text = b"From: a@x.test\nSubject: ends\n\nlast line without newline"
    t = send("missing final newline", SENDER + ["-i", "b@x.test"], text)
    check_eq("missing final newline: terminated", body_of(t),
             b"last line without newline\r\n")

    text = b"From: a@x.test\r\nSubject: mixed\r\n\nlf\ncrlf\r\nlf\n"
    t = send("mixed line ends", SENDER + ["-i", "b@x.test"], text)
    check_eq("mixed line ends: all CRLF", t and t.data and rest_of(t),
             b"From: a@x.test\r\nSubject: mixed\r\n\r\nlf\r\ncrlf\r\n"
             b"lf\r\n")
    check("no bare LF on the wire",
          t is not None and re.search(rb"(?<!\r)\n", t.data_raw) is None,
          t and t.data_raw)

    text = b"From: a@x.test\nSubject: cr\n\nbare\rcr here\nend\r"
    t = send("bare CR", SENDER + ["-i", "b@x.test"], text)
    raw = t.data_raw if t else b""
    check("bare CR: never raw on the wire",
          re.search(rb"\r(?!\n)", raw) is None, raw)
    check("bare CR: the text around it survives",
          b"bare" in raw and b"cr here" in raw and b"end" in raw, raw)


def long_lines():
    line = ("Lorem ipsum = dolor sit amet, caf\u00e9? " * 130)[:5000]
    line = line.encode("utf-8")[:5000].rstrip(b"\xc3")
    text = b"From: a@x.test\nSubject: long\n\n" + line + b"\nshort\n"
    t = send("5000-octet line", SENDER + ["-i", "b@x.test"], text,
             fake={"caps": ["PIPELINING", "8BITMIME"]})
    raw = t.data_raw if t else b""
    check("5000-octet line: no wire line over 998 octets",
          max_line(raw) <= 998, max_line(raw))
    fields, body = split_message(t.data if t else b"")
    cte = [field_value(f).lower() for n, f in fields
           if n == b"content-transfer-encoding"]
    check("5000-octet line: re-encoded quoted-printable",
          cte == [b"quoted-printable"], fields)
    decoded = quopri.decodestring(body.replace(b"\r\n", b"\n"))
    check_eq("5000-octet line: content recovered exactly", decoded,
             line + b"\nshort\n")


def logged_fold():
    """A long line in a multipart body is cut (the content changes): the
    log line says folded=yes; a re-encoded one, which keeps the content,
    does not (issue 9, item 1)."""
    from harness import ini_for, run
    from fakesmtp import FakeSMTP

    def deliver(text):
        srv = FakeSMTP().start()
        try:
            ini, d = ini_for(srv.port)
            res = run(SENDER + ["-i", "b@x.test"], text, ini=ini)
            srv.wait_closed(10)
        finally:
            srv.stop()
        with open(os.path.join(d, "postern.log"), "rb") as f:
            return res, srv, f.read()

    part = b"y" * 3000
    text = (b"From: a@x.test\nSubject: multi\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=BB\n\n--BB\n"
            b"Content-Type: text/plain\n\n" + part + b"\n--BB--\n")
    res, srv, log = deliver(text)
    raw = srv.messages()[0].data_raw if srv.messages() else b""
    check("multipart long line: delivered, cut to 998 octets",
          res.rc == 0 and raw and max_line(raw) <= 998, (res, len(raw)))
    check("multipart long line: the log line says folded=yes",
          b"status=sent" in log and log.rstrip().endswith(b" folded=yes"),
          log)
    res, srv, log = deliver(b"From: a@x.test\nSubject: qp\n\n" + part +
                            b"\n")
    check("single part long line (re-encoded): no folded=yes",
          res.rc == 0 and b"status=sent" in log and b"folded" not in log,
          log)


def eightbit():
    text = crlf("From: a@x.test\nSubject: 8bit\n\nGr\u00fc\u00dfe\n")
    t = send("8-bit body, 8BITMIME offered", SENDER + ["-i", "b@x.test"],
             text, fake={"caps": ["PIPELINING", "8BITMIME"]})
    check("8-bit body: BODY=8BITMIME",
          t is not None and t.mail_params.get("BODY") == "8BITMIME",
          t and t.mail_line)
    check_eq("8-bit body: bytes unchanged", body_of(t),
             crlf("Gr\u00fc\u00dfe\n"))

    text = crlf("From: a@x.test\nSubject: 7bit\n\nplain\n")
    t = send("7-bit body, 8BITMIME offered", SENDER + ["-i", "b@x.test"],
             text, fake={"caps": ["PIPELINING", "8BITMIME"]})
    check("7-bit body: no BODY=8BITMIME",
          t is not None and "BODY" not in t.mail_params, t and t.mail_line)
    check("7-bit body, SMTPUTF8 offered: not requested",
          t is not None and "SMTPUTF8" not in t.mail_params,
          t and t.mail_line)

    rcpt = "j\u00f6rg@x.test"
    text = crlf("From: a@x.test\nSubject: utf8\n\nhi\n")
    t = send("non-ASCII recipient, SMTPUTF8 offered",
             SENDER + ["-i", rcpt], text,
             fake={"caps": ["PIPELINING", "8BITMIME", "SMTPUTF8"]})
    check("non-ASCII recipient: SMTPUTF8 requested",
          t is not None and "SMTPUTF8" in t.mail_params, t and t.mail_line)
    check_eq("non-ASCII recipient: RCPT as UTF-8", t and t.rcpts, [rcpt])

    t = send("non-ASCII recipient, SMTPUTF8 and DSN offered",
             SENDER + ["-i", rcpt, "b@x.test"], text,
             fake={"caps": ["PIPELINING", "8BITMIME", "SMTPUTF8", "DSN"]})
    lines = t.rcpt_lines if t else []
    check("non-ASCII recipient with DSN: no rfc822 ORCPT for it (RFC 6533),"
          " ORCPT for the ASCII one",
          len(lines) == 2 and "ORCPT" not in lines[0] and
          "ORCPT=rfc822;b@x.test" in lines[1], lines)

    res, srv = with_fake(SENDER + ["-i", rcpt], text,
                         {"caps": ["PIPELINING", "8BITMIME"]})
    check("non-ASCII recipient, no SMTPUTF8: exit 69", res.rc == 69, res)
    check("non-ASCII recipient, no SMTPUTF8: one stderr line",
          stderr_line_ok(res), res.err)
    check("non-ASCII recipient, no SMTPUTF8: not delivered",
          srv.messages() == [], srv.transactions())


def addresses():
    text = crlf("From: a@x.test\nTo: root, Logwatch <logwatch>\n"
                "Subject: q\n\nq\n")
    t = send("qualification", SENDER + ["-i", "-t"], text)
    check_eq("qualification: envelope", t and sorted(t.rcpts),
             ["logwatch@x.test", "root@x.test"])
    check_eq("qualification: To header rewritten in place",
             t and rest_of(t),
             crlf("From: a@x.test\nTo: root@x.test, Logwatch "
                  "<logwatch@x.test>\nSubject: q\n\nq\n"))

    aliases = {"aliases": {"root": "ops@example.com",
                           "default": "catchall@x.test"}}
    text = crlf("From: a@x.test\nTo: root\nSubject: a\n\na\n")
    t = send("aliases", SENDER + ["-i", "root", "www-data", "bob@y.test"],
             text, ini_extra=aliases)
    check_eq("aliases: envelope", t and sorted(t.rcpts),
             ["bob@y.test", "catchall@x.test", "ops@example.com"])
    check("aliases: To header names the alias target",
          t is not None and b"To: ops@example.com\r\n" in t.data,
          t and t.data)

    text = crlf("From: Alice <alice@y.test>\nSubject: s\n\ns\n")
    sender = {"sender": {"address": '"Site Mailer" <mailer@x.test>',
                         "send_as_user": "no"}}
    t = send("[sender] address, send_as_user = no",
             ["-i", "-f", "alice@y.test", "b@x.test"], text,
             ini_extra=sender)
    check_eq("send_as_user = no: envelope sender", t and t.mail,
             "mailer@x.test")
    fields = split_message(t.data)[0] if t else []
    froms = [field_value(f) for n, f in fields if n == b"from"]
    check("send_as_user = no: From rewritten with the display name",
          froms in ([b'"Site Mailer" <mailer@x.test>'],
                    [b"Site Mailer <mailer@x.test>"]), froms)
    rto = [field_value(f) for n, f in fields if n == b"reply-to"]
    check("send_as_user = no: original From kept as Reply-To",
          len(rto) == 1 and b"alice@y.test" in rto[0], rto)

    text = crlf("From: Alice <alice@y.test>\nReply-To: list@y.test\n"
                "Subject: s\n\ns\n")
    t = send("send_as_user = no, Reply-To present",
             ["-i", "-f", "alice@y.test", "b@x.test"], text,
             ini_extra=sender)
    fields = split_message(t.data)[0] if t else []
    rto = [field_value(f) for n, f in fields if n == b"reply-to"]
    check_eq("send_as_user = no: existing Reply-To left alone", rto,
             [b"list@y.test"])


def recipients():
    text = crlf("From: a@x.test\nTo: b@x.test\nCc: c@x.test\n"
                "Subject: t\n\nt\n")
    t = send("-t plus argv recipients", SENDER + ["-i", "-t", "d@x.test"],
             text)
    check_eq("-t: header recipients added to argv ones",
             t and sorted(t.rcpts), ["b@x.test", "c@x.test", "d@x.test"])

    text = crlf("From: a@x.test\nTo: old@x.test\nSubject: fwd\n"
                "Resent-From: a@x.test\nResent-To: new@x.test\n"
                "Resent-Bcc: secret@x.test\n\nfwd\n")
    t = send("-t with a Resent block", SENDER + ["-i", "-t"], text)
    check_eq("-t with Resent-*: only the Resent recipients",
             t and sorted(t.rcpts), ["new@x.test", "secret@x.test"])
    check("-t with Resent-*: Resent-Bcc removed",
          t is not None and b"resent-bcc" not in t.data.lower(),
          t and t.data)
    check("-t with Resent-*: Resent-Date and Resent-Message-ID added, "
          "the given Resent-From kept (RFC 5322 3.6.6)",
          t is not None and b"\r\nResent-Date: " in t.data and
          b"\r\nResent-Message-ID: <" in t.data and
          t.data.count(b"Resent-From:") == 1, t and t.data)

    text = crlf("From: a@x.test\nTo: old@x.test\nSubject: fwd\n"
                "Resent-To: new@x.test\n\nfwd\n")
    t = send("Resent block without Resent-From", SENDER + ["-i", "-t"],
             text)
    check("Resent block without Resent-From: added from the sender",
          t is not None and b"\r\nResent-From: " in t.data, t and t.data)
    t = send("Resent block under -G", SENDER + ["-i", "-t", "-G"], text)
    check("Resent block under -G: nothing added",
          t is not None and b"Resent-Date" not in t.data and
          b"Resent-From" not in t.data, t and t.data)

    text = crlf("From: a@x.test\nSubject: list\n\nl\n")
    t = send("argv address lists (cron MAILTO)",
             SENDER + ["-i", "b@x.test, Carl <c@x.test>,", "d@x.test (D)"],
             text)
    check_eq("argv address lists: every mailbox, trailing comma ignored",
             t and sorted(t.rcpts), ["b@x.test", "c@x.test", "d@x.test"])

    text = crlf("Subject: from -F\n\nbody\n")
    t = send("-F with a non-ASCII name",
             ["-i", "-f", "j@x.test", "-F", "J\u00f6rg M\u00fcller",
              "b@x.test"], text)
    fields = split_message(t.data)[0] if t else []
    froms = [field_value(f) for n, f in fields if n == b"from"]
    check("-F: From built as RFC 2047 name and the sender",
          len(froms) == 1 and froms[0].startswith(b"=?") and
          froms[0].endswith(b"<j@x.test>") and froms[0].isascii(), froms)

    text = crlf("From: a@x.test\nSubject: null\n\nbounce\n")
    t = send("-f '<>'", ["-i", "-f", "<>", "b@x.test"], text)
    check_eq("-f '<>': null envelope sender", t and t.mail_line.upper()[:12],
             "MAIL FROM:<>")


def headers():
    text = crlf("Subject: relay\nTo: root\n\nbody\n")
    t = send("-G", ["-G", "-i", "-f", "a@x.test", "root"], text)
    check_eq("-G: no headers added, none qualified", t and t.data, text)
    check_eq("-G: envelope still qualified", t and t.rcpts,
             ["root@x.test"])

    text = crlf("Hello there, no header here\nsecond line\n")
    t = send("first line not a header", SENDER + ["-i", "b@x.test"], text)
    fields, body = split_message(t.data) if t else ([], b"")
    check_eq("first line not a header: all of it is body", body, text)
    names = sorted(n for n, f in fields)
    check("first line not a header: Date, From, Message-ID on top",
          {b"date", b"from", b"message-id"} <= set(names), names)

    text = crlf("From: a@x.test\nTo: b@x.test\nBcc: hidden@x.test\n"
                "Return-Path: <evil@x.test>\nContent-Length: 3\n"
                "Subject: strip\n\nbody\n")
    t = send("removed headers", SENDER + ["-i", "b@x.test"], text)
    check_eq("Bcc, Return-Path, Content-Length removed", t and rest_of(t),
             crlf("From: a@x.test\nTo: b@x.test\nSubject: strip\n\n"
                  "body\n"))
    check_eq("Bcc without -t: not a recipient", t and t.rcpts,
             ["b@x.test"])
    _, date, msgid = take_generated(t.data) if t else (None, None, None)
    check("Date added, RFC 5322", date is not None and
          DATE_RE.match(date) is not None, date)
    m = MSGID_RE.match(msgid or b"")
    check("Message-ID added, right side the domain",
          m is not None and m.group(1) == b"x.test", msgid)


def main():
    require_postern()
    dots()
    line_ends()
    long_lines()
    logged_fold()
    eightbit()
    addresses()
    recipients()
    headers()
    return done()


if __name__ == "__main__":
    sys.exit(main())
