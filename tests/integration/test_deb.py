# SPDX-License-Identifier: ISC (see LICENSE)
"""The Debian package's own pieces that need no package build (make
check-deb tests the package itself in a fresh Debian 12 root): one
version in config.mk, debian/changelog and postern --version; the
debconf questions' stable names and the CMS page's defaults; and
debian/ini-edit, which writes the answers into /etc/postern.ini leaving
every other line alone, read the same way as debian/config reads it."""

import os
import re
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import check, check_eq, done, require_postern, run, tmpdir

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EDIT = os.path.join(TOP, "debian", "ini-edit")


def read(rel):
    with open(os.path.join(TOP, rel)) as f:
        return f.read()


def version():
    mk = re.search(r"^VERSION = (\S+)$", read("config.mk"), re.M).group(1)
    first = read("debian/changelog").splitlines()[0]
    m = re.match(r"postern \(([^)]+)\) ", first)
    check_eq("debian/changelog's version is config.mk's VERSION",
             m and m.group(1), mk)
    r = run(["--version"])
    check("postern --version says config.mk's VERSION",
          r.out.decode().split() == ["postern", mk], r.out)


def build_deps():
    ctl = read("debian/control")
    bd = re.search(r"^Build-Depends:(.*?)^\S", ctl, re.M | re.S).group(1)
    names = [re.match(r"\s*([a-z0-9.+-]+)", x).group(1)
             for x in bd.split(",") if x.strip()]
    names = ["debhelper" if n == "debhelper-compat" else n for n in names]
    deps = read("tests/deps.sh")
    listed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+",
                            " ".join(re.findall(r'PKGS="([^"]*)"', deps))))
    for n in names + ["build-essential", "dpkg-dev"]:
        check("tests/deps.sh installs the build dependency %s" % n,
              n in listed)


def templates():
    t = {}
    for block in read("debian/templates").split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", block, re.M))
        if "Template" in fields:
            t[fields["Template"]] = fields
    asked = ["delivery", "server", "port", "auth", "user", "password", "tls",
             "send_as_user", "manager_address"]
    for q in asked:
        check("debconf question postern/%s exists" % q, "postern/" + q in t)
    want = {"delivery": ("select", "remote", "remote, local"),
            "port": ("string", "25", None),
            "auth": ("select", "anonymous", "anonymous, basic, ntlm"),
            "tls": ("select", "off", "off, starttls, implicit"),
            "send_as_user": ("boolean", "false", None),
            "password": ("password", None, None)}
    for q, (typ, default, choices) in want.items():
        f = t.get("postern/" + q, {})
        check_eq("postern/%s: type, default, choices" % q,
                 (f.get("Type"), f.get("Default"), f.get("Choices-C")),
                 (typ, default, choices))
    words = {"delivery": "Delivery Options:", "server": "SMTP Server:",
             "port": "Port:", "auth": "Authentication:",
             "user": "User Name:", "password": "Password:",
             "tls": "Use SSL:",
             "send_as_user": "Send notifications as the advancing user?",
             "manager_address": "User Manager Address:"}
    for q, d in words.items():
        check_eq("postern/%s asks in the CMS page's words" % q,
                 t.get("postern/" + q, {}).get("Description"), d)
    check("debian/templates has no comment lines (debconf cannot parse "
          "them)", not re.search(r"^#", read("debian/templates"), re.M))
    config = read("debian/config")
    for q in asked:
        check("debian/config asks postern/%s" % q,
              re.search(r"^\s*ask postern/%s " % q, config, re.M))


def edit(args, path, value=None):
    return subprocess.run(["perl", EDIT] + args[:1] + [path] + args[1:],
                          input=(value + "\n").encode() if value is not None
                          else b"", capture_output=True, timeout=20)


