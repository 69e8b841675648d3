#!/usr/bin/python3
# SPDX-License-Identifier: ISC (see LICENSE)
"""postern -bd, the local SMTP service: real SMTP clients (Python's
smtplib, swaks, curl, nodemailer) relaying through it to the private
Postfix, and against the scripted upstream: max_sessions, a client that
stalls in DATA, SIGTERM with sessions open, the spool when the upstream
is down, the start-up refusals (not loopback, a loop, the user), and the
privilege drop.  test_bd_net.py covers clients outside loopback and
socket activation."""

import concurrent.futures
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run,  # noqa
                     stderr_line_ok, tmpdir, base_env, postern_path)
from fakesmtp import FakeSMTP  # noqa: E402
from postfix import PrivatePostfix, PostfixError, free_port  # noqa: E402
from bd import (Client, Daemon, bd_ini, message, new_tag, run_ids,  # noqa
                start_bd, stuffed, RUN_USER)

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
# nodemailer is installed here, outside the repository, from the lock file.
NODE_CACHE = os.environ.get("POSTERN_NODE_CACHE",
                            "/var/cache/postern-tests/node")


def intact(msg, tag):
    """The delivered message carries the client's subject and body, line
    for line (a Maildir holds LF, the scripted server CR LF)."""
    m = msg.replace(b"\r\n", b"\n")
    t = tag.encode()
    return (b"\nSubject: postern -bd " + t + b"\n" in m and
            b"\n\nline one of " + t + b"\n.leading dot\nlast line\n" in m)


def write_msg(d, tag):
    path = os.path.join(d, "msg-%s.eml" % tag)
    with open(path, "wb") as f:
        f.write(message(tag))
    return path


# -- real clients through postern -bd to the private Postfix ---------------

def send_smtplib(port, d, tag):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail("app@x.test", ["ops@example.test"], message(tag))
    return True, ""


def send_swaks(port, d, tag):
    p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port,
                        "--from", "app@x.test", "--to", "ops@example.test",
                        "--data", "@" + write_msg(d, tag), "--silent", "2"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace")


def send_curl(port, d, tag):
    p = subprocess.run(["curl", "-sS", "smtp://127.0.0.1:%d" % port,
                        "--mail-from", "app@x.test",
                        "--mail-rcpt", "ops@example.test",
                        "--upload-file", write_msg(d, tag)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace")


def node_ready():
    """nodemailer from the pinned lock file, in NODE_CACHE: (ok, why)."""
    if not shutil.which("node") or not shutil.which("npm"):
        return False, "node or npm not installed (tests/deps.sh)"
    os.makedirs(NODE_CACHE, exist_ok=True)
    stale = False
    for name in ("package.json", "package-lock.json"):
        src = os.path.join(NODE_DIR, name)
        dst = os.path.join(NODE_CACHE, name)
        with open(src, "rb") as f:
            want = f.read()
        try:
            with open(dst, "rb") as f:
                stale = stale or f.read() != want
        except OSError:
            stale = True
        if stale:
            shutil.copy(src, dst)
    if stale or not os.path.isdir(os.path.join(NODE_CACHE, "node_modules",
                                               "nodemailer")):
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                            "--omit=dev"], cwd=NODE_CACHE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=300)
        if p.returncode != 0:
            return False, "npm ci failed: " + p.stdout.decode()[-300:]
    return True, ""


