# SPDX-License-Identifier: ISC (see LICENSE)
"""auth = xoauth2 at the edges: a scripted token endpoint (its answers,
their size and time bounds, a slow one that ten runs wait for together),
libcurl and json-c loaded only when needed, and the set-group-ID install
sharing one token.  The helpers and the real provider come from
test_oauth2.py."""

import grp
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, tmpdir,
                     write_ini, merge, default_sections, stderr_line_ok,
                     quiet_success, postern_path, base_env, ini_text,
                     sg_rc, sg_stderr)
from fakesmtp import FakeSMTP
from oauth import Provider, FakeEndpoint
import test_oauth2 as base
from test_oauth2 import (ARGS, MSG, SMTP_USER, client_keys, delivered,
                         setup, smtp)


def test_concurrent_runs_fetch_once():
    """Ten runs start together while the endpoint takes its time: the
    first takes the cache's lock and asks; the others wait, look again
    and use its token."""
    def slow(body):
        time.sleep(1.5)
        return json_answer(200, {"access_token": "tok-%d" % time.time_ns(),
                                 "token_type": "Bearer",
                                 "expires_in": 600})(body)
    ep = FakeEndpoint(base.PROV.certs, slow).start()
    srv = FakeSMTP(caps=["STARTTLS"], tls_caps=["AUTH XOAUTH2"],
                   tls={"cert": os.path.join(base.PROV.certs, "server.pem"),
                        "key": os.path.join(base.PROV.certs, "server.key")},
                   auth=["235 2.7.0 ok"]).start()
    try:
        ini, d = setup(srv.port, "basic", extra={"remote": {
            "oauth2_token_url": ep.url}})
        procs = [subprocess.Popen([postern_path(), "-C", ini] + ARGS,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=base_env())
                 for _ in range(10)]
        # Every message in first (one pipe buffer each), so that they
        # all reach AUTH together.
        for p in procs:
            p.stdin.write(MSG)
            p.stdin.close()
        outs = [(p.stdout.read(), p.stderr.read()) for p in procs]
        rcs = [p.wait(60) for p in procs]
    finally:
        srv.stop()
        ep.stop()
    tokens = set(c.auth_lines[0] for c in srv.conns if c.auth_lines)
    check_eq("ten runs at once: all delivered", (rcs, delivered(srv)),
             ([0] * 10, 10))
    check("ten runs at once: nothing on stderr",
          all(o[1] == b"" for o in outs), outs)
    check_eq("ten runs at once: one token request", ep.requests, 1)
    check_eq("ten runs at once: one token used", len(tokens), 1)


def json_answer(status, obj):
    return lambda body: (status, {"Content-Type": "application/json"},
                         json.dumps(obj).encode())


def test_endpoint_answers():
    """What each kind of answer from a token endpoint means."""
    ok = {"access_token": "x" * 40, "token_type": "Bearer",
          "expires_in": "3599"}
    cases = [
        ("expires_in as a string (Microsoft v1)", json_answer(200, ok),
         None, 0, b""),
        ("an answer over 64 KiB", lambda b: (200, {}, b"{" + b" " * 70000),
         None, 75, b"longer than 65536 bytes"),
        ("no answer within timeout", lambda b: None, None, 75,
         b"timed out"),
        ("HTTP 503", lambda b: (503, {}, b"busy"), None, 75, b"HTTP 503"),
        ("temporarily_unavailable", json_answer(
            400, {"error": "temporarily_unavailable"}), None, 75,
         b"temporarily_unavailable"),
        ("a redirect is not followed", lambda b: (
            302, {"Location": base.PROV.token_url}, b""), None, 77,
         b"HTTP 302 without an OAuth error"),
        ("200 without JSON", lambda b: (200, {}, b"<html>"), None, 77,
         b"no access token"),
        ("a token with a space", json_answer(200, dict(
            ok, access_token="a b")), None, 77, b"no access token"),
        ("invalid_scope, described", json_answer(400, {
            "error": "invalid_scope", "error_description":
            "AADSTS70011: scope\r\nbad"}), None, 77,
         b"invalid_scope (AADSTS70011: scope  bad)"),
    ]
    for name, answer, _, rc, want in cases:
        ep = FakeEndpoint(base.PROV.certs, answer).start()
        srv = FakeSMTP(caps=["STARTTLS"], tls_caps=["AUTH XOAUTH2"],
                       tls={"cert": os.path.join(base.PROV.certs, "server.pem"),
                            "key": os.path.join(base.PROV.certs, "server.key")},
                       auth=["235 2.7.0 ok"]).start()
        try:
            ini, d = setup(srv.port, "post", extra={"remote": {
                "oauth2_token_url": ep.url, "timeout": 3}})
            res = run(ARGS, MSG, ini=ini)
        finally:
            srv.stop()
            ep.stop()
        if rc == 0:
            check("endpoint: %s: delivered" % name, quiet_success(res) and
                  delivered(srv) == 1, res)
            continue
        check("endpoint: %s: exit %d, one line saying so" % (name, rc),
              res.rc == rc and stderr_line_ok(res) and want in res.err and
              ep.url.encode() in res.err, res)
        check_eq("endpoint: %s: asked once, nothing sent" % name,
                 (ep.requests, delivered(srv)), (1, 0))


