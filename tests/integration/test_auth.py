# SPDX-License-Identifier: ISC (see LICENSE)
"""SMTP AUTH: the ini keys and their checks, the Exchange shapes against a
scripted server (the NTLMv2 AUTHENTICATE checked by recomputing it here),
and AUTH PLAIN, LOGIN and NTLM (v1 and v2) against a real Postfix with
Cyrus SASL, in clear text (allow_plaintext_auth = yes), over STARTTLS and
over SMTPS.  No secret may show up in any output of a -v run."""

import base64
import hmac
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, ini_for,
                     stderr_line_ok, quiet_success, tmpdir, write_ini,
                     merge, default_sections)
from fakesmtp import FakeSMTP
from postfix import PrivatePostfix, PostfixError

MSG = b"From: alice@x.test\nTo: bob@example.test\nSubject: auth\n\nhello\n"
ARGS = ["-i", "-f", "alice@x.test", "bob@example.test"]
PASSWORD = "s3cret pass"
# Spaces, both quotes, backslashes, a semicolon not after a blank (" ;"
# would start an ini comment) and a non-ASCII letter.
ODD = "a b\"c'd\\e\\\\f;g#h \u00e9"
# Cyrus's NTLM plugin widens the password's bytes to UTF-16 instead of
# decoding UTF-8 (the libntlm defect postern avoids), so against it the
# odd password stays ASCII; the Exchange test checks the UTF-8 one.
ODD_ASCII = ODD[:-2]


# -- MD4 (RFC 1320): OpenSSL 3 keeps it out of Python's hashlib ------------

def md4(data):
    def f(x, y, z):
        return (x & y) | (~x & z)

    def g(x, y, z):
        return (x & y) | (x & z) | (y & z)

    def h(x, y, z):
        return x ^ y ^ z

    def rol(v, s):
        v &= 0xffffffff
        return ((v << s) | (v >> (32 - s))) & 0xffffffff

    msg = bytearray(data) + b"\x80"
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", (len(data) * 8) & 0xffffffffffffffff)
    a, b, c, d = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            if i % 4 == 0:
                a = rol(a + f(b, c, d) + x[k], s)
            elif i % 4 == 1:
                d = rol(d + f(a, b, c) + x[k], s)
            elif i % 4 == 2:
                c = rol(c + f(d, a, b) + x[k], s)
            else:
                b = rol(b + f(c, d, a) + x[k], s)
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            t = 0x5a827999
            if i % 4 == 0:
                a = rol(a + g(b, c, d) + x[k] + t, s)
            elif i % 4 == 1:
                d = rol(d + g(a, b, c) + x[k] + t, s)
            elif i % 4 == 2:
                c = rol(c + g(d, a, b) + x[k] + t, s)
            else:
                b = rol(b + g(c, d, a) + x[k] + t, s)
        order = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
        for i in range(16):
            k, s = order[i], (3, 9, 11, 15)[i % 4]
            t = 0x6ed9eba1
            if i % 4 == 0:
                a = rol(a + h(b, c, d) + x[k] + t, s)
            elif i % 4 == 1:
                d = rol(d + h(a, b, c) + x[k] + t, s)
            elif i % 4 == 2:
                c = rol(c + h(d, a, b) + x[k] + t, s)
            else:
                b = rol(b + h(c, d, a) + x[k] + t, s)
        a, b = (a + aa) & 0xffffffff, (b + bb) & 0xffffffff
        c, d = (c + cc) & 0xffffffff, (d + dd) & 0xffffffff
    return struct.pack("<4I", a, b, c, d)


def hmac_md5(key, data):
    return hmac.new(key, data, "md5").digest()


# -- NTLMSSP as an Exchange server sends and checks it ----------------------

SERVER_CHALLENGE = bytes.fromhex("0123456789abcdef")
TIMESTAMP = struct.pack("<Q", 133500000000000000)


def av(aid, value):
    return struct.pack("<HH", aid, len(value)) + value


def u16(s):
    return s.encode("utf-16-le")


TARGET_INFO = (av(2, u16("CORP")) + av(1, u16("EXCH01")) +
               av(4, u16("corp.example.com")) +
               av(3, u16("exch01.corp.example.com")) + av(7, TIMESTAMP) +
               av(0, b""))


