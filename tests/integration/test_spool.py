# SPDX-License-Identifier: ISC (see LICENSE)
"""The spool (postern(8), THE SPOOL): fallback and always modes,
-q and --queue-run, concurrent runners, per-recipient outcomes, bounces,
failed/, mailq, --remove, an unwritable or full spool, corrupt files, and
the SIGKILL crash-safety run."""

import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, tmpdir,
                     write_ini, merge, default_sections, stderr_line_ok,
                     quiet_success, crlf, postern_path, base_env)
from fakesmtp import FakeSMTP, DROP, reserve_port

ARGS = ["-i", "-f", "a@x.test", "b@x.test"]


def free_port():
    """Nothing listens there, and nobody else takes it (fakesmtp)."""
    return reserve_port()


def setup(queue=None, port=None, d=None, extra=None):
    """An ini whose upstream is 127.0.0.1:port (nothing there unless a
    test starts a server) and whose spool is d/spool."""
    d = d or tmpdir()
    port = port or free_port()
    q = {"dir": os.path.join(d, "spool"), "mode": "fallback"}
    q.update(queue or {})
    sections = merge(default_sections(port, d, timeout=5), {"queue": q})
    ini = write_ini(d, merge(sections, extra))
    return ini, d, port, q["dir"]


def files(spool, sub):
    p = os.path.join(spool, sub)
    return sorted(os.listdir(p)) if os.path.isdir(p) else []


def mailq(ini):
    return run(["-bp"], ini=ini)


def log_text(d):
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            return f.read()
    except OSError:
        return b""


def queued_data(spool, qid):
    """The message data of queue/ID, unstuffed as a server would see it."""
    with open(os.path.join(spool, "queue", qid), "rb") as f:
        raw = f.read()
    data = raw.split(b"\n\n", 1)[1]
    lines = data.split(b"\r\n")
    return b"\r\n".join(x[1:] if x.startswith(b".") else x for x in lines)


def msg(subject, body="hello\n", extra=""):
    return crlf("From: a@x.test\nTo: b@x.test\nSubject: %s\n%s\n%s"
                % (subject, extra, body))


# -- fallback, end to end ---------------------------------------------------

def fallback():
    ini, d, port, spool = setup()
    body = "line one\n.leading dot\n" + "x" * 50 + "\n"
    res = run(ARGS, msg("spooled", body), ini=ini)
    check("fallback, upstream down: exit 0, silent", quiet_success(res), res)
    q = files(spool, "queue")
    check_eq("fallback: one message in queue/", len(q), 1)
    check_eq("fallback: tmp/ empty after the commit", files(spool, "tmp"), [])
    check("fallback: log says queued and why",
          b"status=queued" in log_text(d) and b"Connection refused"
          in log_text(d), log_text(d))
    lq = mailq(ini)
    check("mailq lists the id, sender, recipient state",
          lq.rc == 0 and q and q[0].encode() in lq.out and
          b"<a@x.test>" in lq.out and b"pending <b@x.test>" in lq.out, lq)
    # 5m0s, or 4m59s when a second boundary passed since the attempt
    # (a slow sanitizer build): no timing is asserted.
    check("mailq: the failed first attempt counts, with its error and "
          "the back-off", (b"attempts: 1, next try: in 5m" in lq.out or
                           b"attempts: 1, next try: in 4m5" in lq.out) and
          b"last error: cannot connect" in lq.out, lq)
    if not q:
        return
    want = queued_data(spool, q[0])
    check("spooled data is the message in wire form",
          b"..leading dot" not in want and b"\r\n.leading dot" in want and
          b"Subject: spooled" in want, want)

    res = run(["--queue-run"], ini=ini)
    check("--queue-run, upstream still down: exit 0", res.rc == 0, res)
    lq = mailq(ini)
    check("mailq shows attempts, last error and next try",
          b"attempts: 1" in lq.out and b"last error:" in lq.out and
          b"next try: in " in lq.out, lq.out)
    res = run(["--queue-run"], ini=ini)
    check("--queue-run respects the back-off (no new attempt)",
          b"attempts: 1" in mailq(ini).out, mailq(ini).out)

    srv = FakeSMTP().start(port)
    try:
        res = run(["--queue-run"], ini=ini)
        check("--queue-run leaves a message that is not due", res.rc == 0
              and len(srv.messages()) == 0 and files(spool, "queue") == q,
              srv.transactions())
        res = run(["-q"], ini=ini)
        srv.wait_closed(10)
        check("-q: exit 0, silent", quiet_success(res), res)
        m = srv.messages()
        check_eq("-q delivers it once", len(m), 1)
        if m:
            check_eq("-q delivers it byte for byte", m[0].data, want)
            check_eq("-q keeps the envelope", (m[0].mail, m[0].rcpts),
                     ("a@x.test", ["b@x.test"]))
        check("-q ends with QUIT", "QUIT" in srv.commands(), srv.commands())
    finally:
        srv.stop()
    check_eq("spool empty after -q", (files(spool, "queue"),
             files(spool, "state"), files(spool, "tmp")), ([], [], []))
    lq = mailq(ini)
    check("mailq: Mail queue is empty", lq.rc == 0 and
          lq.out == b"Mail queue is empty\n", lq)


