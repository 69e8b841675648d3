#!/usr/bin/python3
# SPDX-License-Identifier: ISC (see LICENSE)
"""The local SMTP service beyond one loopback process: clients that are
not on loopback (inside a network namespace the test creates, with the
TEST-NET-1 addresses on its own loopback device), [listen] allow, and
postern -bs on a connected socket: systemd-socket-activate --accept (fd 3,
LISTEN_FDS), --inetd and a socket on standard input."""

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern,  # noqa: E402
                     postern_path, base_env, tmpdir)
from fakesmtp import FakeSMTP  # noqa: E402
from postfix import free_port  # noqa: E402
from bd import (Daemon, Netns, bd_ini, log_text, message, new_tag,  # noqa
                socket_activate, stuffed)

HERE = os.path.dirname(os.path.abspath(__file__))
FAKESMTP = os.path.join(HERE, "lib", "fakesmtp.py")
SOCKET_ACTIVATE = "/usr/bin/systemd-socket-activate"

# Run inside the namespace: one SMTP dialogue from a chosen source
# address; prints the replies (a list of reply lines per step) as JSON.
NETCLIENT = r"""
import json, socket, sys
src, host, port, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    json.loads(sys.argv[4])
s = socket.create_connection((host, port), timeout=30,
                             source_address=(src, 0))
f = s.makefile("rb")
def reply():
    out = []
    while True:
        line = f.readline()
        if not line:
            return out
        out.append(line.decode("latin-1").rstrip("\r\n"))
        if line[3:4] != b"-":
            return out
res = [reply()]
for step in steps:
    s.sendall(step.encode("latin-1"))
    res.append(reply())
print(json.dumps(res))
"""


def dialogue(ns, src, host, port, steps):
    """The replies of one session from src, or None."""
    p = ns.run(["/usr/bin/python3", "-c", NETCLIENT, src, host, str(port),
                json.dumps(steps)], stdout=subprocess.PIPE,
               stderr=subprocess.PIPE, timeout=60)
    try:
        return json.loads(p.stdout.decode())
    except ValueError:
        return [["no reply: %s" % p.stderr.decode()[-300:]]]


def codes(res):
    return [int(r[-1][:3]) if r and r[-1][:3].isdigit() else None
            for r in res]


def transaction(tag):
    return ["EHLO c.test\r\n", "MAIL FROM:<app@x.test>\r\n",
            "RCPT TO:<ops@example.test>\r\n", "DATA\r\n",
            (stuffed(message(tag)) + b".\r\n").decode("latin-1"),
            "QUIT\r\n"]


