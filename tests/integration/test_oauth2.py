# SPDX-License-Identifier: ISC (see LICENSE)
"""auth = xoauth2 with a token endpoint: postern gets its own tokens from a
real OAuth 2.0 server (oidc-provider over HTTPS on loopback, lib/oauth.py)
and presents them to an SMTP server that asks the provider whether each
token is active, answering like Exchange Online or like Gmail.

Client authentications (client_secret_post, client_secret_basic,
private_key_jwt), the refresh_token grant with rotation, the token cache
(three runs, one request; expiry), the one retry after a refused token,
the error classes (a bad secret, the endpoint down, a certificate that
does not verify), the ini's checks, --check --oauth2-test, and no secret
in any output.  test_oauth2_edge.py has the rest and uses the helpers
here."""

import json
import os
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from harness import (check, check_eq, done, require_postern, run, tmpdir,
                     write_ini, merge, default_sections, stderr_line_ok,
                     quiet_success)
from fakesmtp import FakeSMTP
from oauth import Provider, xoauth2_smtp, SECRET, SMTP_USER

MSG = b"From: cms@x.test\nTo: bob@example.test\nSubject: oauth\n\nhello\n"
ARGS = ["-i", "-f", "cms@x.test", "bob@example.test"]

PROV = None


def client_keys(client):
    """The [remote] keys of one of the provider's clients."""
    k = {"oauth2_token_url": PROV.token_url, "oauth2_client_id": client,
         "oauth2_ca_file": PROV.ca, "oauth2_scope": "smtp"}
    if client == "jwt":
        k.update({"oauth2_client_key": PROV.jwt_key,
                  "oauth2_client_cert": PROV.jwt_cert})
    else:
        k["oauth2_client_secret"] = SECRET
    if client == "basic":
        k["oauth2_client_auth"] = "basic"
    if client == "refresh":
        k.pop("oauth2_scope")
    return k


def setup(port, client="post", mode="never", d=None, extra=None):
    """An ini for the SMTP server on port and the provider's client; the
    spool (and so the token cache) is d/spool."""
    d = d or tmpdir()
    spool = os.path.join(d, "spool")
    os.makedirs(spool, exist_ok=True)
    remote = {"tls": "starttls", "tls_ca_file": PROV.ca, "auth": "xoauth2",
              "user": SMTP_USER}
    remote.update(client_keys(client))
    sections = merge(default_sections(port, d, timeout=10),
                     {"remote": remote,
                      "queue": {"dir": spool, "mode": mode}})
    return write_ini(d, merge(sections, extra)), d


def log_text(d):
    try:
        with open(os.path.join(d, "postern.log"), "rb") as f:
            return f.read()
    except OSError:
        return b""


def delivered(srv):
    return len([m for m in srv.messages() if m.accepted])


def smtp(style="exchange", seen=None):
    return FakeSMTP(**xoauth2_smtp(PROV, style, seen)).start()


def test_client_auths():
    for client in ("post", "basic", "jwt"):
        seen = []
        srv = smtp(seen=seen)
        try:
            ini, d = setup(srv.port, client)
            before = PROV.token_requests(client)
            res = run(ARGS, MSG, ini=ini)
            srv.wait_closed(10)
        finally:
            srv.stop()
        name = {"post": "client_secret_post", "basic": "client_secret_basic",
                "jwt": "private_key_jwt"}[client]
        check("%s: delivered quietly" % name, quiet_success(res) and
              delivered(srv) == 1, res)
        check_eq("%s: one token request" % name,
                 PROV.token_requests(client) - before, 1)
        check("%s: the server saw an active token for the mailbox" % name,
              len(seen) == 1 and seen[0][0] == SMTP_USER and seen[0][2],
              seen)
        check("%s: the log says auth=xoauth2" % name,
              b"auth=xoauth2" in log_text(d), log_text(d))


def test_three_runs_one_request():
    srv = smtp()
    try:
        ini, d = setup(srv.port, "post")
        before = PROV.token_requests("post")
        rcs = [run(ARGS, MSG, ini=ini).rc for _ in range(3)]
    finally:
        srv.stop()
    check_eq("three runs: all delivered", (rcs, delivered(srv)),
             ([0, 0, 0], 3))
    check_eq("three runs: one token request",
             PROV.token_requests("post") - before, 1)
    cache = os.path.join(d, "spool", "oauth2")
    modes = [stat.S_IMODE(os.stat(os.path.join(cache, f)).st_mode)
             for f in os.listdir(cache)]
    check("the token cache is not readable by others",
          modes and all(m & 0o007 == 0 for m in modes), modes)


