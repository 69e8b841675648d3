# SPDX-License-Identifier: ISC (see LICENSE)
"""The security invariants (postern(8), SECURITY), each provoked the way an
attacker would: a set-group-ID postern run by an ordinary user, hostile
addresses and parameters from argv, headers and -bs, a server that
answers slowly or asks for NTLMv1, a stopped queue runner, a message too
big to bounce."""

import base64
import grp
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, tmpdir,
                     write_ini, merge, default_sections, stderr_line_ok,
                     ini_for, postern_path, base_env, ini_text, sg_rc)
from fakesmtp import FakeSMTP, SILENT

MSG = b"Subject: sec\n\nbody\n"
NOBODY = 65534


def can_run_as_nobody():
    return os.geteuid() == 0 and shutil.which("setpriv") and \
        shutil.which("unshare")


def setgid_copy(d, gid):
    """A set-group-ID copy of postern owned by root:gid in d."""
    os.chmod(d, 0o755)
    binary = os.path.join(d, "postern")
    shutil.copy(postern_path(), binary)
    os.chown(binary, 0, gid)
    os.chmod(binary, 0o2755)
    return binary


def test_group():
    """A group of the test's own (the 'postern group' of these tests)."""
    name = "postern-sec-test"
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--system", name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return grp.getgrnam(name).gr_gid


def as_user_with_etc(ini_text_, gid, argv, stdin=b"", groups="100",
                     background=False):
    """Run argv as nobody (real gid nogroup, supplementary groups) in a
    private mount namespace whose /etc/postern.ini is ini_text_ (root:gid,
    0640): the
    set-group-ID binary reads only its default ini with the group.  An
    overlay keeps the real /etc untouched; without overlayfs a tmpfs copy
    of /etc is used."""
    d = tmpdir()
    os.chmod(d, 0o755)
    src = os.path.join(d, "postern.ini")
    with open(src, "w") as f:
        f.write(ini_text_)
    os.chmod(src, 0o644)
    up, wk, cp = (os.path.join(d, x) for x in ("up", "wk", "etc"))
    for x in (up, wk, cp):
        os.makedirs(x)
    setup = ("(mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,"
             "workdir=%s /etc 2>/dev/null || "
             "(mount -t tmpfs tmpfs %s && cp -a /etc/. %s && "
             "mount --bind %s /etc)) && cp %s /etc/postern.ini && "
             "chgrp %d /etc/postern.ini && chmod 640 /etc/postern.ini && exec \"$@\""
             % (up, wk, cp, cp, cp, src, gid))
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", setup,
           "sh", "setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
           "--groups=%s" % groups] + argv
    env = base_env()
    if background:
        return subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=60)
    return p




# -- 1: password_command runs with the caller's group ------------------------

def password_command_group():
    if not can_run_as_nobody():
        check("password_command group: needs root, setpriv, unshare", False,
              "run as root")
        return
    gid = test_group()
    d = tmpdir()
    binary = setgid_copy(d, gid)
    srv = FakeSMTP(caps=["PIPELINING", "AUTH PLAIN"],
                   auth=["235 2.7.0 ok"]).start()
    try:
        # The password is what the command learns of its own groups.
        # (Not through sh: dash gives up a set-group-ID group itself.)
        cmd = ("/usr/bin/awk '/^(Gid|Groups):/ { printf \"%s \", $0 }' "
               "/proc/self/status")
        ini = ini_text({
            "delivery": {"mode": "remote"},
            "remote": {"host": "127.0.0.1", "port": srv.port, "timeout": 10,
                       "auth": "basic", "user": "alice",
                       "password_command": cmd,
                       "allow_plaintext_auth": "yes"},
            "queue": {"mode": "never"},
            "sender": {"domain": "x.test"},
            "log": {"syslog": "no"}})
        p = as_user_with_etc(ini, gid, [binary, "-i", "b@x.test"], MSG)
        srv.wait_closed(10)
    finally:
        srv.stop()
    lines = [x for c in srv.conns for x in c.auth_lines]
    if not check("password_command from a set-group-ID postern: sent",
                 sg_rc(p) == 0 and len(lines) == 1,
                 (p.returncode, p.stderr, lines)):
        return
    plain = base64.b64decode(lines[0].split()[-1]).split(b"\0")[-1]
    words = plain.split()
    gids = words[1:5] if words[:1] == [b"Gid:"] else []
    check_eq("password_command: real, effective, saved, fs gid are the "
             "caller's", gids, [str(NOBODY).encode()] * 4)
    groups = words[words.index(b"Groups:") + 1:] if b"Groups:" in words \
        else None
    check_eq("password_command: the caller's supplementary groups",
             groups, [b"100"])