def one_id():
    """A spooled message is known by one id from submission to delivery:
    the submission's id= is its queue id, and the queue runner's line
    uses it too (issue 9, item 2)."""
    ini, d, port, spool = setup()
    res = run(ARGS, msg("one id"), ini=ini)
    q = files(spool, "queue")
    check("one id: spooled", res.rc == 0 and len(q) == 1, res)
    if not q:
        return
    import re
    ids = set(re.findall(rb"\bid=([0-9A-F]+)", log_text(d)))
    check_eq("one id: the submission's log id is the queue id", ids,
             {q[0].encode()})
    check("one id: queued as the same id",
          b"result=\"queued as %s: " % q[0].encode() in log_text(d),
          log_text(d))
    srv = FakeSMTP().start(port)
    try:
        res = run(["-q"], ini=ini)
        srv.wait_closed(10)
    finally:
        srv.stop()
    lines = [x for x in log_text(d).splitlines() if b"status=sent" in x]
    check("one id: the delivery's line has the same id",
          len(lines) == 1 and b" id=%s " % q[0].encode() in lines[0],
          log_text(d))
    ids = set(re.findall(rb"\bid=([0-9A-F]+)", log_text(d)))
    check_eq("one id: no other id in the whole log", ids, {q[0].encode()})


def never_and_missing():
    ini, d, port, spool = setup({"mode": "never"})
    res = run(ARGS, msg("never"), ini=ini)
    check("mode never, upstream down: exit 75", res.rc == 75, res)
    check("mode never: one stderr line", stderr_line_ok(res), res.err)
    check("mode never: nothing spooled", files(spool, "queue") == [],
          files(spool, "queue"))
    ini, d, port, spool = setup()
    shutil.rmtree(spool, ignore_errors=True)
    lq = mailq(ini)
    check("mailq without a spool: Mail queue is empty",
          lq.rc == 0 and lq.out == b"Mail queue is empty\n", lq)
    res = run(["-q"], ini=ini)
    check("-q without a spool: exit 0", quiet_success(res), res)