def test_expiry():
    seen = []
    srv = smtp(seen=seen)
    try:
        ini, d = setup(srv.port, "short")      # tokens live 2 s
        before = PROV.token_requests("short")
        r1 = run(ARGS, MSG, ini=ini)
        time.sleep(3)
        r2 = run(ARGS, MSG, ini=ini)
    finally:
        srv.stop()
    check("expiry: both runs delivered", r1.rc == 0 and r2.rc == 0 and
          delivered(srv) == 2, (r1, r2))
    check_eq("expiry: a new token for the second run",
             PROV.token_requests("short") - before, 2)
    check("expiry: no expired token was presented",
          all(s[2] for s in seen) and len(seen) == 2, seen)


def test_revoked(style):
    seen = []
    srv = smtp(style, seen)
    try:
        ini, d = setup(srv.port, "basic", d=None)
        before = PROV.token_requests("basic")
        r1 = run(ARGS, MSG, ini=ini)
        revoked = seen and PROV.revoke(seen[-1][1], "basic")
        r2 = run(["-v"] + ARGS, MSG, ini=ini)
    finally:
        srv.stop()
    check("%s: token revoked at the provider" % style, revoked, seen)
    check("%s: revoked token: refused once, delivered with a new one"
          % style, r1.rc == 0 and r2.rc == 0 and delivered(srv) == 2 and
          [s[2] for s in seen] == [True, False, True], (r2, seen))
    check_eq("%s: revoked token: one more token request" % style,
             PROV.token_requests("basic") - before, 2)
    check("%s: -v says AUTH went again" % style,
          b"AUTH again with fresh credentials" in r2.err, r2.err)
    if style == "gmail":
        check("gmail: the error challenge was answered with an empty line",
              "" in [x for x in srv.conns[-1].auth_lines[1:2]],
              srv.conns[-1].auth_lines)


def test_refresh_rotation():
    srv = smtp()
    d = tmpdir()
    rtf = os.path.join(d, "refresh_token")
    first = PROV.refresh_token()
    with open(rtf, "w") as f:
        f.write(first + "\n")
    os.chmod(rtf, 0o600)
    tokens = [first]
    rcs = []
    try:
        for i in range(2):
            # A spool each: the second run must not reuse the access token.
            sub = os.path.join(d, str(i))
            os.makedirs(sub)
            ini, _ = setup(srv.port, "refresh", d=sub, extra={
                "remote": {"oauth2_refresh_token_file": rtf}})
            rcs.append(run(ARGS, MSG, ini=ini).rc)
            with open(rtf) as f:
                tokens.append(f.read().strip())
    finally:
        srv.stop()
    check_eq("refresh token: both runs delivered", (rcs, delivered(srv)),
             ([0, 0], 2))
    check("refresh token: rotated by each run and written back",
          len(set(tokens)) == 3 and all(tokens), tokens)
    check_eq("refresh token file keeps its mode",
             stat.S_IMODE(os.stat(rtf).st_mode), 0o600)
    check("refresh token: no refused grant",
          not [g for g in PROV.grants() if g[0] == "refresh" and
               g[1].startswith("error")], PROV.grants())
    check("refresh token: no temporary file left behind",
          sorted(os.listdir(d)) == ["0", "1", "refresh_token"],
          os.listdir(d))


def test_bad_secret():
    srv = smtp()
    try:
        ini, d = setup(srv.port, "post", extra={
            "remote": {"oauth2_client_secret": "wrong-" + SECRET}})
        res = run(ARGS, MSG, ini=ini)
    finally:
        srv.stop()
    check_eq("bad client secret, mode never: exit 77", res.rc, 77)
    check("bad client secret: one line naming the endpoint and "
          "invalid_client", stderr_line_ok(res) and
          PROV.token_url.encode() in res.err and b"invalid_client" in
          res.err, res.err)
    check_eq("bad client secret: nothing delivered", delivered(srv), 0)
    check("bad client secret: neither secret in stderr",
          SECRET.encode() not in res.err, res.err)