# -- 3: NTLM: the server cannot choose v1 -------------------------------------

def challenge_without_target_info():
    """A CHALLENGE with no TargetInfo and no NEGOTIATE_TARGET_INFO: what a
    server, or anyone on the path of a clear-text session, sends to get
    an NTLMv1 answer over a challenge of its choosing."""
    flags = 0x00000001 | 0x00000200 | 0x00008000 | 0x00080000
    name = "EVIL".encode("utf-16-le")
    return (b"NTLMSSP\0" + struct.pack("<I", 2) +
            struct.pack("<HHI", len(name), len(name), 48) +
            struct.pack("<I", flags) + bytes.fromhex("1122334455667788") +
            b"\0" * 16 + name)


def nt_response(b64):
    m = base64.b64decode(b64)
    ln, _, off = struct.unpack("<HHI", m[20:28])
    return m[off:off + ln]


def ntlm_downgrade():
    for ver, v2 in ((None, True), ("auto", True), ("v2", True),
                    ("v1", False)):
        srv = FakeSMTP(caps=["PIPELINING", "AUTH NTLM"], auth=[
            lambda a: "334 " + base64.b64encode(
                challenge_without_target_info()).decode(),
            "235 2.7.0 ok"]).start()
        try:
            remote = {"auth": "ntlm", "user": "alice", "password": "pw",
                      "ntlm_domain": "CORP"}
            if ver:
                remote["ntlm_version"] = ver
            ini, _ = ini_for(srv.port, {"remote": remote})
            res = run(["-i", "b@x.test"], MSG, ini=ini)
            srv.wait_closed(10)
        finally:
            srv.stop()
        lines = [x for c in srv.conns for x in c.auth_lines]
        name = "NTLM, ntlm_version %s, no TargetInfo" % (ver or "unset")
        if not check("%s: delivered" % name, res.rc == 0 and len(lines) == 2,
                     (res, lines)):
            continue
        nt = nt_response(lines[1])
        if v2:
            check("%s: answered NTLMv2 (NT response of %d bytes)"
                  % (name, len(nt)), len(nt) > 24, nt.hex())
        else:
            check("%s: answered NTLMv1 as written" % name, len(nt) == 24,
                  nt.hex())


# -- 2: nothing accepted that the spool cannot hold ----------------------------

def free_port():
    so = socket.socket()
    so.bind(("127.0.0.1", 0))
    port = so.getsockname()[1]
    so.close()
    return port


def spool_ini(mode="always", port=None, extra=None):
    """An ini with a private spool in mode `mode` and an upstream on port
    (nothing listens there unless the test starts a server)."""
    d = tmpdir()
    spool = os.path.join(d, "spool")
    # Port 1: nothing listens there, whatever else runs on the machine.
    sections = merge(default_sections(port or 1, d, timeout=5),
                     {"queue": {"mode": mode, "dir": spool}})
    return write_ini(d, merge(sections, extra)), d, spool


def spool_files(spool):
    out = []
    for sub in ("tmp", "queue", "state", "failed"):
        p = os.path.join(spool, sub)
        out += [sub + "/" + f for f in os.listdir(p)] if os.path.isdir(p) \
            else []
    return out