def challenge_msg():
    """A CHALLENGE as Exchange 2019 sends it: target info with a
    timestamp, so the client must answer NTLMv2."""
    flags = (0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 |
             0x00010000 | 0x00080000 | 0x00800000 | 0x02000000 |
             0x20000000 | 0x80000000)
    name = u16("CORP")
    off = 56
    return (b"NTLMSSP\0" + struct.pack("<I", 2) +
            struct.pack("<HHI", len(name), len(name), off) +
            struct.pack("<I", flags) + SERVER_CHALLENGE + b"\0" * 8 +
            struct.pack("<HHI", len(TARGET_INFO), len(TARGET_INFO),
                        off + len(name)) +
            bytes.fromhex("0a00614a0000000f") + name + TARGET_INFO)


def parse_type3(b64):
    m = base64.b64decode(b64)
    out = {"ok": m[:8] == b"NTLMSSP\0" and struct.unpack("<I", m[8:12])[0]
           == 3}

    def field(at):
        ln, _, off = struct.unpack("<HHI", m[at:at + 8])
        return m[off:off + ln]

    for name, at in (("lm", 12), ("nt", 20), ("domain", 28), ("user", 36),
                     ("ws", 44)):
        out[name] = field(at)
    out["flags"] = struct.unpack("<I", m[60:64])[0]
    return out


def ntproof_ok(t3, user, domain, password):
    """Recompute NTProofStr from the password, as the DC would."""
    nt = t3["nt"]
    if len(nt) < 48:
        return False, "NT response of %d bytes is not NTLMv2" % len(nt)
    proof, temp = nt[:16], nt[16:]
    ntowf1 = md4(u16(password))
    ntowf2 = hmac_md5(ntowf1, u16(user.upper() + domain))
    want = hmac_md5(ntowf2, SERVER_CHALLENGE + temp)
    if proof != want:
        return False, "NTProofStr %s, recomputed %s" % (proof.hex(),
                                                        want.hex())
    if temp[:2] != b"\x01\x01" or temp[8:16] != TIMESTAMP:
        return False, "temp does not carry the server's timestamp"
    if TARGET_INFO[:-4] not in temp:
        return False, "temp lacks the server's target info"
    return True, ""


# -- helpers ---------------------------------------------------------------

def b64(s):
    return base64.b64encode(s.encode("utf-8") if isinstance(s, str)
                            else s).decode()


def auth_ini(extra=None):
    base = {"remote": {"auth": "basic", "user": "alice",
                       "password": PASSWORD,
                       "allow_plaintext_auth": "yes"}}
    return merge(base, extra)


def secrets_absent(name, texts, secrets):
    leaked = [s for s in secrets for t in texts if s and s in t]
    check("%s: no secret in stdout, stderr or the log" % name, not leaked,
          "leaked %r" % leaked[:2])


_last_log = [b""]


def fake_run(name, caps, script, extra, args=None, verbose=False):
    """Run postern against a FakeSMTP offering caps and playing the AUTH
    script; (Result, server).  last_log() is that run's log file."""
    srv = FakeSMTP(caps=["PIPELINING", "8BITMIME"] + caps,
                   auth=script).start()
    try:
        ini, d = ini_for(srv.port, auth_ini(extra))
        res = run((["-v"] if verbose else []) + (args or ARGS), MSG,
                  ini=ini)
        srv.wait_closed(10)
    finally:
        srv.stop()
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            _last_log[0] = f.read()
    except OSError:
        _last_log[0] = b""
    return res, srv


def last_log():
    return _last_log[0]


# -- the ini ----------------------------------------------------------------