def test_endpoint_down():
    srv = smtp()
    try:
        PROV.stop()
        ini, d = setup(srv.port, "post")
        never = run(ARGS, MSG, ini=ini)
        ini, d = setup(srv.port, "post", mode="fallback")
        spooled = run(ARGS, MSG, ini=ini)
        queued = os.listdir(os.path.join(d, "spool", "queue"))
        PROV.start()
        flushed = run(["-q"], ini=ini)
        left = os.listdir(os.path.join(d, "spool", "queue"))
    finally:
        if PROV.proc is None:
            PROV.start()
        srv.stop()
    check_eq("endpoint down, mode never: exit 75", never.rc, 75)
    check("endpoint down: one line naming the endpoint",
          stderr_line_ok(never) and PROV.token_url.encode() in never.err,
          never.err)
    check("endpoint down, mode fallback: spooled, exit 0",
          quiet_success(spooled) and len(queued) == 1, (spooled, queued))
    check("endpoint back: -q delivers the spooled message",
          flushed.rc == 0 and delivered(srv) == 1 and left == [],
          (flushed, left))


def test_endpoint_unverified():
    before = PROV.token_requests()
    srv = smtp()
    try:
        ini, d = setup(srv.port, "post",
                       extra={"remote": {"oauth2_ca_file": None}})
        res = run(ARGS, MSG, ini=ini)
    finally:
        srv.stop()
    check_eq("token endpoint certificate does not verify: exit 75",
             res.rc, 75)
    check("... one line saying so", stderr_line_ok(res) and
          b"certificate" in res.err, res.err)
    check_eq("... and no request was sent", PROV.token_requests(), before)


def test_no_secret_in_output():
    seen = []
    srv = smtp(seen=seen)
    d = tmpdir()
    rtf = os.path.join(d, "refresh_token")
    rt = PROV.refresh_token()
    with open(rtf, "w") as f:
        f.write(rt + "\n")
    os.chmod(rtf, 0o600)
    try:
        runs = []
        for client, extra in (("post", {}), ("jwt", {}), ("refresh", {
                "oauth2_refresh_token_file": rtf})):
            sub = os.path.join(d, client)
            os.makedirs(sub)
            ini, dd = setup(srv.port, client, d=sub, extra={"remote": extra})
            runs.append((run(["-v"] + ARGS, MSG, ini=ini), dd))
    finally:
        srv.stop()
    with open(rtf) as f:
        rt2 = f.read().strip()
    secrets = [SECRET, rt, rt2] + [s[1] for s in seen if s[1]]
    out = b"".join(r.out + r.err + log_text(dd) for r, dd in runs)
    check("-v runs delivered", all(r.rc == 0 for r, _ in runs) and
          len(seen) == 3, [r for r, _ in runs])
    check("no client secret, refresh or access token in -v, stderr or "
          "the log", not [s for s in secrets if s.encode() in out],
          [s[:6] for s in secrets if s.encode() in out])
    check("no client assertion in -v", b"eyJ" not in out, out[:300])
    check("-v names the token endpoint and the result",
          b"oauth2: POST " + PROV.token_url.encode() in runs[0][0].err and
          b"HTTP 200" in runs[0][0].err, runs[0][0].err)


def test_ini_checks():
    d = tmpdir()
    base = merge(default_sections(25, d), {"remote": {
        "tls": "starttls", "auth": "xoauth2", "user": SMTP_USER}})
    cases = [
        ("http token URL", {"oauth2_token_url": "http://127.0.0.1/token",
                            "oauth2_client_id": "a",
                            "oauth2_client_secret": "b"},
         b"https"),
        ("no client authentication", {"oauth2_token_url": PROV.token_url,
                                      "oauth2_client_id": "a"},
         b"exactly one client authentication"),
        ("secret and key", {"oauth2_token_url": PROV.token_url,
                            "oauth2_client_id": "a",
                            "oauth2_client_secret": "b",
                            "oauth2_client_key": PROV.jwt_key,
                            "oauth2_client_cert": PROV.jwt_cert},
         b"not both"),
        ("key without certificate", {"oauth2_token_url": PROV.token_url,
                                     "oauth2_client_id": "a",
                                     "oauth2_client_key": PROV.jwt_key},
         b"needs oauth2_client_cert"),
        ("token URL and a password", {"oauth2_token_url": PROV.token_url,
                                      "oauth2_client_id": "a",
                                      "oauth2_client_secret": "b",
                                      "password": "tok"},
         b"both set"),
        ("neither token URL nor password", {}, b"oauth2_token_url"),
        ("client id without token URL", {"oauth2_client_id": "a",
                                         "password": "tok"},
         b"oauth2_client_id is set without oauth2_token_url"),
        ("token URL with auth = basic", {"auth": "basic",
                                         "oauth2_token_url": PROV.token_url,
                                         "password": "pw"},
         b"oauth2_token_url is set but auth = basic"),
    ]
    for name, keys, want in cases:
        ini = write_ini(d, merge(base, {"remote": keys}))
        res = run(["--check"], ini=ini)
        check("ini: %s: exit 78 and says why" % name, res.rc == 78 and
              stderr_line_ok(res) and want in res.err, res)
    ini = write_ini(d, merge(base, {"remote": client_keys("post")}))
    os.chmod(ini, 0o644)
    res = run(ARGS, MSG, ini=ini)
    check("ini with a client secret readable by others: 78, chmod hint",
          res.rc == 78 and stderr_line_ok(res) and b"chmod o-r" in res.err,
          res)
    sf = os.path.join(d, "secret")
    with open(sf, "w") as f:
        f.write(SECRET + "\n")
    os.chmod(sf, 0o644)
    keys = dict(client_keys("post"), oauth2_client_secret=None,
                oauth2_client_secret_file=sf)
    ini, _ = setup(1, "post", extra={"remote": keys})
    res = run(["--check", "--oauth2-test"], ini=ini)
    check("secret file readable by others: 78, chmod hint",
          res.rc == 78 and b"chmod o-r" in res.err, res)
    os.chmod(PROV.jwt_key, 0o644)
    try:
        ini, _ = setup(1, "jwt")
        res = run(["--check", "--oauth2-test"], ini=ini)
    finally:
        os.chmod(PROV.jwt_key, 0o600)
    check("client key readable by others: 78, chmod hint",
          res.rc == 78 and b"chmod o-r" in res.err, res)