def always():
    port = free_port()
    srv = FakeSMTP(greeting="220 slow.test").start(port)
    ini, d, _, spool = setup({"mode": "always"}, port=port)
    try:
        t0 = time.monotonic()
        res = run(ARGS, msg("always"), ini=ini)
        check("mode always: exit 0, silent", quiet_success(res), res)
        deadline = time.monotonic() + 10
        while not srv.messages() and time.monotonic() < deadline:
            time.sleep(0.05)
        check_eq("mode always: the detached child delivers it",
                 len(srv.messages()), 1)
        deadline = time.monotonic() + 5
        while files(spool, "queue") and time.monotonic() < deadline:
            time.sleep(0.05)
        check_eq("mode always: spool empty afterwards",
                 files(spool, "queue"), [])
    finally:
        srv.stop()
    # A server that never answers: the caller must not wait for it.
    from fakesmtp import SILENT
    srv = FakeSMTP(greeting=SILENT, idle_timeout=8).start(port)
    try:
        t0 = time.monotonic()
        res = run(ARGS, msg("always silent"), ini=ini, timeout=20)
        secs = time.monotonic() - t0
        check("mode always: returns at once although the server hangs",
              res.rc == 0 and secs < 2, "%r %.1fs" % (res, secs))
        check_eq("mode always: committed", len(files(spool, "queue")), 1)
    finally:
        srv.stop()

    # -bs in mode always and in fallback: 250 once committed.
    for mode in ("always", "fallback"):
        ini, d, port, spool = setup({"mode": mode})
        dialogue = crlf("EHLO c.test\nMAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>"
                        "\nDATA\nSubject: bs\n\nhi\n.\nQUIT\n")
        res = run(["-bs"], dialogue, ini=ini)
        lines = res.out.decode("utf-8", "replace").split("\r\n")
        check("-bs, mode %s, upstream down: 250 after DATA" % mode,
              any(x.startswith("250 2.0.0") for x in lines), res)
        check_eq("-bs, mode %s: committed" % mode,
                 len(files(spool, "queue")), 1)

    # -bs in mode always with the upstream up: each transaction is
    # delivered at once, not when the client finally quits.
    srv = FakeSMTP().start()
    try:
        ini, d, port, spool = setup({"mode": "always"}, port=srv.port)
        p = subprocess.Popen([postern_path(), "-C", ini, "-bs"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=base_env())
        p.stdin.write(crlf("EHLO c.test\nMAIL FROM:<a@x.test>\n"
                           "RCPT TO:<b@x.test>\nDATA\nSubject: now\n\n"
                           "hi\n.\n"))
        p.stdin.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not srv.messages():
            time.sleep(0.1)
        n_open = len(srv.messages())
        p.stdin.write(b"QUIT\r\n")
        p.stdin.close()
        p.wait(20)
        p.stdout.close()
        p.stderr.close()
    finally:
        srv.stop()
    check_eq("-bs, mode always: delivered while the session is still open",
             n_open, 1)


# -- several runners, one connection ----------------------------------------

def concurrent():
    ini, d, port, spool = setup()
    n = 40
    for i in range(n):
        res = run(ARGS, msg("conc %d" % i), ini=ini)
        if res.rc != 0:
            check("spool %d messages" % n, False, res)
            return
    check_eq("%d messages spooled" % n, len(files(spool, "queue")), n)
    srv = FakeSMTP().start(port)
    try:
        procs = [subprocess.Popen([postern_path(), "-C", ini, "-q"],
                                  env=base_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(2)]
        outs = [p.communicate(timeout=60) for p in procs]
        srv.wait_closed(10)
        check("two -q runners: both exit 0 silently",
              all(p.returncode == 0 for p in procs) and
              all(o == (b"", b"") for o in outs), outs)
        subjects = [t.data.split(b"Subject: ")[1].split(b"\r\n")[0]
                    for t in srv.messages()]
        check_eq("two -q runners: each message delivered once",
                 sorted(subjects),
                 sorted(("conc %d" % i).encode() for i in range(n)))
        per_conn = [len([t for t in c.txns if t.accepted])
                    for c in srv.conns]
        check("each runner used at most [queue] connections (3)",
              len(srv.conns) <= 2 * 3 and sum(per_conn) == n, per_conn)
        check("RSET or a fresh MAIL between transactions, no extra QUIT",
              all(c.commands.count("QUIT") <= 1 for c in srv.conns),
              [c.commands for c in srv.conns])
    finally:
        srv.stop()
    check_eq("spool empty after two runners", files(spool, "queue"), [])


# -- per-recipient outcomes and bounces -------------------------------------

def bounce_parts(data):
    return (b"multipart/report" in data and
            b"report-type=delivery-status" in data and
            b"message/delivery-status" in data)


def partial():
    ini, d, port, spool = setup()
    three = ["-i", "-f", "a@x.test", "ok@x.test", "temp@x.test",
             "perm@x.test"]
    res = run(three, msg("partial"), ini=ini)
    check("partial: spooled", res.rc == 0 and
          len(files(spool, "queue")) == 1, res)
    srv = FakeSMTP(rcpt={"temp@x.test": "451 4.2.0 mailbox busy",
                         "perm@x.test": "550 5.1.1 no such user"}).start(port)
    try:
        run(["-q"], ini=ini)
        srv.wait_closed(10)
        m = srv.messages()
        check("partial: delivered to the accepted recipient only",
              len(m) == 1 and m[0].rcpts == ["ok@x.test"], m)
    finally:
        srv.stop()
    lq = mailq(ini).out
    check("partial: mailq shows done, pending (4xx), failed (5xx)",
          b"done    <ok@x.test>" in lq and
          b"pending <temp@x.test>: 451 4.2.0 mailbox busy" in lq and
          b"failed  <perm@x.test>: 550 5.1.1 no such user" in lq, lq)
    srv = FakeSMTP().start(port)
    try:
        run(["-q"], ini=ini)
        srv.wait_closed(10)
        m = srv.messages()
        check_eq("partial: second run delivers temp@ and then the bounce",
                 [(t.mail, t.rcpts) for t in m],
                 [("a@x.test", ["temp@x.test"]), ("", ["a@x.test"])])
        if len(m) == 2:
            b = m[1].data
            check("bounce is a multipart/report", bounce_parts(b), b)
            check("bounce names the 5xx recipient only",
                  b"Final-Recipient: rfc822; perm@x.test" in b and
                  b"temp@x.test" not in b.split(b"text/rfc822-headers")[0]
                  .replace(b"To: b@x.test", b"") and
                  b"Final-Recipient: rfc822; ok@x.test" not in b and
                  b"Status: 5.1.1" in b and
                  b"550 5.1.1 no such user" in b, b)
            check("bounce carries the original headers",
                  b"Subject: partial" in b and b"hello" not in b, b)
            check("one connection for the message and its bounce",
                  len(srv.conns) == 1, len(srv.conns))
    finally:
        srv.stop()
    check_eq("partial: spool empty at the end", files(spool, "queue"), [])


def expiry():
    ini, d, port, spool = setup({"max_age": "0s"})
    run(["-i", "-f", "a@x.test", "b@x.test"], msg("expire"), ini=ini)
    srv = FakeSMTP(rcpt={"a@x.test": "250 ok", None:
                         "451 4.3.0 try later"}).start(port)
    try:
        # Not due for 5 minutes after the failed first attempt: -q.
        run(["-q"], ini=ini)
        srv.wait_closed(10)
        m = srv.messages()
        check("expiry: a bounce goes to the sender",
              len(m) == 1 and m[0].mail == "" and m[0].rcpts == ["a@x.test"]
              and bounce_parts(m[0].data), m)
        if m:
            check("expiry: the bounce says why (gave up, last reply)",
                  b"gave up after" in m[0].data and b"451 4.3.0 try later"
                  in m[0].data and b"Action: failed" in m[0].data,
                  m[0].data)
            check("expiry: Diagnostic-Code carries the server's reply only "
                  "(RFC 3464 2.3.6)",
                  b"Diagnostic-Code: smtp; 451 4.3.0 try later\r\n"
                  in m[0].data, m[0].data)
    finally:
        srv.stop()
    check_eq("expiry: spool empty", (files(spool, "queue"),
             files(spool, "failed")), ([], []))

    # A null sender: no bounce, kept in failed/.
    ini, d, port, spool = setup()
    run(["-i", "-f", "<>", "b@x.test"], msg("null sender"), ini=ini)
    srv = FakeSMTP(rcpt="550 5.1.1 gone").start(port)
    try:
        run(["-q"], ini=ini)
        srv.wait_closed(10)
        check_eq("null sender: no bounce sent", len(srv.messages()), 0)
    finally:
        srv.stop()
    f = files(spool, "failed")
    check("null sender: message kept in failed/ with its state",
          len(f) == 2 and f[1] == f[0] + ".state" and
          files(spool, "queue") == [], f)
    check("null sender: the log says so",
          b"no bounce for a null sender" in log_text(d), log_text(d))

    # NOTIFY=NEVER (RFC 3461): the sender asked for no DSN at all; a
    # NOTIFY without FAILURE likewise gets no failure bounce.
    for notify in ("never", "success,delay"):
        ini, d, port, spool = setup()
        run(["-i", "-N", notify, "-f", "a@x.test", "b@x.test"],
            msg("notify " + notify), ini=ini)
        srv = FakeSMTP(rcpt="550 5.1.1 gone").start(port)
        try:
            run(["-q"], ini=ini)
            srv.wait_closed(10)
            sent = [t for t in srv.messages() if t.mail == ""]
        finally:
            srv.stop()
        check_eq("NOTIFY=%s: no bounce" % notify, sent, [])
        check("NOTIFY=%s: kept in failed/, the log says why" % notify,
              len(files(spool, "failed")) == 2 and
              b"asked for none (NOTIFY)" in log_text(d), log_text(d))
    check("mailq mentions failed/", b"given up on" in mailq(ini).out,
          mailq(ini).out)

    # bounce = no: failed/ too.
    ini, d, port, spool = setup({"bounce": "no"})
    run(ARGS, msg("no bounce"), ini=ini)
    srv = FakeSMTP(rcpt="550 5.1.1 gone").start(port)
    try:
        run(["-q"], ini=ini)
        srv.wait_closed(10)
        check_eq("bounce = no: nothing sent", len(srv.messages()), 0)
    finally:
        srv.stop()
    check_eq("bounce = no: moved to failed/", len(files(spool, "failed")), 2)
    check("bounce = no: the log says so",
          b"(bounce = no)" in log_text(d), log_text(d))

    # A bounce that fails is not bounced in turn.
    ini, d, port, spool = setup()
    run(ARGS, msg("double"), ini=ini)
    srv = FakeSMTP(rcpt="550 5.1.1 gone").start(port)
    try:
        run(["-q"], ini=ini)
        srv.wait_closed(10)
        check_eq("bounce of a bounce: none sent", len(srv.messages()), 0)
    finally:
        srv.stop()
    check("bounce of a bounce: the failed bounce is kept in failed/",
          len(files(spool, "failed")) == 2 and files(spool, "queue") == []
          and b"no bounce for a bounce" in log_text(d), log_text(d))


# -- the administrator -------------------------------------------------------

def remove_and_clean():
    ini, d, port, spool = setup()
    run(ARGS, msg("remove me"), ini=ini)
    q = files(spool, "queue")
    res = run(["--remove", "0123456789ABCDEF0"], ini=ini)
    check("--remove unknown id: exit 64 and one line",
          res.rc == 64 and stderr_line_ok(res), res)
    res = run(["--remove", "../etc/passwd"], ini=ini)
    check("--remove a path: refused (64)", res.rc == 64 and
          b"not a queue id" in res.err, res)
    res = run(["--remove"], ini=ini)
    check("--remove without an id: 64", res.rc == 64, res)
    if q:
        with open(os.path.join(spool, "queue", q[0])) as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            res = run(["--remove", q[0]], ini=ini)
            if os.getuid() == 0:
                # Root is not kept from its spool by a stopped or hung
                # runner: after a short wait the message goes anyway.
                check("root's --remove while a runner holds it: exit 0, "
                      "removed after the wait", quiet_success(res) and
                      files(spool, "queue") == [], res)
            else:
                check("--remove while a runner holds it: 75, try again",
                      res.rc == 75 and b"try again" in res.err, res)
        if files(spool, "queue"):
            res = run(["--remove", q[0]], ini=ini)
            check("--remove ID: exit 0, silent", quiet_success(res), res)
    check_eq("--remove: the message is gone", files(spool, "queue"), [])

    # Another user's message: refused (77), whether its file is readable
    # to the caller (owner check) or not (the open fails).
    if os.getuid() == 0 and shutil.which("setpriv"):
        run(ARGS, msg("root's"), ini=ini)
        q = files(spool, "queue")
        os.chmod(ini, 0o644)
        for sub in ("", "tmp", "queue", "state", "failed"):
            os.chmod(os.path.join(spool, sub), 0o755)
        os.chmod(os.path.dirname(spool), 0o755)
        qf = os.path.join(spool, "queue", q[0])
        os.chmod(qf, 0o644)
        res = as_nobody(["--remove", q[0]], ini, b"")
        check("--remove another user's message: 77, not yours",
              res.rc == 77 and b"not submitted by you" in res.err, res)
        os.chmod(qf, 0o600)
        res = as_nobody(["--remove", q[0]], ini, b"")
        check("--remove a message the caller cannot open: 77, the cause",
              res.rc == 77 and b"Permission denied" in res.err and
              stderr_line_ok(res), res)
        check_eq("--remove refused: the message stays",
                 files(spool, "queue"), q)
        run(["--remove", q[0]], ini=ini)

    # Leftovers of a dead writer go; a live writer's file stays.
    run(ARGS, msg("keep"), ini=ini)
    tmp = os.path.join(spool, "tmp")
    dead = os.path.join(tmp, "0123456789ABCDEF01")
    live = os.path.join(tmp, "0123456789ABCDEF02")
    for p in (dead, live):
        with open(p, "w") as f:
            f.write("POSTERN-QUEUE 1\nhalf")
    with open(live) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        run(["--queue-run"], ini=ini)
        check("a dead writer's tmp/ file is removed",
              not os.path.exists(dead), os.listdir(tmp))
        check("a live writer's tmp/ file stays", os.path.exists(live),
              os.listdir(tmp))
    os.unlink(live)
    # A state file without its message goes too.
    st = os.path.join(spool, "state", "0123456789ABCDEF03")
    with open(st, "w") as f:
        f.write("POSTERN-STATE 1\n")
    run(["--queue-run"], ini=ini)
    check("an orphan state file is removed", not os.path.exists(st),
          files(spool, "state"))


def corrupt():
    ini, d, port, spool = setup()
    run(ARGS, msg("good"), ini=ini)
    qd = os.path.join(spool, "queue")
    good = files(spool, "queue")
    bad = {
        "0123456789ABCDEF10": b"garbage\n",
        "0123456789ABCDEF11": b"POSTERN-QUEUE 1\nid 0123456789ABCDEF11\n"
                              b"sender a@x.test\nrcpt b@x.test\n"
                              + b"x" * 100000,
        "0123456789ABCDEF12": b"POSTERN-QUEUE 1\nid 0123456789ABCDEF12\n"
                              b"created 1\nuid 0\nsize 00000000000000099999\n"
                              b"sender a@x.test\nrcpt b@x.test\n\nhalf a "
                              b"message\r\n",
        "0123456789ABCDEF13": b"POSTERN-QUEUE 1\nid 0123456789ABCDEF13\n"
                              b"created 1\nuid 0\nsize 00000000000000000000\n"
                              b"sender a@x.test\n" + b"rcpt b@x.test\n" * 10001
                              + b"\n",
        "0123456789ABCDEF14": b"POSTERN-QUEUE 1\nid 0123456789ABCDEF14\n"
                              b"created 99999999999999999999999\n",
    }
    for name, text in bad.items():
        with open(os.path.join(qd, name), "wb") as f:
            f.write(text)
    # and a hostile state file for the good message
    if good:
        with open(os.path.join(spool, "state", good[0]), "wb") as f:
            f.write(b"POSTERN-STATE 1\nrcpt 7 done 250\n")
    lq = mailq(ini)
    check("mailq survives corrupt files and says so",
          lq.rc == 0 and lq.out.count(b"corrupt") == len(bad) + 1, lq)
    srv = FakeSMTP().start(port)
    try:
        res = run(["-q"], ini=ini)
        srv.wait_closed(10)
        check("-q survives corrupt files", res.rc == 0 and res.err == b"",
              res)
        check_eq("nothing corrupt or half-written is delivered",
                 len(srv.messages()), 0)
    finally:
        srv.stop()
    f = files(spool, "failed")
    check("corrupt files are moved to failed/, none deleted",
          all(n in f for n in list(bad) + good) and
          files(spool, "queue") == [], f)
    check("the log names each corrupt file",
          log_text(d).count(b"corrupt queue file") == len(bad) + 1,
          log_text(d))


# -- a spool that cannot be written -------------------------------------------

def as_nobody(args, ini, stdin):
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            postern_path(), "-C", ini] + args
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=base_env(), timeout=30)
    from harness import Result
    return Result(p.returncode, p.stdout, p.stderr, 0)