def test_ini_checks():
    d = tmpdir()
    sec = merge(default_sections(25, d), auth_ini())
    ini = write_ini(d, sec)
    os.chmod(ini, 0o644)
    r = run(["--check"], ini=ini)
    check("0644 ini with a password: exit 78", r.rc == 78, r)
    check("0644 ini: one line with the chmod that fixes it",
          stderr_line_ok(r) and b"chmod o-r " + ini.encode() in r.err, r)
    check("0644 ini: the password is not shown", PASSWORD.encode()
          not in r.err + r.out, r)
    os.chmod(ini, 0o660)
    r = run(["--check"], ini=ini)
    check("0660 ini with a password: exit 78, chmod go-w",
          r.rc == 78 and b"chmod go-w " in r.err, r)
    os.chmod(ini, 0o640)
    r = run(["--check"], ini=ini)
    check("0640 ini with a password: accepted", r.rc == 0, r)
    check("--check masks the password",
          PASSWORD.encode() not in r.out and b"password = ********" in r.out,
          r.out)
    check("--check shows auth and user",
          b"auth = basic" in r.out and b"user = alice" in r.out, r.out)

    cmd = {"remote": {"password": None,
                      "password_command": "sh -c 'echo CMDTOKEN42'"}}
    ini = write_ini(d, merge(default_sections(25, d), auth_ini(cmd)),
                    name="cmd.ini")
    r = run(["--check"], ini=ini)
    check("--check masks password_command (it may carry a token)",
          r.rc == 0 and b"CMDTOKEN42" not in r.out and
          b"password_command = ********" in r.out, r)
    os.chmod(ini, 0o644)
    r = run(["--check"], ini=ini)
    check("0644 ini with a password_command: exit 78, chmod o-r",
          r.rc == 78 and b"chmod o-r" in r.err and b"CMDTOKEN42" not in
          r.err, r)

    cases = [
        ("basic without a user", {"user": None}, b"auth needs a user"),
        ("basic without a password", {"password": None},
         b"auth needs one of password"),
        ("two password sources", {"password_file": "/etc/x"},
         b"auth needs only one of"),
        ("user with auth = anonymous", {"auth": "anonymous",
                                        "password": None},
         b"user is set but auth = anonymous"),
        ("unknown auth mode", {"auth": "kerberos"},
         b"is not one of anonymous, basic, ntlm, xoauth2"),
        ("bad ntlm_version", {"auth": "ntlm", "ntlm_version": "v3"},
         b"is not one of auto, v1, v2"),
        ("\" ;\" in a password", {"password": "abc ;def"},
         b"starts a comment"),
        ("basic without TLS, not allowed", {"allow_plaintext_auth": None},
         b"clear text"),
    ]
    for name, extra, want in cases:
        sec = merge(default_sections(25, d), auth_ini({"remote": extra}))
        r = run(["--check"], ini=write_ini(d, sec))
        check("ini: %s: exit 78" % name, r.rc == 78, r)
        check("ini: %s: says why" % name, stderr_line_ok(r) and want in
              r.err, r.err)
        check("ini: %s: no secret in the error" % name,
              b"def" not in r.err and PASSWORD.encode() not in r.err, r.err)


def test_plaintext_refused():
    """Basic over a connection without TLS: nothing is sent at all."""
    res, srv = fake_run("plaintext", ["AUTH PLAIN LOGIN"],
                        ["235 2.7.0 ok"],
                        {"remote": {"allow_plaintext_auth": None}})
    check("basic in clear text: exit 78", res.rc == 78, res)
    check("basic in clear text: one stderr line naming the fix",
          stderr_line_ok(res) and b"allow_plaintext_auth" in res.err,
          res.err)
    check("basic in clear text: nothing sent (no connection)",
          srv.raw() == b"", srv.raw()[:200])
    res, srv = fake_run("xoauth2 plaintext", ["AUTH XOAUTH2"],
                        ["235 2.7.0 ok"],
                        {"remote": {"auth": "xoauth2",
                                    "allow_plaintext_auth": None}})
    check("xoauth2 in clear text: exit 78, nothing sent",
          res.rc == 78 and srv.raw() == b"", res)


# -- the scripted server ---------------------------------------------------

def test_basic_fake():
    res, srv = fake_run("plain", ["AUTH LOGIN PLAIN"],
                        ["235 2.7.0 Authentication successful"], None,
                        verbose=True)
    check("PLAIN: delivered", res.rc == 0 and len(srv.messages()) == 1,
          res)
    lines = [x for c in srv.conns for x in c.auth_lines]
    check_eq("PLAIN chosen when offered, with an initial response", lines,
             ["AUTH PLAIN " + b64("\0alice\0" + PASSWORD)])
    check("PLAIN: the log says auth=plain", b" auth=plain " in last_log(),
          last_log())
    secrets_absent("PLAIN -v", [res.out, res.err, last_log()],
                   [PASSWORD.encode(), b64("\0alice\0" + PASSWORD).encode()])
    check("PLAIN -v: AUTH line redacted, the mechanism shown",
          b">>> AUTH PLAIN <redacted>\n" in res.err, res.err)

    res, srv = fake_run("login", ["AUTH LOGIN"],
                        ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6",
                         "235 2.7.0 Authentication successful"], None,
                        verbose=True)
    check("LOGIN when PLAIN is not offered: delivered",
          res.rc == 0 and len(srv.messages()) == 1, res)
    lines = [x for c in srv.conns for x in c.auth_lines]
    check_eq("LOGIN: user, then password", lines,
             ["AUTH LOGIN", b64("alice"), b64(PASSWORD)])
    secrets_absent("LOGIN -v", [res.out, res.err, last_log()],
                   [PASSWORD.encode(), b64(PASSWORD).encode()])