# The reading part of debian/config, run on its own.
def config_get(path, sect, key):
    m = re.search(r"perl -e '(.*?)' \"\$1\" \"\$2\" \"\$INI\"",
                  read("debian/config"), re.S)
    if not m:
        return None
    p = subprocess.run(["perl", "-e", m.group(1), sect, key, path],
                       capture_output=True, timeout=20)
    return p.stdout.decode() if p.returncode == 0 else None


INI = """\ufeff; a hand-written ini
[Delivery]
 mode = Remote   ; hand comment
[remote]
host: relay.example.test
;port = 25
; auth = basic
password = a;b
[sender]
address =
[queue]
retry = 1s
"""


def ini_edit():
    d = tmpdir()
    p = os.path.join(d, "postern.ini")
    with open(p, "w") as f:
        f.write(INI)
    os.chmod(p, 0o640)
    for sect, key, want in (("delivery", "mode", "Remote"),
                            ("REMOTE", "Host", "relay.example.test"),
                            ("remote", "password", "a;b"),
                            ("sender", "address", ""),
                            ("remote", "port", None),
                            ("remote", "auth", None),
                            ("nosuch", "mode", None)):
        r = edit(["get", sect, key], p)
        got = r.stdout.decode().rstrip("\n") if r.returncode == 0 else None
        check_eq("ini-edit get [%s] %s" % (sect, key), got, want)
        check_eq("debian/config reads [%s] %s the same" % (sect, key),
                 config_get(p, sect, key),
                 None if want is None else want + "\n")
    before = open(p).read()
    r = edit(["set", "remote", "user"], p, "x" * 190)
    check("ini-edit set takes a line of 197 characters", r.returncode == 0,
          r.stderr)
    with open(p, "w") as f:
        f.write(INI)
    r = edit(["set", "remote", "password"], p, "x ;y")
    check("ini-edit set refuses a value with \" ;\" (exit 2, one line)",
          r.returncode == 2 and r.stderr.count(b"\n") == 1 and
          b"ini-edit: [remote] password:" in r.stderr, r.stderr)
    check_eq("... and leaves the file as it was", open(p).read(), before)
    for bad in (" lead", "trail ", "x" * 191):
        r = edit(["set", "remote", "user"], p, bad)
        check("ini-edit set refuses %r" % bad[:10], r.returncode == 2, r)
    steps = [(["set", "remote", "host"], "smtp.example.test:2525"),
             (["set", "remote", "port"], "587"),
             (["set", "remote", "auth"], "ntlm"),
             (["set", "remote", "user"], "svc"),
             (["set", "sender", "address"], '"Name" <a@b.test>'),
             (["set", "log", "file"], "/var/log/postern.log")]
    for args, value in steps:
        r = edit(args, p, value)
        check("ini-edit %s [%s] %s: exit 0" % tuple(args), r.returncode == 0,
              r.stderr)
    want = ("\ufeff; a hand-written ini\n[Delivery]\n"
            " mode = Remote   ; hand comment\n[remote]\nuser = svc\n"
            "host = smtp.example.test:2525\n;port = 25\nport = 587\n"
            "; auth = basic\nauth = ntlm\npassword = a;b\n[sender]\n"
            'address = "Name" <a@b.test>\n[queue]\nretry = 1s\n'
            "\n[log]\nfile = /var/log/postern.log\n")
    check_eq("ini-edit: a key replaced in place, a new one after its "
             "commented example or its header, a new section at the end, "
             "every other line as it was", open(p).read(), want)

    check_eq("ini-edit keeps the file's mode",
             stat.S_IMODE(os.stat(p).st_mode), 0o640)
    check_eq("ini-edit leaves no temporary file", sorted(os.listdir(d)),
             ["postern.ini"])
    r = run(["--check"], ini=p)
    check("postern reads what ini-edit wrote (the values it set)",
          b"smtp.example.test:2525" in r.out and b"ntlm" in r.out, r)


require_postern()
version()
build_deps()
templates()
ini_edit()
sys.exit(done())