def unwritable():
    if os.getuid() != 0 or not shutil.which("setpriv"):
        print("ok - unwritable spool # SKIP needs root and setpriv")
        return
    d = tmpdir()
    os.chmod(d, 0o755)
    spool = os.path.join(d, "spool")
    os.makedirs(spool)
    os.chown(spool, 65534, 65534)
    os.chmod(spool, 0o500)
    for mode, rc in (("fallback", 75), ("always", 73)):
        port = free_port()
        sections = merge(default_sections(port, d, timeout=5),
                         {"queue": {"dir": spool, "mode": mode},
                          "log": {"file": None}})
        ini = write_ini(d, sections, name="nobody-%s.ini" % mode)
        os.chmod(ini, 0o644)
        res = as_nobody(ARGS, ini, msg("unwritable"))
        check("unwritable spool, mode %s: exit %d" % (mode, rc),
              res.rc == rc, res)
        check("unwritable spool, mode %s: one clear line" % mode,
              stderr_line_ok(res) and b"Permission denied" in res.err and
              spool.encode() in res.err, res.err)
        if mode == "fallback":
            check("unwritable spool, fallback: the line gives both causes",
                  b"Connection refused" in res.err and
                  b"cannot be spooled" in res.err, res.err)
    check_eq("unwritable spool: nothing in it", os.listdir(spool), [])