def test_not_offered():
    res, srv = fake_run("ntlm not offered", ["AUTH PLAIN LOGIN"],
                        ["235 ok"], {"remote": {"auth": "ntlm"}})
    check("ntlm not offered: exit 77", res.rc == 77, res)
    check("ntlm not offered: names what the server offers",
          stderr_line_ok(res) and b"offers only AUTH PLAIN LOGIN" in res.err,
          res.err)
    check("ntlm not offered: no AUTH sent",
          not any(c.auth_lines for c in srv.conns), srv.commands())
    res, srv = fake_run("no AUTH", [], ["235 ok"], None)
    check("no AUTH offered: exit 77, says so",
          res.rc == 77 and b"offers no AUTH" in res.err, res)
    check("no AUTH offered: nothing delivered", srv.messages() == [],
          srv.messages())


def test_exchange_ntlm():
    got = {}

    def type1(arg):
        got["type1"] = base64.b64decode(arg)
        return "334 " + b64(challenge_msg())

    extra = {"remote": {"auth": "ntlm", "user": "CORP\\alice",
                        "password": ODD, "ntlm_workstation": "WEB01",
                        "allow_plaintext_auth": None}}
    res, srv = fake_run("exchange", ["AUTH NTLM LOGIN"],
                        ["334 NTLM supported", type1,
                         "235 2.7.0 Authentication successful"], extra,
                        verbose=True)
    check("Exchange NTLM (no TLS needed): delivered",
          res.rc == 0 and len(srv.messages()) == 1, res)
    lines = [x for c in srv.conns for x in c.auth_lines]
    check("Exchange NTLM: AUTH NTLM, NEGOTIATE again after "
          "\"334 NTLM supported\", then AUTHENTICATE",
          len(lines) == 3 and lines[0].startswith("AUTH NTLM "), lines)
    check("Exchange NTLM: a NEGOTIATE answers \"NTLM supported\"",
          got.get("type1", b"")[:12] == b"NTLMSSP\0\x01\0\0\0", got)
    if len(lines) != 3:
        return
    t3 = parse_type3(lines[2])
    check("Exchange NTLM: AUTHENTICATE message", t3["ok"], t3)
    check_eq("Exchange NTLM: user from DOMAIN\\user", t3["user"],
             u16("alice"))
    check_eq("Exchange NTLM: domain from DOMAIN\\user", t3["domain"],
             u16("CORP"))
    check_eq("Exchange NTLM: workstation", t3["ws"], u16("WEB01"))
    check_eq("Exchange NTLM: with a timestamp, LM response is Z(24)",
             t3["lm"], b"\0" * 24)
    ok, why = ntproof_ok(t3, "alice", "CORP", ODD)
    check("Exchange NTLM: NTLMv2 proof recomputed from the password", ok,
          why)
    check("Exchange NTLM: the log says auth=ntlmv2",
          b" auth=ntlmv2 " in last_log(), last_log())
    secrets_absent("NTLM -v", [res.out, res.err, last_log()],
                   [ODD.encode(), lines[2].encode()])