# A byte the queue file cannot hold, where an address can hide it.
HOSTILE = [
    ("TAB in a quoted local part", '"a\tb"@x.test'),
    ("ESC in a quoted local part", '"a\x1b[31mb"@x.test'),
    ("\\001 in a quoted local part", '"a\x01b"@x.test'),
    ("DEL in a quoted local part", '"a\x7fb"@x.test'),
    ("escaped ESC in a quoted local part", '"a\\\x1bb"@x.test'),
    ("\\001 in a domain literal", 'e@[192.0.2.\x01]'),
    ("TAB in a domain literal", 'e@[192.0.2.1\t]'),
    ("ESC in a comment", 'c@x.test (\x1b]0;owned\x07)'),
    ("DEL in a comment", 'c (\x7f)@x.test'),
]


def refused(name, res, spool):
    check("%s: exit 65, one line" % name,
          res.rc == 65 and stderr_line_ok(res) and
          b"control character" in res.err, res)
    check_eq("%s: nothing spooled, nothing failed" % name,
             spool_files(spool), [])


def hostile_addresses():
    for what, addr in HOSTILE:
        ini, d, spool = spool_ini()
        res = run(["-i", addr], MSG, ini=ini)
        refused("argv, %s" % what, res, spool)
        res = run(["-i", "-f", addr, "b@x.test"], MSG, ini=ini)
        refused("-f, %s" % what, res, spool)
        for field in ("To", "Cc"):
            hdr = ("%s: %s\n" % (field, addr)).encode("latin-1")
            res = run(["-i", "-t"], hdr + MSG, ini=ini)
            refused("-t %s:, %s" % (field, what), res, spool)
        # A From: that does not parse names no sender: the caller is the
        # envelope sender, and the queue file can be read back.
        hdr = ("From: %s\n" % addr).encode("latin-1")
        res = run(["-i", "b@x.test"], hdr + MSG, ini=ini)
        run(["-q"], ini=ini)
        files = spool_files(spool)
        check("From: with %s: accepted, spooled, never corrupt" % what,
              res.rc == 0 and not [f for f in files if "failed" in f] and
              "queue/" in " ".join(files), (res, files))
    # The same bytes where they do no harm: a comment may hold a TAB
    # (folding white space), and a space is fine in a quoted local part.
    ini, d, spool = spool_ini()
    res = run(["-i", "c@x.test (a\tcomment)", '"a b"@x.test'], MSG, ini=ini)
    check("a TAB in a comment and a space in quotes are accepted",
          res.rc == 0 and len(os.listdir(os.path.join(spool, "queue"))) == 1,
          res)


def bs(ini, lines, args=("-bs", "-i"), timeout=60):
    """Play lines (str or bytes, without CRLF) to postern -bs in one go;
    the list of reply codes, and the whole output."""
    data = b"".join((x.encode("latin-1") if isinstance(x, str) else x) +
                    b"\r\n" for x in lines)
    p = subprocess.run([postern_path(), "-C", ini] + list(args), input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=base_env(), timeout=timeout)
    codes = [int(x[:3]) for x in p.stdout.split(b"\r\n")
             if len(x) >= 4 and x[3:4] == b" "]
    return codes, p


def bs_hostile():
    for what, addr in HOSTILE:
        ini, d, spool = spool_ini()
        codes, p = bs(ini, ["EHLO c", "MAIL FROM:<%s>" % addr, "QUIT"])
        check("-bs MAIL, %s: 501" % what, codes[2:3] == [501], p.stdout)
        codes, p = bs(ini, ["EHLO c", "MAIL FROM:<a@x.test>",
                            "RCPT TO:<%s>" % addr, "RCPT TO:<b@x.test>",
                            "DATA", "Subject: x", "", "y", ".", "QUIT"])
        check("-bs RCPT, %s: 501, the rest delivered" % what,
              codes[3:6] == [501, 250, 354] and codes[6:7] == [250],
              p.stdout)
        q = os.path.join(spool, "queue")
        with open(os.path.join(q, os.listdir(q)[0]), "rb") as f:
            env = f.read().split(b"\n\n")[0]
        check("-bs RCPT, %s: only the good recipient spooled" % what,
              env.count(b"\nrcpt ") == 1 and b"\nrcpt b@x.test" in env, env)
    for value in (",", "SUCCESS,,FAILURE", "SUCCESS,", ",DELAY",
                  "NEVER,SUCCESS", "FAILURE\x01"):
        ini, d, spool = spool_ini()
        codes, p = bs(ini, ["EHLO c", "MAIL FROM:<a@x.test>",
                            "RCPT TO:<b@x.test> NOTIFY=%s" % value,
                            "RCPT TO:<c@x.test> NOTIFY=SUCCESS,FAILURE",
                            "DATA", "Subject: x", "", "y", ".", "QUIT"])
        check("-bs NOTIFY=%s: 501" % value.encode("unicode_escape").decode(),
              codes[3:4] == [501] and b"NOTIFY" in p.stdout, p.stdout)
        check("-bs NOTIFY=%s: the next RCPT and the message are fine"
              % value.encode("unicode_escape").decode(),
              codes[4:7] == [250, 354, 250], p.stdout)
    for value in (",", "success,,failure"):
        ini, d, spool = spool_ini()
        res = run(["-i", "-N", value, "b@x.test"], MSG, ini=ini)
        check("-N %s: exit 64, nothing spooled" % value,
              res.rc == 64 and stderr_line_ok(res) and
              spool_files(spool) == [], res)