def disk_full():
    if os.getuid() != 0:
        print("ok - disk full # SKIP needs root to mount a tmpfs")
        return
    d = tmpdir()
    mnt = os.path.join(d, "tiny")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                        mnt], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        print("ok - disk full # SKIP cannot mount a tmpfs: %s"
              % r.stderr.decode(errors="replace").strip())
        return
    try:
        spool = os.path.join(mnt, "spool")
        big = msg("big", ("y" * 70 + "\n") * 3000)   # ~210 KB
        for mode, rc in (("fallback", 75), ("always", 73)):
            ini, _, port, _ = setup({"mode": mode, "dir": spool}, d=d)
            res = run(ARGS, big, ini=ini)
            check("disk full, mode %s: exit %d" % (mode, rc), res.rc == rc,
                  res)
            check("disk full, mode %s: one clear line" % mode,
                  stderr_line_ok(res) and b"No space left on device"
                  in res.err, res.err)
            check_eq("disk full, mode %s: no leftover in tmp/ or queue/"
                     % mode, (files(spool, "tmp"), files(spool, "queue")),
                     ([], []))
        res = run(ARGS, msg("small"), ini=ini)
        check("after a full disk, a small message is committed",
              res.rc == 0 and len(files(spool, "queue")) == 1, res)
    finally:
        subprocess.run(["umount", "-l", mnt])


