# SPDX-License-Identifier: ISC (see LICENSE)
"""Helpers for the tests of postern -bd and -bs on a socket: an ini with a
[listen] section, a running daemon, a reader of SMTP replies, and a
network namespace of the test's own (for clients that are not loopback).
"""

import os
import pwd
import signal
import socket
import subprocess
import time
import uuid

from harness import (base_env, default_sections, merge, postern_path,
                     write_ini)
from postfix import free_port

RUN_USER = "nobody"     # [listen] user: what -bd started as root runs as


def run_ids():
    pw = pwd.getpwnam(RUN_USER)
    return pw.pw_uid, pw.pw_gid


def open_dir(d):
    """The test directory must be traversable by RUN_USER, its spool
    writable (sessions run as RUN_USER and spool)."""
    os.chmod(d, 0o755)
    spool = os.path.join(d, "spool")
    os.makedirs(spool, exist_ok=True)
    uid, gid = run_ids()
    os.chown(spool, uid, gid)
    return spool


def bd_ini(d, upstream_port, listen, extra=None, name="postern.ini"):
    """An ini relaying to 127.0.0.1:upstream_port, listening on listen
    (a [listen] address value), spooling in d/spool."""
    spool = open_dir(d)
    sections = merge(default_sections(upstream_port, d), {
        "queue": {"dir": spool, "mode": "fallback"},
        "delivery": {"session_timeout": "30"},
        "listen": {"address": listen, "user": RUN_USER},
    })
    return write_ini(d, merge(sections, extra), name=name)


def log_text(d):
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Daemon:
    """postern -C ini -bd, optionally inside a network namespace."""

    def __init__(self, ini, d, netns=None, new_group=False, prefix=()):
        self.d = d
        self.before = len(log_text(d))
        argv = list(prefix) + [postern_path(), "-C", ini, "-bd"]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=base_env(),
                                  start_new_session=new_group)
        self.rc = None
        self.err = b""

    def log(self):
        return log_text(self.d)[self.before:]

    def wait_ready(self, n=1, timeout=20):
        """True once it logged n 'listening on' lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count("listening on ") >= n:
                return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def wait_log(self, text, timeout=20, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout=60):
        """SIGTERM; the exit status (or 'timeout')."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            self.rc = "timeout"
        self.err = self.p.stderr.read()
        return self.rc

    def finish(self, timeout=30):
        """Wait for it to exit by itself (a refused start)."""
        try:
            self.rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            self.rc = "timeout"
        self.err = self.p.stderr.read()
        return self.rc


def start_bd(d, upstream_port, listen="127.0.0.1:{port}", extra=None,
             prepare=None, **kw):
    """A Daemon on a free port ({port} in listen), its port in .port, its
    ini in .ini, whether it listens in .ready.  Other tests run at the
    same time: a port taken between free_port() and the bind is tried
    again with another."""
    for _ in range(5):
        port = free_port()
        ini = bd_ini(d, upstream_port, listen.format(port=port), extra)
        if prepare:
            prepare(ini)
        bd = Daemon(ini, d, **kw)
        bd.port, bd.ini = port, ini
        bd.ready = bd.wait_ready(listen.count("{port}"))
        if bd.ready:
            return bd
        bd.finish(10)
        if b"Address already in use" not in bd.err:
            return bd
    return bd


def socket_activate(args, **kw):
    """systemd-socket-activate -l 127.0.0.1:PORT args... on a free port,
    once it listens: (Popen, port); None when it never did."""
    for _ in range(5):
        port = free_port()
        p = subprocess.Popen(["/usr/bin/systemd-socket-activate", "-l",
                              "127.0.0.1:%d" % port] + list(args),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=base_env(), **kw)
        line = p.stderr.readline()
        if line.startswith(b"Listening on"):
            return p, port
        p.wait(10)
    return None, None


class Client:
    """A raw SMTP client socket and a reader of whole replies."""

    def __init__(self, port, host="127.0.0.1", timeout=30, sock=None):
        self.s = sock or socket.create_connection((host, port),
                                                  timeout=timeout)
        self.s.settimeout(timeout)
        self.buf = b""

    def reply(self):
        """(code, [lines]); (None, lines) at EOF or timeout."""
        lines = []
        while True:
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                try:
                    chunk = self.s.recv(65536)
                except (socket.timeout, OSError):
                    return None, lines
                if not chunk:
                    return None, lines
                self.buf += chunk
                continue
            line, self.buf = self.buf[:nl], self.buf[nl + 2:]
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                try:
                    return int(line[:3]), lines
                except ValueError:
                    return None, lines

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def message(tag, subject="postern -bd"):
    """A message with a unique tag in its body and Message-ID."""
    return ("From: app@x.test\r\nTo: ops@example.test\r\n"
            "Subject: %s %s\r\nMessage-ID: <%s@x.test>\r\n"
            "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\n"
            "line one of %s\r\n.leading dot\r\nlast line\r\n"
            % (subject, tag, tag, tag)).encode()


def stuffed(data):
    """Dot-stuffed for DATA (RFC 5321 4.5.2), as a real client sends it."""
    data = data.replace(b"\r\n.", b"\r\n..")
    return b"." + data if data.startswith(b".") else data


def new_tag():
    return uuid.uuid4().hex[:16]


class Netns:
    """A network namespace of the test's own: loopback up, and the
    TEST-NET-1 addresses 192.0.2.1 (postern) and 192.0.2.2, 192.0.2.3
    (clients) on its loopback device, so a client can be outside 127/8
    without any traffic leaving the namespace."""

    def __init__(self):
        self.name = "postern-t-%d" % os.getpid()
        self.ok = False

    def __enter__(self):
        subprocess.run(["ip", "netns", "del", self.name],
                       stderr=subprocess.DEVNULL)
        cmds = [["ip", "netns", "add", self.name],
                ["ip", "-n", self.name, "link", "set", "lo", "up"],
                ["ip", "-n", self.name, "addr", "add", "192.0.2.1/32",
                 "dev", "lo"],
                ["ip", "-n", self.name, "addr", "add", "192.0.2.2/32",
                 "dev", "lo"],
                ["ip", "-n", self.name, "addr", "add", "192.0.2.3/32",
                 "dev", "lo"]]
        for c in cmds:
            p = subprocess.run(c, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            if p.returncode != 0:
                self.error = "%s: %s" % (" ".join(c), p.stdout.decode())
                return self
        self.ok = True
        return self

    def run(self, argv, **kw):
        return subprocess.run(["ip", "netns", "exec", self.name] + argv,
                              **kw)

    def popen(self, argv, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + argv,
                                **kw)

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name],
                       stderr=subprocess.DEVNULL)
        return False
