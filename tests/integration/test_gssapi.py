# SPDX-License-Identifier: ISC (see LICENSE)
"""auth = gssapi: SASL GSSAPI (RFC 4752) with Kerberos, against a real
MIT KDC (a realm made at start, lib/kdc.py) and the private Postfix with
Cyrus SASL's GSSAPI plugin (service principal smtp/localhost).  msmtp,
which speaks GSSAPI from a credential cache through GNU SASL, first shows
that the realm and the server work, so that a failure below is postern's.

Keytab with and without user, a credential cache from kinit, clear text,
STARTTLS and SMTPS; the keytab's mode (78); an unknown service, no
credentials, a wrong key (77 under mode = never, spooled under fallback,
nothing delivered) and no KDC (75); -v shows no token; the log says
auth=gssapi; --check and --serverinfo; and a plain run never loads the
Kerberos libraries."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, done, require_postern, run, ini_for,
                     stderr_line_ok, quiet_success, tmpdir, postern_path)
from postfix import PrivatePostfix, PostfixError
import kdc as kdclib

MSG = b"From: alice@x.test\nTo: bob@example.test\nSubject: gssapi\n\nhi\n"
ARGS = ["-i", "-f", "alice@x.test", "bob@example.test"]
CERTS_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "certs", "mkcerts.sh")
# A base64 run as long as any Kerberos token: what -v must never show.
TOKEN_RE = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")


class Realm:
    """The KDC, its principals and keytabs, and the Postfix using them."""

    def __init__(self, kdc, pf, certs):
        self.kdc, self.pf, self.certs = kdc, pf, certs
        self.alice_kt = kdc.addprinc("alice")
        kdc.addprinc("carol")
        # alice first, then carol, with the keys they have now.
        self.both_kt = os.path.join(kdc.base, "both.keytab")
        kdc.ktadd("alice", self.both_kt, keep=True)
        kdc.ktadd("carol", self.both_kt, keep=True)
        os.chmod(self.both_kt, 0o600)
        # dave's first keytab goes stale when his key is renewed.
        self.stale_kt = kdc.addprinc("dave")
        kdc.ktadd("dave", os.path.join(kdc.base, "dave.new.keytab"))
        self.ccache = "FILE:" + os.path.join(kdc.base, "alice.ccache")
        kdc.kinit("alice", self.alice_kt, self.ccache)

    def env(self, **extra):
        e = dict(self.kdc.env)
        e.update(extra)
        return e

    def maillog(self):
        try:
            with open(self.pf.maillog, "rb") as f:
                return f.read()
        except OSError:
            return b""


def send(realm, name, remote, port=None, env=None, want_rc=0, queue=None,
         verbose=False):
    """Run postern with [remote] auth = gssapi; check the exit status and
    (for 0) the delivery; want_rc None checks nothing.  Returns (Result, postern's log, its dir)."""
    r = {"host": "localhost", "auth": "gssapi"}
    r.update(remote)
    extra = {"remote": r}
    if queue:
        extra["queue"] = {"mode": queue}
    ini, d = ini_for(port or realm.pf.port, extra, timeout=30)
    res = run((["-v"] if verbose else []) + ARGS, MSG, ini=ini,
              env=env if env is not None else realm.env(), timeout=90)
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            log = f.read()
    except OSError:
        log = b""
    if want_rc == 0:
        ok = res.rc == 0 and (verbose or quiet_success(res))
        check("%s: exit 0" % name, ok, res)
        got = realm.pf.wait_messages(1, timeout=20) if ok else []
        check("%s: the message arrived" % name,
              len(got) == 1 and b"Subject: gssapi" in got[0],
              "%d messages" % len(got))
        check("%s: the log says auth=gssapi" % name,
              b" auth=gssapi " in log, log[-300:])
    elif want_rc is not None:
        check("%s: exit %d" % (name, want_rc), res.rc == want_rc, res)
    return res, log, ini


def nothing_arrived(realm, name):
    check("%s: nothing delivered" % name,
          realm.pf.wait_messages(1, timeout=1) == [], "")


def server_saw(realm, name, who):
    """Postfix logs the mechanism and the user Cyrus made of the
    principal (without the realm, the server's default)."""
    want = b"sasl_method=GSSAPI, sasl_username=" + who.encode()
    log = realm.maillog()
    check("%s: Postfix logs %s" % (name, want.decode()),
          re.search(re.escape(want) + rb"(@\S+)?\n", log) is not None,
          log[-400:])


def test_msmtp(realm):
    """The realm and the server, proven by another client."""
    env = dict(os.environ)
    env.update(realm.env(KRB5CCNAME=realm.ccache))
    p = subprocess.run(["msmtp", "--host=localhost",
                        "--port=%d" % realm.pf.port, "--auth=gssapi",
                        "--user=alice", "--tls=off", "--from=alice@x.test",
                        "bob@example.test"], input=MSG, env=env,
                       capture_output=True, timeout=60)
    ok = check("msmtp (GNU SASL) authenticates with GSSAPI from a ccache",
               p.returncode == 0, p.stderr[-400:])
    got = realm.pf.wait_messages(1, timeout=20) if ok else []
    check("msmtp: the message arrived", len(got) == 1, len(got))
    server_saw(realm, "msmtp", "alice")


def test_credentials(realm):
    send(realm, "keytab, no user", {"gssapi_keytab": realm.alice_kt})
    server_saw(realm, "keytab, no user", "alice")
    send(realm, "two-entry keytab, no user: its first entry",
         {"gssapi_keytab": realm.both_kt})
    server_saw(realm, "two-entry keytab, no user", "alice")
    send(realm, "two-entry keytab, user = carol@REALM",
         {"gssapi_keytab": realm.both_kt,
          "user": "carol@" + realm.kdc.realm})
    server_saw(realm, "two-entry keytab, user = carol", "carol")
    send(realm, "caller's ccache from kinit", {},
         env=realm.env(KRB5CCNAME=realm.ccache))
    server_saw(realm, "caller's ccache", "alice")
    send(realm, "caller's ccache, user = its principal",
         {"user": "alice@" + realm.kdc.realm},
         env=realm.env(KRB5CCNAME=realm.ccache))


def test_tls(realm):
    ca = os.path.join(realm.certs, "ca.pem")
    for mode, port in (("starttls", realm.pf.submission_port),
                       ("implicit", realm.pf.smtps_port)):
        send(realm, "keytab over %s" % mode,
             {"gssapi_keytab": realm.alice_kt, "tls": mode,
              "tls_ca_file": ca}, port=port)


def test_verbose(realm):
    res, log, _ = send(realm, "-v", {"gssapi_keytab": realm.alice_kt},
                       verbose=True)
    err = res.err
    check("-v: AUTH GSSAPI shown, its token redacted",
          b">>> AUTH GSSAPI <redacted>\n" in err, err[-600:])
    check("-v: the server's 334s redacted",
          err.count(b"<<< 334 <redacted>\n") == 2, err[-600:])
    check("-v: no token anywhere (stderr, log)",
          TOKEN_RE.search(err) is None and TOKEN_RE.search(log) is None,
          err[-600:])
    check("-v: the note names the mechanism",
          b"--- auth = gssapi: AUTH GSSAPI" in err, err[-600:])


def failure(realm, name, remote, env=None, want=b"", rc=77):
    """rc under mode = never with one line naming the reason and the
    host; under fallback, spooled with exit 0.  Nothing delivered."""
    res, _, _ = send(realm, name, remote, env=env, want_rc=rc)
    check("%s: one line naming the reason and the host" % name,
          stderr_line_ok(res) and want in res.err and
          b"localhost" in res.err, res.err)
    nothing_arrived(realm, name)
    if rc != 77:
        return
    res, log, ini = send(realm, name + " (fallback)", remote, env=env,
                         want_rc=None, queue="fallback")
    check("%s (fallback): exit 0, quiet" % name, quiet_success(res), res)
    q = run(["-bp"], ini=ini)
    check("%s (fallback): the message waits in the spool" % name,
          q.rc == 0 and b"bob@example.test" in q.out, q)
    nothing_arrived(realm, name + " (fallback)")


def test_failures(realm):
    failure(realm, "unknown service principal",
            {"gssapi_keytab": realm.alice_kt, "gssapi_service": "nosuch"},
            want=b"not found in Kerberos database")
    failure(realm, "no credentials (no keytab, empty ccache)", {},
            env=realm.env(KRB5CCNAME="FILE:" + os.path.join(
                realm.kdc.base, "nothing.ccache")),
            want=b"No Kerberos credentials available")
    failure(realm, "wrong key (a stale keytab)",
            {"gssapi_keytab": realm.stale_kt})
    # No KDC answers: a temporary failure.
    d = tmpdir()
    conf = os.path.join(d, "nokdc.conf")
    with open(realm.kdc.krb5_conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace("127.0.0.1:%d" % realm.kdc.port,
                             "127.0.0.1:%d" % kdclib._free_port()))
    failure(realm, "no KDC answers", {"gssapi_keytab": realm.alice_kt},
            env=realm.env(KRB5_CONFIG=conf), rc=75,
            want=b"Cannot contact any KDC")


def test_keytab_mode(realm):
    d = tmpdir()
    kt = os.path.join(d, "open.keytab")
    with open(realm.alice_kt, "rb") as f, open(kt, "wb") as g:
        g.write(f.read())
    os.chmod(kt, 0o644)
    res, _, _ = send(realm, "keytab readable by others",
                     {"gssapi_keytab": kt}, want_rc=78)
    check("keytab readable by others: one line with the chmod",
          stderr_line_ok(res) and b"chmod o-r " + kt.encode() in res.err,
          res.err)
    nothing_arrived(realm, "keytab readable by others")
    res, _, _ = send(realm, "gssapi_service with a host",
                     {"gssapi_service": "smtp@localhost"}, want_rc=78)
    check("gssapi_service with a host: refused at load",
          stderr_line_ok(res) and b"gssapi_service" in res.err, res.err)
    res, _, _ = send(realm, "a password with auth = gssapi",
                     {"password": "x"}, want_rc=78)
    check("a password with auth = gssapi: refused at load",
          stderr_line_ok(res) and b"auth = gssapi" in res.err, res.err)


def test_check_serverinfo(realm):
    ini, _ = ini_for(realm.pf.port, {"remote": {
        "host": "localhost", "auth": "gssapi",
        "gssapi_keytab": realm.alice_kt}})
    r = run(["--check"], ini=ini, env=realm.env())
    out = r.out
    check("--check: exit 0", r.rc == 0, r)
    check("--check: keytab and principal",
          b"; gssapi: principal the keytab's first entry, keytab " +
          realm.alice_kt.encode() in out, out[-800:])
    check("--check: a credential can be acquired",
          b"; gssapi: credential acquired for alice@" +
          realm.kdc.realm.encode() + b", ticket for smtp@localhost"
          in out, out[-800:])
    ini, _ = ini_for(realm.pf.port, {"remote": {
        "host": "localhost", "auth": "gssapi",
        "gssapi_keytab": realm.stale_kt}})
    r = run(["--check"], ini=ini, env=realm.env())
    check("--check with a stale keytab: says there is no credential",
          r.rc == 0 and b"; gssapi: no credential: " in r.out, r)
    r = run(["--serverinfo"], ini=ini, env=realm.env())
    check("--serverinfo: says GSSAPI is offered",
          r.rc == 0 and b"auth = gssapi: AUTH GSSAPI is offered\n" in r.out,
          r)


def test_not_loaded(realm):
    """A plain run must not load Kerberos; a gssapi run does."""
    ldd = subprocess.run(["ldd", postern_path()], capture_output=True)
    check("ldd: postern is not linked with Kerberos",
          ldd.returncode == 0 and b"krb5" not in ldd.stdout and
          b"gssapi" not in ldd.stdout, ldd.stdout)
    res, _, _ = send(realm, "plain run under LD_DEBUG",
                     {"auth": "anonymous"}, want_rc=None,
                     env=realm.env(LD_DEBUG="files"))
    got = realm.pf.wait_messages(1, timeout=20)
    check("plain run under LD_DEBUG: delivered", res.rc == 0 and
          len(got) == 1, res)
    check("plain run: libgssapi_krb5 never loaded",
          b"libgssapi_krb5" not in res.err and b"libkrb5" not in res.err,
          res.err[-400:])
    res, _, _ = send(realm, "gssapi run under LD_DEBUG",
                     {"gssapi_keytab": realm.alice_kt}, verbose=True,
                     env=realm.env(LD_DEBUG="files"))
    check("gssapi run: libgssapi_krb5 loaded (the check can see it)",
          b"libgssapi_krb5.so.2" in res.err, res.err[-400:])


def main():
    require_postern()
    if os.geteuid() != 0:
        check("Kerberos realm and private Postfix: need root", False, "")
        return done()
    missing = kdclib.available()
    if missing:
        check("MIT Kerberos installed (tests/deps.sh)", False, missing)
        return done()
    certs = tmpdir()
    subprocess.run(["sh", CERTS_SH, certs], check=True,
                   capture_output=True)
    os.chmod(certs, 0o755)
    for n in os.listdir(certs):
        os.chmod(os.path.join(certs, n), 0o644)
    kdc = kdclib.PrivateKDC()
    pf = None
    try:
        kdc.start()
        skt = kdc.addprinc("smtp/localhost")
        pf = PrivatePostfix(
            tls={"cert": os.path.join(certs, "server.pem"),
                 "key": os.path.join(certs, "server.key")},
            sasl={"mechs": "GSSAPI", "realm": kdc.realm,
                  "gssapi": {"keytab": skt, "env": kdc.env}})
        pf.start()
        check("realm and Postfix with Cyrus GSSAPI start", True)
        realm = Realm(kdc, pf, certs)
        test_msmtp(realm)
        test_credentials(realm)
        test_tls(realm)
        test_verbose(realm)
        test_keytab_mode(realm)
        test_failures(realm)
        test_check_serverinfo(realm)
        test_not_loaded(realm)
    except (kdclib.KDCError, PostfixError, OSError) as e:
        check("realm and Postfix with Cyrus GSSAPI start", False, str(e))
    finally:
        if pf is not None:
            pf.stop()
        kdc.stop()
    return done()


if __name__ == "__main__":
    sys.exit(main())