def setgid_drop():
    """-C with a set-group-ID postern gives up the group first."""
    if os.getuid() != 0 or not shutil.which("setpriv"):
        print("ok - setgid -C # SKIP needs root and setpriv")
        return
    d = tmpdir()
    os.chmod(d, 0o755)
    binary = os.path.join(d, "postern")
    shutil.copy(postern_path(), binary)
    os.chown(binary, 0, 8)          # group mail
    os.chmod(binary, 0o2755)
    spool = os.path.join(d, "spool")
    os.makedirs(spool)
    os.chown(spool, 0, 8)
    os.chmod(spool, 0o2770)
    port = free_port()
    sections = merge(default_sections(port, d, timeout=5),
                     {"queue": {"dir": spool}, "log": {"file": None}})
    ini = write_ini(d, sections, name="sg.ini")
    os.chmod(ini, 0o644)
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            binary, "-C", ini] + ARGS
    p = subprocess.run(argv, input=msg("sg"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=base_env(), timeout=30)
    check("setgid postern with -C: the group is dropped, spool refused (75)",
          p.returncode == 75 and b"Permission denied" in p.stderr,
          (p.returncode, p.stderr))


# -- SIGKILL at random points -------------------------------------------------

def kill_at(argv, stdin, delay, group=False):
    """Run argv, SIGKILL it after delay seconds; (killed, rc).  group:
    kill its whole process group (a queue run and its workers)."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=base_env(),
                         start_new_session=group)
    if stdin:
        try:
            p.stdin.write(stdin)
            p.stdin.close()
        except BrokenPipeError:
            pass
    time.sleep(delay)
    killed = p.poll() is None
    if killed:
        if group:
            os.killpg(p.pid, signal.SIGKILL)
        else:
            p.send_signal(signal.SIGKILL)
    rc = p.wait()
    return killed, rc


def crash():
    """SIGKILL at random points of submissions and of queue runs over
    several connections: nothing acknowledged is lost, the one duplicate
    allowed per killed connection, nothing half-written delivered."""
    seed = int(os.environ.get("POSTERN_SEED", time.time()))
    print("# crash: POSTERN_SEED=%d" % seed)
    rnd = random.Random(seed)
    # Queue runs over 4 connections: the kills land in the workers too.
    ini, d, port, spool = setup(queue={"connections": 4})
    argv = [postern_path(), "-C", ini, "-i", "-f", "a@x.test", "b@x.test"]
    bodies = {}
    accepted = []
    nsub = kills = 0
    # How long one submission takes, to aim the kills inside it.
    t0 = time.monotonic()
    run(ARGS, msg("warmup"), ini=ini)
    span = max(time.monotonic() - t0, 0.002)
    while kills < 100 and nsub < 400:
        tag = "crash-%d" % nsub
        body = ("%s\n" % tag) + (("z%d " % nsub) * 20 + "\n") * 10
        bodies[tag] = body
        nsub += 1
        killed, rc = kill_at(argv, msg(tag, body), rnd.uniform(0, span * 1.3))
        kills += killed
        if not killed and rc == 0:
            accepted.append(tag)
    # 20 ms between the final dot and its reply: the window where a kill
    # makes the one allowed duplicate (4 connections share the load).
    srv = FakeSMTP(on_message=lambda t: time.sleep(0.02))
    try:
        srv.start(port)
    except OSError:
        # Taken meanwhile by another program on this busy machine: the
        # queue runs read the ini afresh, so another port does as well.
        ini, d, port, spool = setup(queue={"connections": 4}, d=d)
        srv.start(port)
    try:
        runs = 0
        # The scripted server takes tens of ms a message: the kills fall
        # before, inside and between transactions.  Every other run is
        # killed with its workers; the others lose only their parent,
        # and their workers go on beside the next run.
        while runs < 25 and files(spool, "queue"):
            runs += 1
            killed, rc = kill_at([postern_path(), "-C", ini, "-q"], b"",
                                 rnd.uniform(0, 0.3), group=runs % 2 == 0)
            kills += killed
        print("# crash: %d -q runs killed at random" % runs)
        time.sleep(3.1)   # an empty tmp/ file of a killed writer may go now
        res = run(["-q"], ini=ini)
        srv.wait_closed(15)
        check("crash: the final -q exits 0", res.rc == 0, res)
    finally:
        srv.stop()
    check("crash: at least 100 SIGKILLs landed", kills >= 100,
          "%d kills" % kills)
    got = {}
    for c in srv.conns:
        acc = [t for t in c.txns if t.accepted]
        for k, t in enumerate(acc):
            tag = t.data.split(b"Subject: ")[1].split(b"\r\n")[0].decode()
            last_killed = k == len(acc) - 1 and "QUIT" not in c.commands
            got.setdefault(tag, []).append((t, last_killed))
    lost = [t for t in accepted if t not in got]
    check("crash: every message whose submission exited 0 is delivered",
          not lost, "lost %r of %d" % (lost, len(accepted)))
    # Each extra copy must come from a runner killed after its final dot
    # (the copy is the last one accepted on a connection without QUIT):
    # one kill, at most one duplicate.  Connections run side by side, so
    # their order says nothing about which copy came first: at most one
    # copy may come from a connection that was not killed.
    bad_dup = [t for t, v in got.items()
               if len([k for _, k in v if not k]) > 1]
    check("crash: duplicates only when the kill fell after the final dot",
          not bad_dup, [(t, [(srv.conns.index(c), c.commands[-3:],
                              len(c.txns)) for c in srv.conns
                             for x, _ in got[t] if x in c.txns])
                        for t in bad_dup])
    ndup = len([t for t, v in got.items() if len(v) == 2])
    print("# crash: %d submitted, %d exited 0, %d delivered, %d twice, "
          "%d kills" % (nsub, len(accepted), len(got), ndup, kills))
    whole = []
    for tag, v in got.items():
        if tag == "warmup":
            continue
        want = crlf(bodies.get(tag, "?"))
        whole += [t.data.endswith(b"\r\n\r\n" + want) for t, _ in v]
    check("crash: nothing half-written is delivered", all(whole),
          whole.count(False))
    check_eq("crash: tmp/, queue/ and state/ are empty at the end",
             (files(spool, "tmp"), files(spool, "queue"),
              files(spool, "state")), ([], [], []))


def server_refuses_sessions():
    """A 554 greeting says nothing about the recipients: the queue keeps
    every message (no bounce), and a later run with a working login logs
    the AUTH mechanism it used."""
    ini, d, port, spool = setup()
    run(ARGS, msg("refused session"), ini=ini)
    run(["-i", "-f", "c@x.test", "d@x.test"], msg("second"), ini=ini)
    srv = FakeSMTP(greeting="554 5.3.2 no service for you").start(port)
    try:
        r = run(["-q"], ini=ini)
        srv.wait_closed(5)
        sent = srv.messages()
    finally:
        srv.stop()
    check("554 greeting: -q exits 0", r.rc == 0, r)
    check_eq("554 greeting: both messages kept, nothing bounced",
             (len(files(spool, "queue")), files(spool, "failed"), sent),
             (2, [], []))
    lq = mailq(ini)
    check("554 greeting: recipients pending with the server's reply",
          lq.out.count(b"pending <") == 2 and b"554 5.3.2" in lq.out, lq)

    ini2 = write_ini(d, merge(merge(default_sections(port, d, timeout=5),
                                    {"queue": {"dir": spool,
                                               "mode": "fallback"}}),
                              {"remote": {"auth": "basic", "user": "u",
                                          "password": "pw",
                                          "allow_plaintext_auth": "yes"}}),
                     name="auth.ini")
    srv = FakeSMTP(caps=["PIPELINING", "AUTH PLAIN"],
                   auth=["235 2.7.0 ok"]).start(port)
    try:
        r = run(["-q"], ini=ini2)
        srv.wait_closed(5)
        n = len(srv.messages())
    finally:
        srv.stop()
    check("then delivered, spool empty", r.rc == 0 and n == 2 and
          files(spool, "queue") == [], (r, n))
    sent_lines = [x for x in log_text(d).split(b"\n")
                  if b"status=sent" in x]
    check("queue run log lines carry auth= and tls= of the session",
          len(sent_lines) == 2 and
          all(b"auth=plain" in x and b"tls=no" in x for x in sent_lines),
          sent_lines)


def partial_unspoolable():
    """Partial delivery, a 4xx recipient, and a spool that cannot take
    it: the accepted recipient has the message, so exit 0 and one line
    for the one left out (a non-zero exit would make the caller send it
    again to everybody)."""
    d = tmpdir()
    blocker = os.path.join(d, "not-a-dir")
    with open(blocker, "w") as f:
        f.write("x")
    srv = FakeSMTP(rcpt={"ok@x.test": "250 ok",
                         None: "451 4.2.0 later"}).start()
    try:
        ini, d, port, spool = setup(
            {"dir": os.path.join(blocker, "spool")}, port=srv.port, d=d,
            extra={"delivery": {"partial_delivery": "yes"}})
        r = run(["-i", "-f", "a@x.test", "ok@x.test", "later@x.test"],
                msg("partial"), ini=ini)
        srv.wait_closed(5)
        m = srv.messages()
    finally:
        srv.stop()
    check("partial, spool unusable: exit 0", r.rc == 0, r)
    check("partial, spool unusable: the accepted recipient has it once",
          len(m) == 1 and m[0].rcpts == ["ok@x.test"], m)
    check("partial, spool unusable: one stderr line names the one left out",
          stderr_line_ok(r) and b"<later@x.test> not delivered" in r.err, r)


def lost_after_dot():
    """The one possible duplicate: the connection lost after the final
    dot.  The message is spooled and the log says a retry may deliver it
    twice."""
    srv = FakeSMTP(dot=DROP).start()
    try:
        ini, d, port, spool = setup(port=srv.port)
        r = run(ARGS, msg("after the dot"), ini=ini)
        srv.wait_closed(5)
    finally:
        srv.stop()
    check("lost after the dot: exit 0, spooled", r.rc == 0 and
          len(files(spool, "queue")) == 1, r)
    check("lost after the dot: the log warns of a possible duplicate",
          b"may deliver the message twice" in log_text(d), log_text(d))


def partial_fallback_spooled():
    """partial_delivery in fallback mode: the 4xx recipient waits in the
    spool with a readable state and gets the message on the next run."""
    srv = FakeSMTP(rcpt={"later@x.test": "451 4.2.0 try later"}).start(
        free_port())
    port = srv.port
    try:
        ini, d, _, spool = setup(port=port, extra={"delivery": {
            "partial_delivery": "yes"}})
        r = run(["-i", "-f", "a@x.test", "later@x.test", "now@x.test"],
                msg("partial fallback"), ini=ini)
        srv.wait_closed(5)
        first = [m.rcpts for m in srv.messages()]
    finally:
        srv.stop()
    check("partial fallback: exit 0, quiet", quiet_success(r), r)
    check_eq("partial fallback: the accepted recipient has it", first,
             [["now@x.test"]])
    lq = mailq(ini)
    check("partial fallback: mailq shows the deferred recipient and why",
          b"corrupt" not in lq.out and b"pending <later@x.test>" in lq.out
          and b"1 recipient deferred" in lq.out, lq)
    srv = FakeSMTP().start(port)
    try:
        q = run(["-q"], ini=ini)
        srv.wait_closed(5)
        later = [m.rcpts for m in srv.messages()]
    finally:
        srv.stop()
    check("partial fallback: -q delivers to the deferred one only",
          q.rc == 0 and later == [["later@x.test"]] and
          files(spool, "queue") == [] and files(spool, "failed") == [],
          (q, later, files(spool, "failed")))


def main():
    require_postern()
    partial_fallback_spooled()
    lost_after_dot()
    partial_unspoolable()
    server_refuses_sessions()
    fallback()
    one_id()
    never_and_missing()
    always()
    concurrent()
    partial()
    expiry()
    remove_and_clean()
    corrupt()
    unwritable()
    disk_full()
    setgid_drop()
    crash()
    return done()


if __name__ == "__main__":
    sys.exit(main())