# -- 7: -bs sends the canonical address upstream ------------------------------

def bs_canonical():
    srv = FakeSMTP().start()
    try:
        ini, d, spool = spool_ini(
            "never", srv.port,
            {"aliases": {"root": "admin@example.org"}})
        codes, p = bs(ini, [
            "EHLO c",
            "MAIL FROM:<sender (the app)@x.test>",
            "RCPT TO:<root (comment)@example.org>",
            "RCPT TO:<root>",
            "RCPT TO:<team: c@x.test;>",
            "RCPT TO:<\"d\" (x) @ x.test>",
            "RCPT TO:<e@x.test (\\\\ \\( escaped)>",
            "RCPT TO:<@relay.test:f@x.test>",
            "DATA", "Subject: x", "", "y", ".", "QUIT"])
        srv.wait_closed(10)
    finally:
        srv.stop()
    check("-bs odd but valid addresses: all accepted, delivered",
          codes[1:11] == [250] * 8 + [354, 250], p.stdout)
    cmds = [c for c in srv.commands() if c[:4] in ("MAIL", "RCPT")]
    check_eq("-bs: upstream gets the parsed, canonical addresses", cmds, [
        "MAIL FROM:<sender@x.test>",
        "RCPT TO:<root@example.org>",
        "RCPT TO:<admin@example.org>",
        "RCPT TO:<c@x.test>",
        "RCPT TO:<\"d\"@x.test>",
        "RCPT TO:<e@x.test>",
        "RCPT TO:<f@x.test>"])
    raw = srv.raw()
    check("-bs: no comment, group or route text reached the upstream",
          all(x not in raw for x in (b"(", b"team", b"relay.test")), raw)


# -- 4: timeout bounds a whole reply ----------------------------------------

class SlowServer:
    """Greets at once, then answers EHLO with a 100-line reply, one line a
    second: every line comes well within the timeout, the reply never."""

    def __init__(self, lines=100, every=1.0):
        self.lines, self.every = lines, every
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent = 0
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                c.sendall(b"220 slow.test ESMTP\r\n")
                c.settimeout(30)
                c.recv(1024)                     # EHLO
                for i in range(self.lines):
                    if self.stop.wait(self.every):
                        break
                    sep = b" " if i == self.lines - 1 else b"-"
                    c.sendall(b"250" + sep + b"line%d\r\n" % i)
                    self.sent += 1
            except OSError:
                pass
            finally:
                c.close()

    def close(self):
        self.stop.set()
        self.t.join(10)
        self.sock.close()


def slow_reply():
    srv = SlowServer()
    try:
        ini, _ = ini_for(srv.port, {"remote": {"timeout": 3}})
        res = run(["-i", "b@x.test"], MSG, ini=ini, timeout=200)
    finally:
        srv.close()
    check("a 100-line reply at one line a second, timeout = 3: 75, one "
          "line naming the timeout",
          res.rc == 75 and stderr_line_ok(res) and b"timeout" in res.err,
          res)
    # Not a timing assertion: 100 lines would take 100 s; the bound is
    # the reply, so postern gives up long before the server is through.
    check("the slow reply is cut off after a few of its lines (%d sent)"
          % srv.sent, srv.sent < 50, res)


