# SPDX-License-Identifier: ISC (see LICENSE)
"""The command line's own modes and the log line: --check, --serverinfo,
--version, --help, newaliases and the flags that only exit 0, the log
file, -C giving up a set-group-ID privilege, the ini's own permissions,
--check finding what every send would refuse, and mailq without a relay."""

import grp
import os
import re
import stat
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, tmpdir,
                     write_ini, ini_for, with_fake, postern_path,
                     stderr_line_ok, quiet_success, base_env)
from fakesmtp import FakeSMTP, reserve_port


def info_modes():
    r = run(["--version"])
    check("--version: exit 0, 'postern <version>' on stdout",
          r.rc == 0 and r.out.startswith(b"postern ") and r.err == b"", r)
    r = run(["--help"])
    check("--help: exit 0, the options on stdout",
          r.rc == 0 and b"-t" in r.out and b"-bs" in r.out and
          b"--serverinfo" in r.out, r)
    for args in (["-bi"], ["-I"], ["-q15m"], ["-bi", "-oem"]):
        r = run(args)
        check("%s: exit 0, quiet" % " ".join(args), quiet_success(r), r)
    d = tmpdir()
    link = os.path.join(d, "newaliases")
    os.symlink(postern_path(), link)
    p = subprocess.run([link], capture_output=True, env=base_env(),
                       timeout=20)
    check("newaliases (argv[0]): exit 0, quiet",
          p.returncode == 0 and p.stdout == b"" and p.stderr == b"", p)


def check_mode():
    d = tmpdir()
    ini = write_ini(d, text="[delivery]\nmode = remote\n"
                    "[remote]\nhost = a.example.test, [::1]:2525\n"
                    "timeout = 7\n[sender]\ndomain = x.test\n"
                    "[aliases]\nroot = ops@x.test\n[log]\nsyslog = no\n"
                    "file = %s\n" % os.path.join(d, "postern.log"))
    r = run(["--check"], ini=ini)
    check("--check: exit 0, nothing on stderr", r.rc == 0 and r.err == b"",
          r)
    out = r.out.decode(errors="replace")
    check("--check: the effective host list with ports",
          "a.example.test:25" in out and "[::1]:2525" in out, out)
    check("--check: defaults shown (local host, partial_delivery)",
          "127.0.0.1" in out and "partial_delivery" in out, out)
    check("--check: the aliases", "root = ops@x.test" in out, out)
    # The output is itself a valid ini.
    again = write_ini(d, text=out, name="again.ini")
    r2 = run(["--check"], ini=again)
    check_eq("--check: its output reads back to the same settings",
             r2.out.split(b"\n", 1)[1:], r.out.split(b"\n", 1)[1:])

    bad = write_ini(d, text="[delivery]\nmode = smtp\n", name="bad.ini")
    r = run(["--check"], ini=bad)
    check("--check on a bad ini: exit 78, file:line",
          r.rc == 78 and stderr_line_ok(r) and b"bad.ini:2" in r.err, r)


def check_warnings():
    """--check warns (exit 0, settings still printed) about a mail domain
    without a dot and about log lines that reach nobody: syslog off, or
    no syslog socket, and no [log] file (issue 9, items 3 and 4)."""
    d = tmpdir()
    logf = os.path.join(d, "postern.log")
    base = ("[delivery]\nmode = local\n[sender]\n%s\n[log]\n%s\n")
    warn = b"postern: warning: "

    def check_run(sender, log, name="w.ini"):
        r = run(["--check"], ini=write_ini(d, text=base % (sender, log),
                                          name=name))
        lines = r.err.splitlines()
        return r, [x for x in lines if x.startswith(warn)], lines

    r, w, lines = check_run("domain = vm", "syslog = no\nfile = " + logf)
    check("--check, domain vm: exit 0, one warning naming it",
          r.rc == 0 and len(w) == 1 and len(lines) == 1 and
          b"\"vm\" is not qualified" in w[0] and b"user@vm" in w[0] and
          b"/etc/mailname" in w[0] and b"[sender]" in r.out, r)
    r, w, lines = check_run("domain = x.test", "syslog = no\nfile = " + logf)
    check("--check, qualified domain and a log file: no warning",
          r.rc == 0 and r.err == b"", r)
    r, w, lines = check_run("domain = x.test", "syslog = no")
    check("--check, syslog = no and no file: log lines go nowhere",
          r.rc == 0 and len(w) == 1 and b"log lines go nowhere" in w[0] and
          b"syslog = no" in w[0], r)
    r, w, lines = check_run("domain = x.test", "syslog = yes")
    sock = os.path.exists("/dev/log") and \
        stat.S_ISSOCK(os.stat("/dev/log").st_mode)
    if sock:
        check("--check, syslog with /dev/log, no file: no warning",
              r.rc == 0 and r.err == b"", r)
    else:
        check("--check, syslog without /dev/log, no file: log lines go "
              "nowhere", r.rc == 0 and len(w) == 1 and
              b"no syslog socket (/dev/log)" in w[0], r)
    r, w, lines = check_run("domain = x.test", "syslog = yes\nfile = " + logf)
    check("--check, syslog and a file: no warning",
          r.rc == 0 and r.err == b"", r)
    check("--check creates no log file", not os.path.exists(logf),
          os.listdir(d))
    # The domain from /etc/mailname is config_default_domain's (t_config);
    # here: with no [sender] domain the warning names what was resolved.
    r, w, lines = check_run("", "syslog = no\nfile = " + logf)
    out = r.out.decode(errors="replace")
    dom = re.search(r"^domain = (\S+)$", out, re.M)
    dom = dom.group(1) if dom else "?"
    check("--check, resolved domain %s: warned iff unqualified" % dom,
          r.rc == 0 and (len(w) == 1) == ("." not in dom), (dom, r))