def test_refusals_fake():
    extra = {"remote": {"auth": "ntlm", "allow_plaintext_auth": None}}
    res, srv = fake_run("504", ["AUTH NTLM"],
                        ["504 5.7.4 Unrecognized authentication type"],
                        extra)
    check("504 5.7.4: exit 77", res.rc == 77, res)
    check("504 5.7.4: the server's text on one line",
          stderr_line_ok(res) and
          b"504 5.7.4 Unrecognized authentication type" in res.err, res.err)
    check("504 5.7.4: nothing delivered", srv.messages() == [], srv)

    res, srv = fake_run("garbage challenge", ["AUTH NTLM"],
                        ["334 " + b64(b"not an NTLM message"),
                         "334 " + b64(b"still not NTLM"), "235 never"],
                        extra)
    lines = [x for c in srv.conns for x in c.auth_lines]
    check("nonsense NTLM challenge: cancelled with \"*\", exit 77",
          res.rc == 77 and lines[-1:] == ["*"], (res, lines))

    res, srv = fake_run("454", ["AUTH PLAIN"],
                        ["454 4.7.0 Temporary authentication failure"],
                        None)
    check("454: temporary (exit 75)", res.rc == 75, res)

    res, srv = fake_run("535", ["AUTH PLAIN"],
                        ["535 5.7.8 Authentication credentials invalid"],
                        None)
    check("535: exit 77 with the server's text",
          res.rc == 77 and stderr_line_ok(res) and
          b"535 5.7.8 Authentication credentials invalid" in res.err, res)
    check("535: one AUTH, no other mechanism tried",
          sum(1 for c in srv.commands() if c.startswith("AUTH")) == 1,
          srv.commands())


def test_soft_failure_spooled():
    """[queue] mode = fallback: a refused login keeps the message."""
    srv = FakeSMTP(caps=["PIPELINING", "8BITMIME", "AUTH PLAIN"],
                   auth=["535 5.7.8 Authentication credentials invalid"]
                   ).start()
    try:
        ini, d = ini_for(srv.port, auth_ini({"queue": {"mode":
                                                       "fallback"}}))
        res = run(ARGS, MSG, ini=ini)
        srv.wait_closed(10)
    finally:
        srv.stop()
    check("535 with the spool: exit 0, quiet", res.rc == 0 and
          res.err == b"", res)
    q = run(["-bp"], ini=ini)
    check("535 with the spool: the message waits in the queue",
          q.rc == 0 and b"535 5.7.8" in q.out, q)
    with open(os.path.join(d, "postern.log"), "rb") as f:
        log = f.read()
    check("535 with the spool: logged loudly as an auth problem",
          b"authentication refused" in log and b"status=queued" in log,
          log)
    # The credentials are fixed: the queue run delivers it.
    srv = FakeSMTP(caps=["PIPELINING", "8BITMIME", "AUTH PLAIN"],
                   auth=["235 2.7.0 ok"]).start()
    try:
        with open(ini) as f:
            text = f.read()
        import re
        text = re.sub(r"port = \d+", "port = %d" % srv.port, text)
        with open(ini, "w") as f:
            f.write(text)
        q = run(["-q"], ini=ini)
        srv.wait_closed(10)
        n = len(srv.messages())
    finally:
        srv.stop()
    check("535 with the spool: delivered by -q once the login works",
          q.rc == 0 and n == 1, (q, n))


