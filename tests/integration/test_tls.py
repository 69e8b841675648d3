# SPDX-License-Identifier: ISC (see LICENSE)
"""TLS: STARTTLS and SMTPS against a private Postfix with a CA the test
makes (tests/certs/mkcerts.sh), the refusals that must keep mail from
leaving in clear text (against Postfix listeners with bad certificates,
and the scripted server for what Postfix will not do: no STARTTLS, 454,
junk after 220, TLS 1.1 only), pins, tls_verify = no, and the session
cache across runs."""

import base64
import hashlib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, ini_for,
                     take_generated, quiet_success, stderr_line_ok, tmpdir,
                     with_fake)
from postfix import PrivatePostfix, PostfixError, strip_added_headers

HERE = os.path.dirname(os.path.abspath(__file__))
MKCERTS = os.path.join(HERE, "..", "certs", "mkcerts.sh")
RCPT = "bob@example.test"
STDIN = (b"From: Alice <alice@x.test>\r\nTo: bob@example.test\r\n"
         b"Subject: over TLS\r\n\r\nline one\n.leading dot\n\nlast\n")
ARGS = ["-i", "-f", "alice@x.test", RCPT]


def make_certs():
    d = os.path.join(tmpdir(), "certs")
    subprocess.run(["sh", MKCERTS, d], check=True)
    return d