def serverinfo():
    srv = FakeSMTP(caps=["PIPELINING", "8BITMIME", "SIZE 1000",
                         "DSN"]).start()
    try:
        ini, d = ini_for(srv.port)
        r = run(["--serverinfo"], ini=ini)
        srv.wait_closed(5)
        check("--serverinfo creates no log file (issue 9, item 5)",
              not os.path.exists(os.path.join(d, "postern.log")),
              os.listdir(d))
        cmds = srv.commands()
        msgs = srv.transactions()
    finally:
        srv.stop()
    out = r.out.decode(errors="replace")
    check("--serverinfo: exit 0", r.rc == 0, r)
    check("--serverinfo: greeting and capabilities shown",
          "220" in out and "fake.test ESMTP" in out and "PIPELINING" in out and
          "SIZE 1000" in out and "DSN" in out, out)
    check("--serverinfo: EHLO then QUIT, no transaction",
          cmds[:1] and cmds[0].startswith("EHLO") and "QUIT" in cmds and
          not msgs, cmds)

    port = reserve_port()   # nothing listens, nobody else takes it
    ini, _ = ini_for(port, timeout=3)
    r = run(["--serverinfo"], ini=ini)
    check("--serverinfo, nothing listening: exit 75, one stderr line",
          r.rc == 75 and stderr_line_ok(r), r)


def log_lines():
    srv = FakeSMTP().start()
    try:
        ini, d = ini_for(srv.port)
        r = run(["-f", "me@x.test", "you@y.test"],
                b"Subject: log\nMessage-ID: <m1@x.test>\n\nbody\n", ini=ini)
        srv.wait_closed(5)
    finally:
        srv.stop()
    log = open(os.path.join(d, "postern.log"), "rb").read()
    check_eq("log: a file postern creates is 0640 despite umask 077",
             oct(os.stat(os.path.join(d, "postern.log")).st_mode & 0o777),
             "0o640")
    check("log: one line for the message", r.rc == 0 and
          log.count(b"\n") == 1, log)
    for field in (b"id=", b"msgid=<m1@x.test>", b"from=<me@x.test>",
                  b"to=<you@y.test>", b"relay=127.0.0.1[127.0.0.1]:",
                  b"tls=", b"auth=", b"size=", b"status=sent",
                  b"delay=", b"result="):
        check("log: has %s" % field.decode(), field in log, log)

    # A refusal: the server's text, sanitised, and status=bounced.
    srv = FakeSMTP(rcpt=b"550 5.1.1 no \x1b[31mred\x1b[0m user\r\n").start()
    try:
        ini, d = ini_for(srv.port)
        r = run(["you@y.test"], b"Subject: x\n\nbody\n", ini=ini)
        srv.wait_closed(5)
    finally:
        srv.stop()
    log = open(os.path.join(d, "postern.log"), "rb").read()
    check("log refusal: status=bounced with the server's text",
          b"status=bounced" in log and b"550 5.1.1" in log, log)
    check("log refusal: no control characters in the log",
          all(c >= 0x20 or c == 0x0a for c in log), log)
    check("log refusal: stderr line sanitised too",
          b"\x1b" not in r.err and stderr_line_ok(r), r)