def test_secret_sources():
    d = tmpdir()
    pwfile = os.path.join(d, "pw")
    with open(pwfile, "w") as f:
        f.write(ODD + "\nsecond line\n")
    os.chmod(pwfile, 0o600)
    script = ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 ok"]
    res, srv = fake_run("password_file", ["AUTH LOGIN"], script,
                        {"remote": {"password": None,
                                    "password_file": pwfile}})
    lines = [x for c in srv.conns for x in c.auth_lines]
    check("password_file: its first line is the password",
          res.rc == 0 and lines[-1:] == [b64(ODD)], (res, lines))
    os.chmod(pwfile, 0o644)
    res, srv = fake_run("password_file 0644", ["AUTH LOGIN"], script,
                        {"remote": {"password": None,
                                    "password_file": pwfile}})
    check("password_file readable by others: exit 78 with the chmod",
          res.rc == 78 and stderr_line_ok(res) and
          ("chmod o-r " + pwfile).encode() in res.err, res)
    check("password_file readable by others: no AUTH sent",
          not any(c.auth_lines for c in srv.conns), srv.commands())

    cmd = "/bin/sh -c 'printf \"%s\\n\" \"$0\"; echo more' 'from a command'"
    res, srv = fake_run("password_command", ["AUTH LOGIN"], script,
                        {"remote": {"password": None,
                                    "password_command": cmd}})
    lines = [x for c in srv.conns for x in c.auth_lines]
    check("password_command: the first line of its output",
          res.rc == 0 and lines[-1:] == [b64("from a command")],
          (res, lines))
    res, srv = fake_run("password_command words", ["AUTH LOGIN"], script,
                        {"remote": {"password": None,
                                    "password_command":
                                    "printf '%s|' \"two words\" $HOME"}})
    lines = [x for c in srv.conns for x in c.auth_lines]
    check("password_command: no shell ($HOME stays as written)",
          res.rc == 0 and lines[-1:] == [b64("two words|$HOME|")],
          (res, lines))
    res, _ = fake_run("password_command fails", ["AUTH LOGIN"], script,
                      {"remote": {"password": None,
                                  "password_command": "/bin/false"}})
    check("password_command exits 1: temporary (75), one line",
          res.rc == 75 and stderr_line_ok(res) and b"status 1" in res.err,
          res)
    res, _ = fake_run("password_command missing", ["AUTH LOGIN"], script,
                      {"remote": {"password": None,
                                  "password_command": "/nonexistent/pw"}})
    check("password_command that cannot run: exit 78",
          res.rc == 78 and b"cannot run /nonexistent/pw" in res.err, res)
    res, _ = fake_run("password_command silent", ["AUTH LOGIN"], script,
                      {"remote": {"password": None,
                                  "password_command": "/bin/true"}})
    check("password_command printing nothing: exit 78",
          res.rc == 78 and b"empty" in res.err, res)
    res, _ = fake_run("password_command hangs", ["AUTH LOGIN"], script,
                      {"remote": {"password": None, "timeout": 1,
                                  "password_command": "/bin/sleep 30"}})
    check("password_command that hangs: killed after the timeout (75)",
          res.rc == 75 and res.secs < 10 and b"did not finish" in res.err,
          res)


# -- the real server -------------------------------------------------------

def pf_run(pf, port, name, remote, want_rc=0, verbose=False):
    d = tmpdir()
    extra = {"remote": dict(remote)}
    ini, _ = ini_for(port, extra, d=d, timeout=30)
    res = run((["-v"] if verbose else []) + ARGS, MSG, ini=ini, timeout=90)
    log = b""
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            log = f.read()
    except OSError:
        pass
    if want_rc == 0:
        ok = res.rc == 0 and (verbose or quiet_success(res))
        check("%s: exit 0" % name, ok, res)
        got = pf.wait_messages(1, timeout=20) if ok else []
        check("%s: the message arrived" % name, len(got) == 1 and
              b"Subject: auth" in got[0], "%d messages" % len(got))
    else:
        check("%s: exit %d" % (name, want_rc), res.rc == want_rc, res)
    return res, log


def postfix_plain(pf, pf_login):
    user = {"user": "alice", "password": PASSWORD,
            "allow_plaintext_auth": "yes"}
    res, log = pf_run(pf, pf.port, "Postfix AUTH PLAIN",
                      dict(user, auth="basic"), verbose=True)
    check("Postfix AUTH PLAIN: log says auth=plain", b" auth=plain " in log,
          log[-300:])
    secrets_absent("Postfix AUTH PLAIN -v", [res.out, res.err, log],
                   [PASSWORD.encode(),
                    b64("\0alice\0" + PASSWORD).encode()])
    if pf_login:
        res, log = pf_run(pf_login, pf_login.port, "Postfix AUTH LOGIN",
                          dict(user, auth="basic"))
        check("Postfix AUTH LOGIN: log says auth=login",
              b" auth=login " in log, log[-300:])
    for ver, dom, want in (("v2", "EXAMPLE", b"ntlmv2"),
                           ("v2", None, b"ntlmv2"),
                           ("v1", None, b"ntlmv1"),
                           ("auto", "EXAMPLE", b"ntlmv2")):
        remote = dict(user, auth="ntlm", ntlm_version=ver)
        remote.pop("allow_plaintext_auth")
        if dom:
            remote["ntlm_domain"] = dom
        name = "Postfix AUTH NTLM %s, domain %s" % (ver, dom or "empty")
        res, log = pf_run(pf, pf.port, name, remote)
        check("%s: log says auth=%s" % (name, want.decode()),
              b" auth=" + want + b" " in log, log[-300:])
    res, log = pf_run(pf, pf.port, "Postfix NTLM, DOMAIN\\user",
                      dict(user, auth="ntlm", user="EXAMPLE\\alice",
                           ntlm_version="v2"))
    res, _ = pf_run(pf, pf.port, "Postfix odd password (PLAIN)",
                    dict(user, auth="basic", user="odd", password=ODD))
    res, _ = pf_run(pf, pf.port, "Postfix odd password (NTLMv2)",
                    dict(user, auth="ntlm", user="odd2", password=ODD_ASCII,
                         ntlm_version="v2", ntlm_domain="EXAMPLE"))
    for auth in ("basic", "ntlm"):
        res, log = pf_run(pf, pf.port, "Postfix wrong password (%s)" % auth,
                          dict(user, auth=auth, password="wrong"),
                          want_rc=77)
        check("Postfix wrong password (%s): one line with the 535" % auth,
              stderr_line_ok(res) and
              b"535 5.7.8 Error: authentication failed" in res.err,
              res.err)
        check("Postfix wrong password (%s): nothing arrived" % auth,
              pf.wait_messages(1, timeout=1) == [], "")