def test_loaded_when_needed():
    """libcurl and json-c are not linked and a plain run does not load
    them; a run that needs a token does, and says so when it cannot."""
    deps = subprocess.run(["ldd", postern_path()], capture_output=True)
    check("postern is not linked with libcurl or json-c",
          deps.returncode == 0 and b"libcurl" not in deps.stdout and
          b"json-c" not in deps.stdout, deps.stdout)
    plain = FakeSMTP().start()
    srv = smtp()
    try:
        d = tmpdir()
        ini = write_ini(d, merge(default_sections(plain.port, d), {
            "queue": {"mode": "never", "dir": os.path.join(d, "spool")}}))
        r1 = run(ARGS, MSG, ini=ini, env={"LD_DEBUG": "files"})
        ini, d = setup(srv.port, "post")
        r2 = run(ARGS, MSG, ini=ini, env={"LD_DEBUG": "files"})
    finally:
        plain.stop()
        srv.stop()
    check("a plain run loads neither libcurl nor json-c",
          r1.rc == 0 and b"libcurl" not in r1.err and
          b"libjson-c" not in r1.err, r1.rc)
    check("a run that needs a token loads both",
          r2.rc == 0 and b"libcurl.so.4" in r2.err and
          b"libjson-c.so.5" in r2.err, r2.rc)
    libs = [p for p in ("/usr/lib/x86_64-linux-gnu/libcurl.so.4",
                        "/lib/x86_64-linux-gnu/libcurl.so.4")
            if os.path.exists(p)]
    if os.geteuid() != 0 or not shutil.which("unshare") or not libs:
        print("ok - libcurl missing # SKIP needs root, unshare, libcurl")
        return
    srv = smtp()
    try:
        ini, d = setup(srv.port, "post")
        hide = " && ".join("mount --bind /dev/null %s" % p for p in libs)
        p = subprocess.run(["unshare", "-m", "sh", "-c",
                            '%s && exec "$0" -C "$1" "$@"' % hide,
                            postern_path(), ini] + ARGS, input=MSG,
                           capture_output=True, env=base_env(), timeout=60)
    finally:
        srv.stop()
    check("libcurl missing: exit 70, one line saying so",
          p.returncode == 70 and b"cannot load libcurl.so.4" in p.stderr and
          p.stderr.count(b"\n") == 1, p)
    check_eq("libcurl missing: nothing sent", delivered(srv), 0)


def test_setgid_shared_cache():
    """The set-group-ID install: a postern set-group-ID to a group (mail
    here) reading /etc/postern.ini (a copy of /etc bound over it in a
    private mount namespace), run by two users in turn: the second uses
    the token the first fetched, and the cache is the group's, not
    readable by others."""
    if os.geteuid() != 0 or not shutil.which("unshare") or \
            not shutil.which("setpriv"):
        print("ok - setgid token cache # SKIP needs root, unshare, setpriv")
        return
    gid = grp.getgrnam("mail").gr_gid
    d = tmpdir()
    os.chmod(d, 0o755)
    binary = os.path.join(d, "postern")
    shutil.copy(postern_path(), binary)
    os.chown(binary, 0, gid)
    os.chmod(binary, 0o2755)
    spool = os.path.join(d, "spool")
    os.mkdir(spool)
    os.chown(spool, 0, gid)
    os.chmod(spool, 0o2770)
    ca = os.path.join(d, "ca.pem")
    shutil.copy(base.PROV.ca, ca)
    os.chmod(ca, 0o644)
    etc = os.path.join(d, "etc")
    subprocess.run(["cp", "-a", "/etc/.", etc], check=True)
    srv = smtp()
    try:
        remote = {"host": "127.0.0.1", "port": srv.port, "timeout": 10,
                  "tls": "starttls", "tls_ca_file": ca, "auth": "xoauth2",
                  "user": SMTP_USER}
        remote.update(client_keys("post"), oauth2_ca_file=ca)
        ini = os.path.join(etc, "postern.ini")
        with open(ini, "w") as f:
            f.write(ini_text({
                "remote": remote, "sender": {"domain": "x.test"},
                "log": {"syslog": "no"},
                "queue": {"dir": spool, "mode": "never"}}))
        os.chown(ini, 0, gid)
        os.chmod(ini, 0o640)
        before = base.PROV.token_requests("post")
        rcs = []
        for user in ("nobody", "daemon"):
            p = subprocess.run(
                ["unshare", "-m", "sh", "-c",
                 'mount --bind "$0" /etc && exec "$@"', etc, "setpriv",
                 "--reuid=" + user, "--regid=nogroup", "--clear-groups",
                 binary] + ARGS, input=MSG, capture_output=True,
                env=base_env(), timeout=60)
            rcs.append((sg_rc(p), sg_stderr(p)))
    finally:
        srv.stop()
    check_eq("setgid: two users' runs delivered", (rcs, delivered(srv)),
             ([(0, b""), (0, b"")], 2))
    check_eq("setgid: one token request for both users",
             base.PROV.token_requests("post") - before, 1)
    cache = os.path.join(spool, "oauth2")
    st = [os.stat(os.path.join(cache, f)) for f in os.listdir(cache)]
    check("setgid: cache files belong to the group, not readable by others",
          st and all(x.st_gid == gid and x.st_mode & 0o007 == 0 and
                     x.st_mode & 0o060 == 0o060 for x in st),
          [(x.st_gid, oct(x.st_mode)) for x in st])


def main():
    require_postern()
    try:
        base.PROV = Provider().start()
    except Exception as e:      # npm, node or the provider itself
        check("oidc-provider installs and starts", False, str(e))
        return done()
    try:
        test_endpoint_answers()
        test_concurrent_runs_fetch_once()
        test_loaded_when_needed()
        test_setgid_shared_cache()
    finally:
        base.PROV.stop()
    return done()


if __name__ == "__main__":
    sys.exit(main())