# -- 6: too big to bounce in full ------------------------------------------

def huge_bounce():
    n = 4000
    port = free_port()
    ini, d, spool = spool_ini("fallback", port)
    rcpts = ["user%04d-with-a-longish-name@far.example.org" % i
             for i in range(n)]
    res = run(["-i", "-f", "sender@x.test"] + rcpts, MSG, ini=ini)
    check("4000 recipients, upstream down: spooled (exit 0)", res.rc == 0,
          res)
    refusal = "550 5.1.1 " + "no such user here, and this text is long " * 5
    srv = FakeSMTP(rcpt={None: refusal,
                         "sender@x.test": "250 2.1.5 ok"}).start(port)
    try:
        res = run(["-q"], ini=ini, timeout=300)
        srv.wait_closed(30)
    finally:
        srv.stop()
    check("every recipient refused 550: -q exits 0", res.rc == 0, res)
    bounces = [t for t in srv.messages() if t.mail == ""]
    if not check("the sender gets a bounce all the same",
                 len(bounces) == 1 and bounces[0].rcpts == ["sender@x.test"],
                 (res, [(t.mail, t.rcpts[:3]) for t in srv.messages()])):
        return
    data = bounces[0].data
    check("the bounce says how many recipients it leaves out",
          b"not listed" in data and b"user0000-with" in data and
          b"user3999-with" not in data, data[-2000:])
    check("the bounce carries the original's header",
          b"Subject: sec" in data, data[-500:])
    check_eq("the message left the queue (nothing in queue/, failed/)",
             [f for f in spool_files(spool) if not f.startswith("tmp/")],
             [])



def unbounceable():
    """A bounce that cannot be made at all (a hand-made queue file whose
    sender no queue file may hold): kept for the next run until max_age,
    then moved to failed/, never left in the queue for ever."""
    port = free_port()
    ini, d, spool = spool_ini("fallback", port)
    res = run(["-i", "-f", "s@x.test", "b@x.test"], MSG, ini=ini)
    q = os.path.join(spool, "queue")
    qid = os.listdir(q)[0]
    with open(os.path.join(q, qid), "rb") as f:
        text = f.read()
    text = text.replace(b"\nsender s@x.test\n",
                        b"\nsender " + b"s" * 1200 + b"@x.test\n", 1)
    with open(os.path.join(q, qid), "wb") as f:
        f.write(text)
    srv = FakeSMTP(rcpt="550 5.1.1 gone").start(port)
    try:
        res = run(["-q"], ini=ini)
        kept = os.listdir(q)
        with open(os.path.join(q, qid), "rb") as f:
            text = f.read()
        created = text.split(b"\ncreated ")[1].split(b"\n")[0]
        with open(os.path.join(q, qid), "wb") as f:
            f.write(text.replace(b"\ncreated " + created + b"\n",
                                 b"\ncreated 1000000000\n", 1))
        res2 = run(["-q"], ini=ini)
        srv.wait_closed(10)
    finally:
        srv.stop()
    log = open(os.path.join(d, "postern.log"), "rb").read()
    check("a bounce that cannot be made: kept while young",
          res.rc == 0 and kept == [qid] and b"cannot bounce" in log,
          (res, kept, log[-300:]))
    check("a bounce that cannot be made: after max_age, moved to failed/",
          res2.rc == 0 and os.listdir(q) == [] and
          qid in os.listdir(os.path.join(spool, "failed")),
          (res2, spool_files(spool), log[-400:]))


# -- 5: a stopped runner holds back no one else's mail -------------------------

def queue_files(spool):
    p = os.path.join(spool, "queue")
    return sorted(os.listdir(p)) if os.path.isdir(p) else []