def tls_support():
    """The TLS issue's pieces: tls = starttls accepted, Postfix with TLS."""
    import inspect
    if "tls" not in inspect.signature(PrivatePostfix).parameters:
        return False
    d = tmpdir()
    r = run(["--check"], ini=write_ini(d, text="[remote]\nhost = x\n"
                                       "tls = starttls\n"))
    return r.rc == 0 and os.path.exists(CERTS_SH)


CERTS_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "certs", "mkcerts.sh")


def postfix_tls():
    if not tls_support():
        check("# SKIP STARTTLS/SMTPS: TLS support not built yet", True)
        return
    certs = tmpdir()
    subprocess.run(["sh", CERTS_SH, certs], check=True)
    os.chmod(certs, 0o755)
    for n in os.listdir(certs):
        os.chmod(os.path.join(certs, n), 0o644)
    pf = PrivatePostfix(tls={"cert": os.path.join(certs, "server.pem"),
                             "key": os.path.join(certs, "server.key")},
                        sasl={"users": {"alice": PASSWORD}})
    try:
        pf.start()
    except (PostfixError, OSError) as e:
        check("private Postfix with TLS and SASL starts", False, str(e))
        return
    try:
        ca = os.path.join(certs, "ca.pem")
        base = {"user": "alice", "password": PASSWORD, "tls_ca_file": ca}
        for mode, port in (("starttls", pf.submission_port),
                           ("implicit", pf.smtps_port)):
            for auth, want in (("basic", b"plain"), ("ntlm", b"ntlmv")):
                remote = dict(base, auth=auth, tls=mode, host="localhost")
                name = "Postfix %s over %s" % (auth, mode)
                res, log = pf_run(pf, port, name, remote)
                check("%s: log says auth=%s" % (name, want.decode()),
                      b" auth=" + want in log, log[-300:])
            res, _ = pf_run(pf, port, "Postfix wrong password over %s" % mode,
                            dict(base, auth="basic", tls=mode,
                                 host="localhost", password="wrong"),
                            want_rc=77)
    finally:
        pf.stop()


def test_postfix():
    if os.geteuid() != 0:
        check("private Postfix: needs root", False, "run as root")
        return
    users = {"alice": PASSWORD, "odd": ODD, "odd2": ODD_ASCII}
    pf = PrivatePostfix(sasl={"users": users})
    pf_login = PrivatePostfix(sasl={"users": users, "mechs": "LOGIN"})
    try:
        try:
            pf.start()
            pf_login.start()
        except (PostfixError, OSError) as e:
            check("private Postfix with Cyrus SASL starts", False, str(e))
            return
        check("private Postfix with Cyrus SASL starts", True)
        postfix_plain(pf, pf_login)
    finally:
        pf.stop()
        pf_login.stop()
    postfix_tls()


def main():
    require_postern()
    test_ini_checks()
    test_plaintext_refused()
    test_basic_fake()
    test_not_offered()
    test_exchange_ntlm()
    test_refusals_fake()
    test_soft_failure_spooled()
    test_secret_sources()
    test_postfix()
    return done()


if __name__ == "__main__":
    sys.exit(main())