def ini_trust():
    """An ini anyone may write is refused, secret or not (exit 78)."""
    d = tmpdir()
    ini = write_ini(d, text="[delivery]\nmode = local\n[log]\nsyslog = no\n")
    os.chmod(ini, 0o666)
    for args in (["--check"], ["a@y.test"]):
        r = run(args, b"Subject: x\n\nbody\n", ini=ini)
        check("ini 0666, %s: exit 78, chmod o-w hint" % " ".join(args),
              r.rc == 78 and stderr_line_ok(r) and
              (b"is writable by others (chmod o-w %s)" % ini.encode())
              in r.err, r)
    os.chmod(ini, 0o664)
    r = run(["--check"], ini=ini)
    check("ini 0664: accepted when not set-group-ID", r.rc == 0, r)


def check_finds_delivery_errors():
    """--check reports with file:line what every send would refuse, and a
    send says the same (78, nothing spooled) instead of retrying."""
    d = tmpdir()
    spool = os.path.join(d, "spool")
    base = ("[remote]\nhost = 127.0.0.1\n%s\n[queue]\ndir = " + spool +
            "\n[sender]\ndomain = x.test\n[log]\nsyslog = no\n")
    cases = [
        ("tls = starttls\ntls_ca_file = /nonexistent",
         b":4: [remote] tls_ca_file: cannot read /nonexistent: "
         b"No such file or directory"),
        ("tls = starttls\ntls_client_cert = /nonexistent",
         b":4: [remote] tls_client_cert: cannot read /nonexistent: "
         b"No such file or directory"),
        ("tls = implicit\ntls_ca_dir = /nonexistent",
         b":4: [remote] tls_ca_dir: cannot read /nonexistent: "
         b"No such file or directory"),
        ("tls = starttls\ntls_ciphers = BOGUS",
         b":4: [remote] tls_ciphers: no cipher match"),
        ("port = abc",
         b":3: [remote] port: \"abc\" is neither a port number nor a service "
         b"name known to /etc/services"),
    ]
    for n, (keys, want) in enumerate(cases):
        ini = write_ini(d, text=base % keys, name="c%d.ini" % n)
        what = keys.split("\n")[-1]
        r = run(["--check"], ini=ini)
        check("--check, %s: exit 78, file:line" % what,
              r.rc == 78 and stderr_line_ok(r) and
              ini.encode() + want in r.err, r)
        r = run(["a@y.test"], b"Subject: x\n\nbody\n", ini=ini)
        queued = os.listdir(os.path.join(spool, "queue")) \
            if os.path.isdir(os.path.join(spool, "queue")) else []
        check("send, %s: exit 78 with the same line, nothing spooled" % what,
              r.rc == 78 and stderr_line_ok(r) and
              ini.encode() + want in r.err and not queued, (r, queued))


def admin_without_relay():
    """mailq and --remove work before [remote] host is filled in (the
    example ini right after make install); --check still wants a host."""
    d = tmpdir()
    ini = write_ini(d, text="[delivery]\nmode = remote\n[remote]\nhost =\n"
                    "[queue]\ndir = %s\n[log]\nsyslog = no\n"
                    % os.path.join(d, "spool"))
    r = run(["-bp"], ini=ini)
    check("mailq without [remote] host: exit 0, Mail queue is empty",
          r.rc == 0 and r.out == b"Mail queue is empty\n" and r.err == b"",
          r)
    r = run(["--remove", "0123456789abcdef"], ini=ini)
    check("--remove without [remote] host: not a config error",
          r.rc != 78 and b"host is required" not in r.err, r)
    r = run(["--check"], ini=ini)
    check("--check without [remote] host: exit 78, host is required",
          r.rc == 78 and stderr_line_ok(r) and
          b"[remote] host is required for mode = remote" in r.err, r)