def stopped_runner():
    if not can_run_as_nobody():
        check("stopped runner: needs root, setpriv, unshare", False,
              "run as root")
        return
    gid = test_group()
    d = tmpdir()
    binary = setgid_copy(d, gid)
    spool = os.path.join(d, "spool")
    os.makedirs(spool)
    os.chown(spool, 0, gid)
    os.chmod(spool, 0o2770)
    down, good = free_port(), FakeSMTP().start()
    silent = FakeSMTP(greeting=SILENT, idle_timeout=120).start()

    def text(port):
        return ini_text({
            "delivery": {"mode": "remote"},
            "remote": {"host": "127.0.0.1", "port": port, "timeout": 60},
            "queue": {"mode": "fallback", "dir": spool},
            "sender": {"domain": "x.test"},
            "log": {"syslog": "no"}})

    root_ini = write_ini(d, text=text(down), name="root.ini")
    p = None
    try:
        # root's message first: the oldest, the first a runner claims.
        res = run(["-i", "-f", "root@x.test", "r@x.test"], MSG, ini=root_ini)
        q = as_user_with_etc(text(down), gid,
                             [binary, "-i", "-f", "n@x.test", "n@x.test"],
                             MSG)
        ids = queue_files(spool)
        if not check("stopped runner: root's and nobody's messages spooled",
                     res.rc == 0 and sg_rc(q) == 0 and len(ids) == 2,
                     (res, q.returncode, q.stderr, ids)):
            return
        root_id = ids[0]
        # nobody's -q from the set-group-ID copy, stopped in a delivery.
        p = as_user_with_etc(text(silent.port), gid, [binary, "-q"],
                             background=True)
        p.stdin.close()
        deadline = time.monotonic() + 30
        while not silent.conns and time.monotonic() < deadline and \
                p.poll() is None:
            time.sleep(0.05)
        os.kill(p.pid, signal.SIGSTOP)
        check("stopped runner: nobody's -q connected, then stopped",
              silent.conns and p.poll() is None, p.poll())
        with open(root_ini, "w") as f:
            f.write(text(good.port))
        res = run(["-q"], ini=root_ini, timeout=120)
        good.wait_closed(10)
        got = [t.mail for t in good.messages()]
        check("stopped runner: root's -q still delivers root's message",
              res.rc == 0 and "root@x.test" in got and
              root_id not in queue_files(spool), (res, got,
                                                 queue_files(spool)))
        left = queue_files(spool)
        held = left[0] if left else None
        res = run(["--remove", held] if held else ["--remove"],
                  ini=root_ini, timeout=120)
        check("stopped runner: root's --remove of the message it holds: "
              "exit 0, removed", res.rc == 0 and held is not None and
              queue_files(spool) == [] and
              not os.path.exists(os.path.join(spool, "state", held)),
              (res, held, queue_files(spool)))
        # Unstopped, the same user's run delivers its own mail and leaves
        # root's alone (root's cron or timer delivers it).
        with open(root_ini, "w") as f:
            f.write(text(down))
        run(["-i", "-f", "root@x.test", "r2@x.test"], MSG, ini=root_ini)
        as_user_with_etc(text(down), gid, [binary, "-i", "-f", "n@x.test",
                                           "n2@x.test"], MSG)
        good2 = FakeSMTP().start()
        try:
            q = as_user_with_etc(text(good2.port), gid, [binary, "-q"])
            good2.wait_closed(10)
        finally:
            good2.stop()
        got = [r for t in good2.messages() for r in t.rcpts]
        left = queue_files(spool)
        check("nobody's -q delivers nobody's message, not root's",
              sg_rc(q) == 0 and got == ["n2@x.test"] and len(left) == 1,
              (q.returncode, q.stderr, got, left))
    finally:
        if p is not None:
            os.kill(p.pid, signal.SIGKILL)
            os.kill(p.pid, signal.SIGCONT)
            p.wait()
        silent.stop()
        good.stop()


def main():
    require_postern()
    password_command_group()
    ntlm_downgrade()
    hostile_addresses()
    bs_hostile()
    bs_canonical()
    slow_reply()
    huge_bounce()
    unbounceable()
    stopped_runner()
    return done()


if __name__ == "__main__":
    sys.exit(main())