class NsUpstream:
    """fakesmtp.py as a process inside the namespace, on its 127.0.0.1."""

    def __init__(self, ns, d):
        self.maildir = os.path.join(d, "mail")
        self.port = free_port()
        self.p = ns.popen(["/usr/bin/python3", FAKESMTP, "--port",
                           str(self.port), "--maildir", self.maildir],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.ready = self.p.stdout.readline().startswith(b"listening")

    def messages(self, n, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = [x for x in os.listdir(self.maildir)
                     if x.endswith(".eml")] \
                if os.path.isdir(self.maildir) else []
            if len(names) >= n:
                break
            time.sleep(0.05)
        out = []
        for x in sorted(os.listdir(self.maildir)
                        if os.path.isdir(self.maildir) else []):
            if x.endswith(".eml"):
                with open(os.path.join(self.maildir, x), "rb") as f:
                    out.append(f.read())
        return out

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def outside_allow():
    """-bd on 192.0.2.1 with allow = 192.0.2.2/32: .2 submits, .3 is
    refused with 554 and logged."""
    with Netns() as ns:
        if not check("a network namespace of the test's own", ns.ok,
                     getattr(ns, "error", "")):
            return
        d = tmpdir()
        up = NsUpstream(ns, d)
        port = 2525
        ini = bd_ini(d, up.port, "192.0.2.1:%d" % port,
                     {"listen": {"allow": "192.0.2.2/32"}})
        bd = Daemon(ini, d, netns=ns.name)
        try:
            check("upstream in the namespace", up.ready)
            if not check("-bd on 192.0.2.1 starts with allow",
                         bd.wait_ready(), bd.log()[-300:]):
                return
            tag = new_tag()
            res = dialogue(ns, "192.0.2.2", "192.0.2.1", port,
                           transaction(tag))
            check_eq("a client inside allow submits",
                     codes(res), [220, 250, 250, 250, 354, 250, 221])
            got = up.messages(1)
            check("... and its message arrives once",
                  sum(1 for m in got if tag.encode() in m) == 1, got)
            bad = new_tag()
            res = dialogue(ns, "192.0.2.3", "192.0.2.1", port,
                           ["EHLO c.test\r\n", "MAIL FROM:<app@x.test>\r\n",
                            "RCPT TO:<ops@example.test>\r\n", "DATA\r\n",
                            "Subject: %s\r\n" % bad, "QUIT\r\n"])
            check("a client outside allow gets 554 5.7.1 for a greeting",
                  res[0] and res[0][0].startswith("554 5.7.1"), res)
            check_eq("... 503 to every command but QUIT, 221 to QUIT",
                     codes(res)[1:], [503, 503, 503, 503, 503, 221])
            check("... its refusal is logged with its address",
                  bd.wait_log("session refused: the client is not in "
                              "[listen] allow client=192.0.2.3:"),
                  bd.log()[-400:])
            time.sleep(0.3)
            check("... and nothing of it is delivered",
                  not any(bad.encode() in m for m in up.messages(0, 0)))
        finally:
            check_eq("-bd in the namespace exits 0 on SIGTERM",
                     bd.stop(), 0)
            up.stop()
        inetd_in_netns(ns)


def inetd_in_netns(ns):
    """systemd-socket-activate --inetd: -bs with the socket as stdin and
    stdout, the client's address taken from it."""
    d = tmpdir()
    up = NsUpstream(ns, d)
    port = 2526
    ini = bd_ini(d, up.port, "127.0.0.1:25",
                 {"listen": {"allow": "192.0.2.2/32"}})
    sa = ns.popen([SOCKET_ACTIVATE, "-l", "192.0.2.1:%d" % port, "--inetd",
                   "-a", postern_path(), "-C", ini, "-bs"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                  env=base_env())
    try:
        time.sleep(0.5)
        res = dialogue(ns, "192.0.2.3", "192.0.2.1", port,
                       ["MAIL FROM:<app@x.test>\r\n", "QUIT\r\n"])
        check_eq("inetd: a client outside allow gets 554, 503, 221",
                 codes(res), [554, 503, 221])
        tag = new_tag()
        res = dialogue(ns, "192.0.2.2", "192.0.2.1", port, transaction(tag))
        check_eq("inetd: a client inside allow submits",
                 codes(res), [220, 250, 250, 250, 354, 250, 221])
        got = up.messages(1)
        check("inetd: its message arrives once",
              sum(1 for m in got if tag.encode() in m) == 1, got)
        log = log_text(d)
        check("inetd: the log names both clients",
              "client=192.0.2.3:" in log and "client=192.0.2.2:" in log,
              log[-400:])
    finally:
        sa.send_signal(signal.SIGTERM)
        try:
            sa.wait(10)
        except subprocess.TimeoutExpired:
            sa.kill()
            sa.wait()
        up.stop()


def socket_activation():
    """systemd-socket-activate --accept: the connection as fd 3."""
    srv = FakeSMTP().start()
    d = tmpdir()
    ini = bd_ini(d, srv.port, "127.0.0.1:25")
    sa, port = socket_activate(["--accept", postern_path(), "-C", ini,
                                "-bs"])
    if not check("systemd-socket-activate --accept listens", sa):
        srv.stop()
        return
    try:
        tags = [new_tag(), new_tag()]
        sent = []
        for tag in tags:
            ok = False
            for _ in range(50):
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                        s.sendmail("app@x.test", ["ops@example.test"],
                                   message(tag))
                    ok = True
                    break
                except ConnectionRefusedError:
                    time.sleep(0.1)
            sent.append(ok)
        check_eq("socket activation (Accept=yes): two sessions deliver",
                 sent, [True, True])
        srv.wait_closed(10)
        msgs = [m.data for m in srv.messages()]
        check("... each message once",
              all(sum(1 for m in msgs if t.encode() in m) == 1
                  for t in tags), len(msgs))
        log = log_text(d)
        check("... each session's log lines name the client",
              log.count("session start client=127.0.0.1:") == 2 and
              all("client=127.0.0.1:" in x for x in log.splitlines()
                  if "status=sent" in x), log[-400:])
    finally:
        sa.send_signal(signal.SIGTERM)
        try:
            sa.wait(10)
        except subprocess.TimeoutExpired:
            sa.kill()
            sa.wait()
        srv.stop()
    # Accept=no hands postern the listening socket: refused, 78.
    sa, port = socket_activate([postern_path(), "-C", ini, "-bs"])
    if not check("systemd-socket-activate (Accept=no) listens", sa):
        return
    try:
        c = None
        for _ in range(50):
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        rc = sa.wait(30)
        err = sa.stderr.read()
        check_eq("a listening socket (Accept=no): exit 78", rc, 78)
        check("... with one line saying why",
              b"postern: -bs: fd 3 is a socket without a client" in err, err)
        if c:
            c.close()
    except subprocess.TimeoutExpired:
        sa.kill()
        sa.wait()
        check("a listening socket (Accept=no): exit 78", False, "hangs")
    # An ini that cannot be read: the client hears why.
    sa, port = socket_activate(["--accept", postern_path(), "-C",
                                os.path.join(d, "missing.ini"), "-bs"])
    if not check("systemd-socket-activate (bad ini) listens", sa):
        return
    try:
        data = b""
        for _ in range(50):
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=10)
                data = c.recv(512)
                c.close()
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        check("socket activation with an unreadable ini: 421 4.3.5 says why",
              data.startswith(b"421 4.3.5 postern: cannot read ") and
              b"missing.ini" in data, data)
    finally:
        sa.send_signal(signal.SIGTERM)
        try:
            sa.wait(10)
        except subprocess.TimeoutExpired:
            sa.kill()
            sa.wait()


def stdin_socket():
    """inetd's way without a helper: the accepted socket as stdin and
    stdout of postern -bs; a socketpair is a local caller."""
    srv = FakeSMTP().start()
    d = tmpdir()
    ini = bd_ini(d, srv.port, "127.0.0.1:25")
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    try:
        tag = new_tag()
        client = socket.create_connection(lsock.getsockname(), timeout=30)
        conn, _ = lsock.accept()
        p = subprocess.Popen([postern_path(), "-C", ini, "-bs"], stdin=conn,
                             stdout=conn, stderr=subprocess.PIPE,
                             env=base_env())
        conn.close()
        s = smtplib.SMTP()
        s.sock = client
        s.file = None
        code, _ = s.getreply()
        s.sendmail("app@x.test", ["ops@example.test"], message(tag))
        s.quit()
        check_eq("-bs on a TCP socket on stdin exits 0", p.wait(30), 0)
        check_eq("... greets with 220", code, 220)
        srv.wait_closed(10)
        check("... delivers", any(tag.encode() in m.data
                                  for m in srv.messages()))
        check("... and logs the client",
              "session start client=127.0.0.1:" in log_text(d),
              log_text(d)[-300:])
        before = len(log_text(d))
        a, b = socket.socketpair()
        p = subprocess.Popen([postern_path(), "-C", ini, "-bs"], stdin=b,
                             stdout=b, stderr=subprocess.PIPE,
                             env=base_env())
        b.close()
        a.settimeout(30)
        greet = a.recv(512)
        a.sendall(b"QUIT\r\n")
        a.recv(512)
        a.close()
        check_eq("-bs on a socketpair (a local caller) exits 0",
                 p.wait(30), 0)
        check("... is greeted without any check", greet.startswith(b"220"),
              greet)
        check("... and logs no client address",
              "client=" not in log_text(d)[before:], log_text(d)[before:])
    finally:
        lsock.close()
        srv.stop()


def main():
    require_postern()
    if os.geteuid() != 0:
        print("ok - -bd outside loopback # SKIP needs root (ip netns)")
        return done()
    if not os.access(SOCKET_ACTIVATE, os.X_OK):
        check("systemd-socket-activate installed (tests/deps.sh)", False)
        return done()
    outside_allow()
    socket_activation()
    stdin_socket()
    return done()


if __name__ == "__main__":
    sys.exit(main())