def test_check():
    ini, d = setup(1, "jwt")
    res = run(["--check"], ini=ini)
    check("--check names the token endpoint and client authentication",
          res.rc == 0 and b"token endpoint " + PROV.token_url.encode() in
          res.out and b"private_key_jwt" in res.out, res)
    before = PROV.token_requests("jwt")
    res = run(["--check", "--oauth2-test"], ini=ini)
    check("--check --oauth2-test: a token can be had now",
          res.rc == 0 and b"a token can be had now" in res.out and
          b"HTTP 200" in res.out, res)
    check_eq("--check --oauth2-test asked the endpoint",
             PROV.token_requests("jwt") - before, 1)
    ini, d = setup(1, "post", extra={"remote": {
        "oauth2_client_secret": "wrong"}})
    res = run(["--check", "--oauth2-test"], ini=ini)
    check("--check --oauth2-test with a bad secret: 77, the OAuth error",
          res.rc == 77 and stderr_line_ok(res) and b"invalid_client" in
          res.err, res)
    ini, d = setup(1, "post", extra={"remote": {
        "oauth2_token_url": None, "oauth2_client_id": None,
        "oauth2_client_secret": None, "oauth2_scope": None,
        "oauth2_ca_file": None, "password": "static-token"}})
    res = run(["--check", "--oauth2-test"], ini=ini)
    check("--check --oauth2-test with a static token: 64, says why",
          res.rc == 64 and stderr_line_ok(res) and
          b"oauth2_token_url" in res.err, res)


def test_static_token():
    """password as the bearer token keeps working (no endpoint)."""
    tok = []
    srv = FakeSMTP(**xoauth2_smtp(PROV, "exchange")).start()
    try:
        # A token from the provider, given to postern as a static password.
        body = PROV._post("/token", {"grant_type": "client_credentials",
                                     "client_id": "post",
                                     "client_secret": SECRET})
        tok.append(json.loads(body)["access_token"])
        ini, d = setup(srv.port, "post", extra={"remote": {
            "oauth2_token_url": None, "oauth2_client_id": None,
            "oauth2_client_secret": None, "oauth2_scope": None,
            "oauth2_ca_file": None, "password": tok[0]}})
        res = run(ARGS, MSG, ini=ini)
    finally:
        srv.stop()
    check("static token in password: delivered", quiet_success(res) and
          delivered(srv) == 1, res)


def main():
    global PROV
    require_postern()
    try:
        PROV = Provider().start()
    except Exception as e:      # npm, node or the provider itself
        check("oidc-provider installs and starts", False, str(e))
        return done()
    check("oidc-provider installs and starts", True)
    try:
        test_ini_checks()
        test_check()
        test_client_auths()
        test_three_runs_one_request()
        test_expiry()
        test_revoked("exchange")
        test_revoked("gmail")
        test_refresh_rotation()
        test_bad_secret()
        test_endpoint_unverified()
        test_endpoint_down()
        test_no_secret_in_output()
        test_static_token()
    finally:
        PROV.stop()
    return done()


if __name__ == "__main__":
    sys.exit(main())