def pin_of(pem):
    """sha256/BASE64 of the certificate's SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-in", pem, "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                         input=pub, check=True, capture_output=True).stdout
    return "sha256/" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def log_text(d):
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Env:
    def __init__(self, pf, certs):
        self.pf, self.certs = pf, certs

    def ini(self, port, tls, extra=None, host="localhost"):
        remote = {"host": host, "port": port, "tls": tls,
                  "tls_ca_file": os.path.join(self.certs, "ca.pem")}
        remote.update(extra or {})
        return ini_for(port, {"remote": remote}, timeout=20)

    def maillog_mark(self):
        try:
            return os.path.getsize(self.pf.maillog)
        except OSError:
            return 0

    def maillog_since(self, mark):
        try:
            with open(self.pf.maillog, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def delivered(env, name, ini, args=None, want_log=None):
    """Run postern; check exit 0 and the message byte for byte."""
    res = run((args or []) + ARGS, STDIN, ini=ini, timeout=60)
    if not check("%s: exit 0" % name, res.rc == 0 and res.out == b"", res):
        return res
    got = env.pf.wait_messages(1, timeout=30)
    if not check("%s: one message delivered" % name, len(got) == 1,
                 "%d; maillog:\n%s" % (len(got), env.pf.log_tail(8))):
        return res
    rest, _, _ = take_generated(strip_added_headers(got[0]))
    check_eq("%s: byte for byte" % name, rest,
             STDIN.replace(b"\r\n", b"\n"))
    return res


def refused(env, name, ini, cause_re):
    """Run postern; exit 75, one stderr line naming the cause and host,
    nothing delivered, and Postfix saw no MAIL (its disconnect line)."""
    mark = env.maillog_mark()
    res = run(ARGS, STDIN, ini=ini, timeout=60)
    check_eq("%s: exit 75" % name, res.rc, 75)
    line = res.err.decode("utf-8", "replace").strip()
    check("%s: one stderr line" % name, stderr_line_ok(res), res)
    check("%s: names the cause and host" % name,
          re.search(cause_re, line) is not None and "localhost" in line,
          line)
    check_eq("%s: nothing delivered" % name,
             len(env.pf.wait_messages(1, timeout=1)), 0)
    log = env.maillog_since(mark)
    disc = [x for x in log.splitlines() if " disconnect from " in x]
    check("%s: no MAIL reached Postfix" % name,
          disc and not any(re.search(r" (mail|rcpt|data)=", x)
                           for x in disc), log[-800:])
    return res


def postfix_tests(env):
    pf, certs = env.pf, env.certs

    # STARTTLS on the submission port, SMTPS on its port.
    ini, d = env.ini(pf.submission_port, "starttls")
    res = delivered(env, "STARTTLS", ini)
    log = log_text(d)
    check("STARTTLS: log says tls=TLSv1.3/...",
          re.search(r" tls=TLSv1\.[23]/\S+ ", log) is not None, log)
    check("STARTTLS: log names subject and pin",
          "subject=\"CN=localhost\"" in log and
          pin_of(os.path.join(certs, "server.pem")) in log, log)

    ini, d = env.ini(pf.smtps_port, "implicit")
    delivered(env, "SMTPS", ini)
    check("SMTPS: log says tls=",
          re.search(r" tls=TLSv1\.[23]/", log_text(d)) is not None,
          log_text(d))

    # Session resumption across runs, and a corrupt cache file.
    cache = os.path.join(tmpdir(), "tlscache")
    ini, d = env.ini(pf.submission_port, "starttls",
                     {"tls_session_cache": cache})
    delivered(env, "resumption, first run", ini)
    files = os.listdir(cache) if os.path.isdir(cache) else []
    check("resumption: one cache file for localhost:port",
          files == ["localhost_%d" % pf.submission_port], files)
    if files:
        st = os.stat(os.path.join(cache, files[0]))
        check_eq("resumption: cache file mode 0600", st.st_mode & 0o777,
                 0o600)
    res = delivered(env, "resumption, second run", ini, ["-v"])
    check("resumption: -v reports a resumed session",
          b"resumed session" in res.err, res.err[-600:])
    check("resumption: the log says resumed",
          "/resumed " in log_text(d), log_text(d))
    for f in files:
        with open(os.path.join(cache, f), "wb") as fp:
            fp.write(b"postern-tls-session junk\n-----BEGIN SSL SESSION "
                     b"PARAMETERS-----\nAAAA\n")
    res = delivered(env, "corrupt cache file survived", ini, ["-v"])
    check("corrupt cache file: a new session",
          b"new session" in res.err, res.err[-600:])

    # The spool's directory is the default cache.
    ini, d = env.ini(pf.submission_port, "starttls")
    delivered(env, "default cache", ini)
    spool_tls = os.path.join(d, "spool", "tls")
    check("default cache: under the spool's directory",
          os.path.isdir(spool_tls) and os.listdir(spool_tls),
          spool_tls)

    # Refusals: each is a temporary failure and nothing is sent.
    for lname, cause in (("evil", r"untrusted issuer"),
                         ("other", r"name mismatch.*other\.example"),
                         ("expired", r"expired")):
        ini, _ = env.ini(pf.tls_ports[lname], "starttls")
        refused(env, "%s certificate" % lname, ini, cause)
    ini, _ = env.ini(pf.tls_ports["evil_smtps"], "implicit")
    refused(env, "untrusted CA over SMTPS", ini, r"untrusted issuer")

    good = pin_of(os.path.join(certs, "server.pem"))
    stale = pin_of(os.path.join(certs, "other.pem"))
    ini, _ = env.ini(pf.submission_port, "starttls", {"tls_pin": stale})
    refused(env, "pin mismatch", ini, r"pin mismatch")
    ini, _ = env.ini(pf.submission_port, "starttls",
                     {"tls_pin": "%s, %s" % (stale, good)})
    delivered(env, "pin set: one stale, one good", ini)
    # A pin replaces the CA: a self-made chain is fine when pinned.
    evil_pin = pin_of(os.path.join(certs, "evil.pem"))
    ini, _ = env.ini(pf.tls_ports["evil"], "starttls",
                     {"tls_pin": evil_pin})
    delivered(env, "pinned untrusted chain", ini)

    # tls_verify = no: works, and warns in the log.
    ini, d = env.ini(pf.tls_ports["evil"], "starttls",
                     {"tls_verify": "no", "tls_ca_file": None})
    delivered(env, "tls_verify = no", ini)
    check("tls_verify = no: warning in the log",
          re.search(r"tls_verify = no", log_text(d)) is not None,
          log_text(d))

    # --serverinfo: capabilities before and after, chain, dates, pin.
    ini, _ = env.ini(pf.submission_port, "starttls")
    res = run(["--serverinfo"], ini=ini, timeout=60)
    out = res.out.decode("utf-8", "replace")
    check_eq("--serverinfo: exit 0", res.rc, 0)
    for what in ("capabilities before STARTTLS:", "  STARTTLS",
                 "certificate 0:", "subject:  CN=localhost",
                 "valid:    ", "pin:      " + good, "after STARTTLS:",
                 "verification: verified"):
        check("--serverinfo shows %r" % what.strip(), what in out, out)
    after = out.split("after STARTTLS:", 1)[-1]
    check("--serverinfo: no STARTTLS after STARTTLS",
          "  STARTTLS" not in after, after)


def fake_tests(certs):
    tls = {"cert": os.path.join(certs, "server.pem"),
           "key": os.path.join(certs, "server.key")}
    base = {"remote": {"host": "localhost", "tls": "starttls",
                       "tls_ca_file": os.path.join(certs, "ca.pem")}}

    def refusal(name, fake, cause_re, ini_extra=None):
        ini = dict(base)
        if ini_extra:
            ini = {"remote": dict(base["remote"], **ini_extra)}
        res, srv = with_fake(ARGS, STDIN, fake=fake, ini_extra=ini)
        check_eq("%s: exit 75" % name, res.rc, 75)
        check("%s: one stderr line" % name, stderr_line_ok(res), res)
        check("%s: names the cause" % name,
              re.search(cause_re, res.err.decode("utf-8", "replace"))
              is not None, res.err)
        raw = srv.raw()
        check("%s: nothing of the message sent" % name,
              b"MAIL FROM" not in raw and b"alice" not in raw, raw)
        return res, srv

    refusal("no STARTTLS offered (stripped)",
            {"caps": ["PIPELINING", "8BITMIME"]},
            r"does not offer STARTTLS.*not sending in clear text")
    refusal("454 to STARTTLS",
            {"caps": ["PIPELINING", "STARTTLS"], "tls": tls,
             "starttls": "454 4.7.0 TLS not available due to local "
                         "problem"},
            r"STARTTLS refused by .*454 4\.7\.0")
    _, srv = refusal("junk after 220",
                     {"caps": ["PIPELINING", "STARTTLS"], "tls": tls,
                      "starttls": b"220 2.0.0 Ready to start TLS\r\n"
                                  b"250-PIPELINING\r\n250 AUTH PLAIN\r\n"},
                     r"sent data after its 220 to STARTTLS")
    check("junk after 220: no handshake attempted",
          not any(c.tls for c in srv.conns), srv.conns)
    res, srv = refusal("TLS 1.1-only server",
                       {"tls": dict(tls, implicit=True, max_version="1.1")},
                       r"protocol version", {"tls": "implicit"})
    check("TLS 1.1-only server: no SMTP command got through",
          srv.commands() == [], srv.commands())


def main():
    require_postern()
    certs = make_certs()
    fake_tests(certs)
    if os.geteuid() != 0:
        check("private Postfix: needs root", False, "run as root")
        return done()

    def listener(name, wrapper=False):
        return {"cert": os.path.join(certs, name + ".pem"),
                "key": os.path.join(certs, name + ".key"),
                "wrapper": wrapper}
    pf = PrivatePostfix(tls={
        "cert": os.path.join(certs, "server.pem"),
        "key": os.path.join(certs, "server.key"),
        "listeners": {"evil": listener("evil"), "other": listener("other"),
                      "expired": listener("expired"),
                      "evil_smtps": listener("evil", True)}})
    try:
        try:
            pf.start()
        except (PostfixError, OSError) as e:
            check("private Postfix with TLS starts", False, str(e))
            return done()
        check("private Postfix with TLS starts (%.1fs)" % pf.start_seconds,
              True)
        postfix_tests(Env(pf, certs))
    finally:
        pf.stop()
    return done()


if __name__ == "__main__":
    sys.exit(main())