def send_without_relay():
    """Mail sent before [remote] host is set (cron right after make
    install) is kept in the spool, said loudly, shown by mailq and sent
    by -q once the host is set; with mode = never, or a spool that cannot
    take it, it is refused (78) as the ini is (issue 9, item 7)."""
    from fakesmtp import FakeSMTP
    d = tmpdir()
    spool = os.path.join(d, "spool")
    log = os.path.join(d, "postern.log")
    text = ("[delivery]\nmode = remote\n[remote]\nhost =%s\n"
            "[queue]\ndir = %s\nmode = %s\n[sender]\ndomain = x.test\n"
            "[log]\nsyslog = no\nfile = %s\n")
    ini = write_ini(d, text=text % ("", spool, "fallback", log))
    r = run(["-i", "a@y.test"], b"Subject: early\n\nbody\n", ini=ini)
    q = os.listdir(os.path.join(spool, "queue")) \
        if os.path.isdir(os.path.join(spool, "queue")) else []
    check("send without [remote] host: exit 0, silent, spooled",
          r.rc == 0 and r.err == b"" and len(q) == 1, (r, q))
    with open(log, "rb") as f:
        lines = f.read()
    check("send without [remote] host: the log says no relay is set and "
          "how to send it", b"status=queued" in lines and
          b"no relay is set" in lines and b"run postern -q" in lines, lines)
    r = run(["-bp"], ini=ini)
    check("mailq without [remote] host: the message and why it waits",
          r.rc == 0 and q and q[0].encode() in r.out and
          b"no relay is set" in r.out and b"attempts: 0" in r.out, r)
    r = run(["-q"], ini=ini)
    check("-q without [remote] host: exit 78, host is required",
          r.rc == 78 and b"[remote] host is required" in r.err, r)
    srv = FakeSMTP().start()
    try:
        ini = write_ini(d, text=text % (" 127.0.0.1:%d" % srv.port, spool,
                                        "fallback", log))
        r = run(["--queue-run"], ini=ini)
        srv.wait_closed(10)
        m = srv.messages()
    finally:
        srv.stop()
    check("host set: --queue-run sends it at once", r.rc == 0 and
          len(m) == 1 and m[0].rcpts == ["a@y.test"], (r, len(m)))
    check("host set: the spool is empty",
          os.listdir(os.path.join(spool, "queue")) == [], spool)

    ini = write_ini(d, text=text % ("", spool, "never", log), name="n.ini")
    r = run(["a@y.test"], b"Subject: x\n\nbody\n", ini=ini)
    check("send without [remote] host, mode = never: exit 78",
          r.rc == 78 and stderr_line_ok(r) and
          b"host is required" in r.err, r)
    bad = os.path.join(d, "file")
    with open(bad, "w") as f:
        f.write("not a directory\n")
    ini = write_ini(d, text=text % ("", bad, "fallback", log), name="u.ini")
    r = run(["a@y.test"], b"Subject: x\n\nbody\n", ini=ini)
    check("send without [remote] host, spool unusable: exit 78, both "
          "causes", r.rc == 78 and stderr_line_ok(r) and
          b"host is required" in r.err and b"cannot be spooled" in r.err, r)


def setgid_drop():
    """A set-group-ID postern must not read a -C file with the group."""
    if os.geteuid() != 0:
        check("setgid -C: needs root", False, "run as root")
        return
    try:
        gid = grp.getgrnam("mail").gr_gid
    except KeyError:
        check("setgid -C: group mail exists", False, "no group mail")
        return
    d = tmpdir()
    os.chmod(d, 0o755)
    binary = os.path.join(d, "postern")
    shutil.copy(postern_path(), binary)
    os.chown(binary, 0, gid)
    os.chmod(binary, 0o2755)
    ini = write_ini(d, text="[delivery]\nmode = local\n[log]\nsyslog = no\n")
    os.chown(ini, 0, gid)
    os.chmod(ini, 0o640)
    env = base_env()
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", binary, "-C", ini, "--check"],
                       capture_output=True, env=env, timeout=20)
    check("setgid -C: the group's file is refused (78)",
          p.returncode == 78 and b"Permission denied" in p.stderr, p)
    # The same file readable by the caller works: -C itself is allowed.
    os.chmod(ini, 0o644)
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", binary, "-C", ini, "--check"],
                       capture_output=True, env=env, timeout=20)
    check("setgid -C: a file the caller may read works",
          p.returncode == 0, p)
    # -C gives the group up, but an ini anyone may write is refused all
    # the same.
    os.chmod(ini, 0o666)
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", binary, "-C", ini, "--check"],
                       capture_output=True, env=env, timeout=20)
    check("setgid -C: an ini writable by others is refused (78)",
          p.returncode == 78 and b"(chmod o-w " in p.stderr, p)