def send_nodemailer(port, d, tag):
    env = base_env({"NODE_PATH": os.path.join(NODE_CACHE, "node_modules")})
    p = subprocess.run(["node", os.path.join(NODE_DIR, "send.js"),
                        "127.0.0.1", str(port), "app@x.test",
                        "ops@example.test", write_msg(d, tag)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=env, timeout=60)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace")


def real_clients():
    try:
        pf = PrivatePostfix().start()
    except PostfixError as e:
        check("private Postfix starts", False, str(e)[:300])
        return
    d = tmpdir()
    bd = start_bd(d, pf.port)
    port = bd.port
    try:
        if not check("-bd starts and listens", bd.ready,
                     bd.log()[-300:] + repr(bd.err)):
            return
        clients = [("smtplib", send_smtplib), ("swaks", send_swaks),
                   ("curl", send_curl)]
        ok, why = node_ready()
        if ok:
            clients.append(("nodemailer", send_nodemailer))
        else:
            print("ok - nodemailer through -bd # SKIP %s" % why)
        tags = {}
        for name, fn in clients:
            tag = new_tag()
            tags[name] = tag
            try:
                sent, out = fn(port, d, tag)
            except (OSError, smtplib.SMTPException) as e:
                sent, out = False, repr(e)
            check("%s sends through -bd" % name, sent, out[-300:])
        msgs = pf.wait_messages(len(tags), timeout=30)
        time.sleep(0.5)
        msgs += pf.take_messages()
        for name, tag in tags.items():
            got = [m for m in msgs if tag.encode() in m]
            check_eq("%s: the message arrives once" % name, len(got), 1)
            check("%s: the message arrives intact" % name,
                  got and intact(got[0], tag), got[:1])
        log = bd.log()
        check("each session's log lines name the client",
              log.count("session start client=127.0.0.1:") >= len(tags) and
              "status=sent" in log and
              all("client=127.0.0.1:" in line for line in log.splitlines()
                  if "status=sent" in line), log[-600:])
    finally:
        check_eq("SIGTERM: -bd exits 0", bd.stop(), 0)
        pf.stop()


# -- limits and timeouts, against the scripted upstream ---------------------

def session_pids(daemon_pid):
    """The session processes of a daemon (its children)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == daemon_pid:
            pids.append(int(name))
    return pids


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def send_on(c, tag):
    """A whole transaction on an open Client; the reply to the dot."""
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<app@x.test>")
    c.cmd("RCPT TO:<ops@example.test>")
    c.cmd("DATA")
    c.send(stuffed(message(tag)) + b".\r\n")
    code, lines = c.reply()
    c.cmd("QUIT")
    c.close()
    return code


def twenty_and_one():
    srv = FakeSMTP().start()
    d = tmpdir()
    bd = start_bd(d, srv.port)
    port = bd.port
    clients = []
    try:
        if not check("-bd starts (20 sessions)", bd.ready, bd.err):
            return
        for _ in range(20):
            c = Client(port)
            clients.append(c)
        greets = [c.reply()[0] for c in clients]
        check_eq("twenty clients at once are greeted", greets, [220] * 20)
        extra = Client(port)
        code, lines = extra.reply()
        check("the twenty-first gets 421 4.3.2",
              code == 421 and "4.3.2" in lines[0], lines)
        check("... and is closed", extra.reply()[0] is None)
        extra.close()
        check("the refusal is logged with the client",
              bd.wait_log("session refused: max_sessions reached "
                          "client=127.0.0.1:"), bd.log()[-300:])
        pids = session_pids(bd.p.pid)
        rss = [rss_kib(p) for p in pids]
        rss = [r for r in rss if r is not None]
        check_eq("one process per session", len(pids), 20)
        check("memory per session is bounded (VmRSS < 16 MiB each)",
              rss and max(rss) < 16384, rss)
        print("# session VmRSS KiB: max %s, mean %d" % (
            max(rss) if rss else "?", sum(rss) // max(len(rss), 1)))
        tags = [new_tag() for _ in clients]
        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            codes = list(ex.map(send_on, clients, tags))
        check_eq("all twenty deliver at once", codes, [250] * 20)
        srv.wait_closed(20)
        got = [m.data for m in srv.messages()]
        check("each of the twenty arrives once",
              all(sum(1 for m in got if t.encode() in m) == 1 for t in tags),
              len(got))
        # A slot is free again once a session ended.
        ok = False
        for _ in range(50):
            c = Client(port)
            code = c.reply()[0]
            c.close()
            if code == 220:
                ok = True
                break
            time.sleep(0.1)
        check("after sessions end, new clients are greeted", ok)
    finally:
        for c in clients:
            c.close()
        check_eq("-bd exits 0 (twenty)", bd.stop(), 0)
        srv.stop()


def stall_in_data():
    srv = FakeSMTP().start()
    d = tmpdir()
    bd = start_bd(d, srv.port, extra={"delivery": {"session_timeout": "2"}})
    port = bd.port
    try:
        if not check("-bd starts (stall)", bd.ready, bd.err):
            return
        c = Client(port)
        c.reply()
        c.cmd("EHLO c.test")
        c.cmd("MAIL FROM:<app@x.test>")
        c.cmd("RCPT TO:<ops@example.test>")
        code, _ = c.cmd("DATA")
        c.send(b"Subject: stalled\r\n\r\nhalf a mess")
        # Meanwhile another client is served.
        o = Client(port)
        o.reply()
        other = send_on(o, new_tag())
        check_eq("another session is served during the stall", other, 250)
        t0 = time.monotonic()
        code, lines = c.reply()
        waited = time.monotonic() - t0
        check("the stalled client gets 421 4.4.2 after session_timeout",
              code == 421 and "4.4.2" in lines[0], (code, lines))
        check("... and is closed", c.reply()[0] is None)
        check("the wait was bounded", waited < 30, waited)
        c.close()
        bd.wait_log("client closed the session in DATA", timeout=5)
        srv.wait_closed(10)
        check("nothing of the stalled message is delivered",
              not any(b"stalled" in m.data for m in srv.messages()),
              srv.messages())
        check("nothing of it is spooled",
              not os.listdir(os.path.join(d, "spool", "queue"))
              if os.path.isdir(os.path.join(d, "spool", "queue")) else True)
    finally:
        check_eq("-bd exits 0 (stall)", bd.stop(), 0)
        srv.stop()


def sigterm_with_sessions():
    srv = FakeSMTP().start()
    d = tmpdir()
    bd = start_bd(d, srv.port)
    port = bd.port
    try:
        if not check("-bd starts (SIGTERM)", bd.ready, bd.err):
            return
        a, b, c = Client(port), Client(port), Client(port)
        for x in (a, b, c):
            x.reply()
            x.cmd("EHLO c.test")
        ta, tc = new_tag(), new_tag()
        for x in (a, c):
            x.cmd("MAIL FROM:<app@x.test>")
            x.cmd("RCPT TO:<ops@example.test>")
        a.cmd("DATA")
        whole = stuffed(message(ta))
        a.send(whole[:40])
        bd.p.send_signal(15)
        check("SIGTERM: stopping is logged with the open sessions",
              bd.wait_log("stopping: 3 sessions open"), bd.log()[-300:])
        code, lines = b.reply()
        check("an idle session gets 421 4.3.2 and ends",
              code == 421 and "4.3.2" in lines[0], (code, lines))
        refused = False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            refused = True
        check("no new client is accepted", refused)
        a.send(whole[40:] + b".\r\n")
        code, _ = a.reply()
        check_eq("the message in DATA is finished: 250", code, 250)
        code, _ = c.cmd("DATA")
        check_eq("a transaction under way goes on: 354", code, 354)
        # QUIT in the same write as the dot: it is read with the data.
        c.send(stuffed(message(tc)) + b".\r\nQUIT\r\n")
        check_eq("... and is accepted: 250", c.reply()[0], 250)
        check_eq("QUIT still gets 221", c.reply()[0], 221)
        code, lines = a.cmd("MAIL FROM:<app@x.test>")
        check("a new transaction gets 421", code == 421, (code, lines))
        for x in (a, b, c):
            x.close()
        rc = bd.stop(timeout=30)
        check_eq("-bd exits 0 once the sessions ended", rc, 0)
        check("stopped is logged", "stopped" in bd.log(), bd.log()[-200:])
        srv.wait_closed(10)
        msgs = [m.data for m in srv.messages()]
        check("nothing is lost: both messages arrive once",
              sum(1 for m in msgs if ta.encode() in m) == 1 and
              sum(1 for m in msgs if tc.encode() in m) == 1, len(msgs))
        check("the message cut by SIGTERM arrives whole",
              any(intact(m, ta) for m in msgs))
    finally:
        bd.stop()
        srv.stop()


def interrupt():
    """^C reaches the daemon's whole process group: the sessions finish
    their transaction all the same."""
    srv = FakeSMTP().start()
    d = tmpdir()
    bd = start_bd(d, srv.port, new_group=True)
    port = bd.port
    try:
        if not check("-bd starts (SIGINT)", bd.ready, bd.err):
            return
        c = Client(port)
        c.reply()
        for line in ("EHLO c.test", "MAIL FROM:<app@x.test>",
                     "RCPT TO:<ops@example.test>", "DATA"):
            c.cmd(line)
        tag = new_tag()
        whole = stuffed(message(tag))
        c.send(whole[:30])
        os.killpg(bd.p.pid, signal.SIGINT)
        bd.wait_log("stopping: 1 session open")
        c.send(whole[30:] + b".\r\n")
        check_eq("SIGINT to the process group: the message in DATA is "
                 "accepted", c.reply()[0], 250)
        c.close()
        check_eq("... and -bd exits 0", bd.stop(timeout=30), 0)
        srv.wait_closed(10)
        check("... and the message arrives",
              any(tag.encode() in m.data for m in srv.messages()))
    finally:
        bd.stop()
        srv.stop()


def upstream_down():
    d = tmpdir()
    bd = start_bd(d, free_port())
    port, ini = bd.port, bd.ini
    queue = os.path.join(d, "spool", "queue")
    try:
        if not check("-bd starts (upstream down)", bd.ready, bd.err):
            return
        c = Client(port)
        c.reply()
        for line in ("EHLO c.test", "MAIL FROM:<app@x.test>",
                     "RCPT TO:<ops@example.test>", "DATA"):
            c.cmd(line)
        tag = new_tag()
        c.send(stuffed(message(tag)) + b".\r\n")
        code, lines = c.reply()
        # The reply came after the commit: the file is there now.
        queued = os.listdir(queue) if os.path.isdir(queue) else []
        check_eq("upstream down: 250 after the final dot", code, 250)
        check_eq("... and the message was committed before it",
                 len(queued), 1)
        c.cmd("QUIT")
        c.close()
        r = run(["-bp"], ini=ini)
        check("mailq lists it", r.rc == 0 and b"ops@example.test" in r.out,
              r)
        # A spool the session cannot write: no 250.
        os.chown(os.path.join(d, "spool"), 0, 0)
        for sub in os.listdir(os.path.join(d, "spool")):
            os.chown(os.path.join(d, "spool", sub), 0, 0)
        c = Client(port)
        c.reply()
        for line in ("EHLO c.test", "MAIL FROM:<app@x.test>",
                     "RCPT TO:<ops@example.test>", "DATA"):
            c.cmd(line)
        c.send(stuffed(message(new_tag())) + b".\r\n")
        code, lines = c.reply()
        check("no spool and no upstream: 4xx, not 250",
              code is not None and 400 <= code < 500, (code, lines))
        c.close()
        check_eq("... and nothing more is in the queue",
                 len(os.listdir(queue)), 1)
    finally:
        check_eq("-bd exits 0 (upstream down)", bd.stop(), 0)


# -- start-up refusals and the privilege drop -------------------------------

def refused_start(name, ini, d, want, status=78):
    bd = Daemon(ini, d)
    rc = bd.finish(timeout=30)
    res = type("R", (), {"err": bd.err})
    check_eq("%s: exit %d" % (name, status), rc, status)
    check("%s: one line saying why" % name,
          stderr_line_ok(res) and want.encode() in bd.err, bd.err)


def startup_refusals():
    d = tmpdir()
    port = free_port()
    refused_start("a listen address that is not loopback",
                  bd_ini(d, 2, "192.0.2.1:%d" % port), d, "is not loopback")
    refused_start("0.0.0.0 without allow",
                  bd_ini(d, 2, "0.0.0.0:%d" % port), d, "[listen] allow")
    r = run(["--check"], ini=bd_ini(d, 2, "[::]:%d" % port))
    check("--check refuses [::] without allow",
          r.rc == 78 and b"is not loopback" in r.err, r)
    ini = bd_ini(d, port, "127.0.0.1:%d" % port)
    refused_start("the loop", ini, d, "mail loop")
    r = run(["--check"], ini=ini)
    check("--check with [listen] refuses the loop",
          r.rc == 78 and b"mail loop" in r.err and stderr_line_ok(r), r)
    ini = bd_ini(d, port, "0.0.0.0:%d" % port,
                 {"listen": {"allow": "192.0.2.0/24"}})
    refused_start("a loop through 0.0.0.0", ini, d, "mail loop")
    ini = bd_ini(d, port, "localhost:%d" % port, {
        "delivery": {"mode": "local"},
        "local": {"host": "127.0.0.1", "port": port}})
    refused_start("a loop to [local] (mode = local)", ini, d, "[local] host")
    ini = bd_ini(d, port + 1 if port < 65535 else port - 1,
                 "127.0.0.1:%d" % port)
    r = run(["--check"], ini=ini)
    check("--check prints [listen] under a -bd comment",
          r.rc == 0 and b"; postern -bd" in r.out and
          ("address = 127.0.0.1:%d" % port).encode() in r.out, r)
    refused_start("a user that does not exist",
                  bd_ini(d, 2, "127.0.0.1:%d" % port,
                         {"listen": {"user": "no-such-postern-user"}}), d,
                  "does not exist")
    refused_start("user root", bd_ini(d, 2, "127.0.0.1:%d" % port,
                                      {"listen": {"user": "root"}}), d,
                  "never serves clients as root")
    r = run(["--check"], ini=bd_ini(d, 2, "127.0.0.1:%d" % port,
                                    {"listen": {"allow": "192.0.2.1/24"}}))
    check("a bad allow entry: 78 with its line",
          r.rc == 78 and b"postern.ini:" in r.err and
          b"[listen] allow" in r.err, r)
    # The port is taken: 71, one line.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        refused_start("a port in use", bd_ini(d, 2, "127.0.0.1:%d" % port),
                      d, "cannot listen on 127.0.0.1:%d" % port, status=71)
    finally:
        blocker.close()


def privilege_drop():
    d = tmpdir()
    srv = FakeSMTP().start()
    bd = start_bd(d, srv.port, "127.0.0.1:{port}, [::1]:{port}")
    port = bd.port
    try:
        if not check("-bd starts on IPv4 and IPv6 loopback (privileges)",
                     bd.ready, bd.log()[-300:] + repr(bd.err)):
            return
        with open("/proc/%d/status" % bd.p.pid) as f:
            st = dict(line.split(":", 1) for line in f if ":" in line)
        uid, gid = run_ids()
        try:
            import grp
            gid = grp.getgrnam("postern").gr_gid
        except KeyError:
            pass
        check_eq("after binding, -bd runs as [listen] user",
                 st["Uid"].split(), [str(uid)] * 4)
        check_eq("... with its group (postern when it exists)",
                 st["Gid"].split(), [str(gid)] * 4)
        check_eq("... and no other group", st["Groups"].split(), [str(gid)])
        tag = new_tag()
        c = Client(port)
        c.reply()
        check_eq("a session as %s delivers" % RUN_USER, send_on(c, tag), 250)
        c = Client(port, host="::1")
        c.reply()
        check_eq("a client on [::1] delivers", send_on(c, new_tag()), 250)
        check("... and its address is logged in brackets",
              bd.wait_log("session start client=[::1]:"), bd.log()[-300:])
    finally:
        check_eq("-bd exits 0 (privileges)", bd.stop(), 0)
        srv.stop()


def unprivileged():
    """Started by another user: it keeps that identity; a port below 1024
    then needs CAP_NET_BIND_SERVICE."""
    d = tmpdir()
    srv = FakeSMTP().start()
    uid, gid = run_ids()
    # The log file is opened by the daemon itself, as that user.
    os.chown(d, uid, gid)
    asuser = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
              "--clear-groups", "--inh-caps=-all"]
    bd = start_bd(d, srv.port, prepare=lambda ini: os.chown(ini, uid, gid),
                  prefix=asuser)
    port, p = bd.port, bd.p
    try:
        if check("-bd started as %s listens" % RUN_USER, bd.ready,
                 bd.log()[-300:] + repr(bd.err)):
            c = Client(port)
            c.reply()
            check_eq("... and delivers", send_on(c, new_tag()), 250)
            with open("/proc/%d/status" % p.pid) as f:
                uids = [x for x in f if x.startswith("Uid:")][0].split()[1:]
            check_eq("... keeping its identity", uids, [str(uid)] * 4)
    finally:
        check_eq("-bd as %s exits 0" % RUN_USER, bd.stop(), 0)
        srv.stop()
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
            if int(f.read()) <= 25:
                print("ok - port 25 without CAP_NET_BIND_SERVICE # SKIP "
                      "this system lets anyone bind port 25")
                return
    except (OSError, ValueError):
        pass
    ini = bd_ini(d, srv.port, "127.0.0.1:25", name="low.ini")
    os.chown(ini, uid, gid)
    r = subprocess.run(asuser + [postern_path(), "-C", ini, "-bd"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=base_env(), timeout=30)
    check("port 25 without CAP_NET_BIND_SERVICE: 71 with the hint",
          r.returncode == 71 and b"cannot listen on 127.0.0.1:25: "
          b"Permission denied (a port below 1024 needs root or "
          b"CAP_NET_BIND_SERVICE)" in r.stderr, (r.returncode, r.stderr))


def main():
    require_postern()
    if os.geteuid() != 0:
        print("ok - postern -bd # SKIP needs root (make check runs as root)")
        return done()
    startup_refusals()
    privilege_drop()
    unprivileged()
    real_clients()
    twenty_and_one()
    stall_in_data()
    sigterm_with_sessions()
    interrupt()
    upstream_down()
    return done()


if __name__ == "__main__":
    sys.exit(main())