def v6_server(sock, got):
    """Just enough SMTP on an IPv6 socket to take one message."""
    try:
        c, _ = sock.accept()
    except OSError:
        return
    c.settimeout(10)
    f = c.makefile("rwb")

    def say(line):
        f.write(line + b"\r\n")
        f.flush()
    say(b"220 v6.test ESMTP")
    data = b""
    while True:
        line = f.readline()
        if not line:
            break
        cmd = line.strip().upper()
        got.append(line)
        if cmd.startswith(b"EHLO"):
            say(b"250-v6.test")
            say(b"250 8BITMIME")
        elif cmd == b"DATA":
            say(b"354 go")
            while True:
                d = f.readline()
                if d in (b".\r\n", b""):
                    break
                data += d
            got.append(data)
            say(b"250 ok")
        elif cmd == b"QUIT":
            say(b"221 bye")
            break
        else:
            say(b"250 ok")
    c.close()


def ipv6():
    """An IPv6 literal in the host list; an unreachable IPv6 address
    before a live IPv4 one of the same list."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.bind(("::1", 0))
    except OSError as e:
        check("ipv6: ::1 available", False, e)
        return
    sock.listen(1)
    port = sock.getsockname()[1]
    got = []
    t = threading.Thread(target=v6_server, args=(sock, got), daemon=True)
    t.start()
    d = tmpdir()
    ini = write_ini(d, text="[remote]\nhost = [::1]:%d\ntimeout = 5\n"
                    "[sender]\ndomain = x.test\n[log]\nsyslog = no\n"
                    % port)
    r = run(["a@y.test"], b"Subject: v6\n\nover IPv6\n", ini=ini)
    t.join(10)
    sock.close()
    check("ipv6: delivered to [::1], exit 0, quiet",
          r.rc == 0 and r.err == b"" and
          any(g.endswith(b"\r\n\r\nover IPv6\r\n") for g in got),
          (r, got))

    # A dead IPv6 port first, then the live IPv4 listener.
    dead = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    dead.bind(("::1", 0))
    dport = dead.getsockname()[1]
    dead.close()
    srv = FakeSMTP().start()
    try:
        ini = write_ini(d, name="fo.ini", text="[remote]\nhost = [::1]:%d, "
                        "127.0.0.1:%d\ntimeout = 5\n[sender]\n"
                        "domain = x.test\n[log]\nsyslog = no\n"
                        % (dport, srv.port))
        r = run(["a@y.test"], b"Subject: v4\n\nbody\n", ini=ini)
        srv.wait_closed(5)
        n = len(srv.messages())
    finally:
        srv.stop()
    check("ipv6 refused, IPv4 next: delivered once", r.rc == 0 and n == 1,
          r)


def openssl_missing():
    """OpenSSL is loaded only when a run needs it; when it cannot be, the
    run says so (70) and nothing is sent.  The test hides libssl.so.3 in
    a private mount namespace."""
    libs = [p for p in ("/usr/lib/x86_64-linux-gnu/libssl.so.3",
                        "/lib/x86_64-linux-gnu/libssl.so.3")
            if os.path.exists(p)]
    if os.geteuid() != 0 or not shutil.which("unshare") or not libs:
        print("ok - OpenSSL missing # SKIP needs root, unshare, libssl")
        return
    srv = FakeSMTP().start()
    try:
        ini, d = ini_for(srv.port, {"remote": {"tls": "implicit"}})
        hide = " && ".join("mount --bind /dev/null %s" % p for p in libs)
        p = subprocess.run(["unshare", "-m", "sh", "-c",
                            '%s && exec "$0" -C "$1" a@y.test' % hide,
                            postern_path(), ini],
                           input=b"Subject: x\n\nhi\n", capture_output=True,
                           env=base_env(), timeout=30)
        srv.wait_closed(5)
        sent = srv.transactions()
    finally:
        srv.stop()
    check("OpenSSL missing: exit 70, one line saying so",
          p.returncode == 70 and b"cannot load OpenSSL" in p.stderr and
          p.stderr.count(b"\n") == 1, p)
    check_eq("OpenSSL missing: nothing sent", sent, [])
    deps = subprocess.run(["ldd", postern_path()], capture_output=True)
    check("postern is not linked with OpenSSL (loaded when needed)",
          deps.returncode == 0 and b"libssl" not in deps.stdout and
          b"libcrypto" not in deps.stdout, deps.stdout)


def main():
    require_postern()
    openssl_missing()
    ipv6()
    info_modes()
    check_mode()
    check_warnings()
    serverinfo()
    log_lines()
    setgid_drop()
    ini_trust()
    check_finds_delivery_errors()
    admin_without_relay()
    send_without_relay()
    return done()


if __name__ == "__main__":
    sys.exit(main())
