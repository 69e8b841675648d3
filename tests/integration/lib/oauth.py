# SPDX-License-Identifier: ISC (see LICENSE)
"""A real OAuth 2.0 server for the auth = xoauth2 tests, and an SMTP server
that checks bearer tokens against it.

    prov = Provider().start()        # oidc-provider over HTTPS, 127.0.0.1
    prov.token_url                   # https://127.0.0.1:PORT/token
    prov.grants()                    # token requests so far: [(client, grant)]
    prov.refresh_token()             # a new refresh token for "refresh"
    prov.revoke(token, client)       # RFC 7009: the token no longer works
    prov.stop(); prov.start()        # down and up again on the same port

    srv = FakeSMTP(**xoauth2_smtp(prov, "exchange")).start()

The provider is the npm package oidc-provider 8.x (8.x runs on Debian 12's
Node 18), installed with `npm ci` from tests/integration/oauth's
package-lock.json into a cache outside the repository:
$POSTERN_OIDC_CACHE, else $XDG_CACHE_HOME/postern-tests/oidc (or
~/.cache/...), or /var/cache/postern-tests/oidc for root.  It is
reinstalled when the lock file changes.  Its clients are listed in
tests/integration/oauth/provider.mjs.

The SMTP side answers AUTH XOAUTH2 (offered after STARTTLS only) like
Exchange Online (535 5.7.3 Authentication unsuccessful) or like Gmail (the
334 base64 JSON error challenge, then 535 after the client's empty line),
asking the provider's introspection endpoint whether the token is active.
"""

import base64
import fcntl
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
OAUTH_DIR = os.path.join(HERE, "..", "oauth")
MKCERTS = os.path.join(HERE, "..", "..", "certs", "mkcerts.sh")
SECRET = "s3cret-Ab1-" + "x" * 24        # every secret client's secret
SMTP_USER = "cms@x.test"


def cache_dir():
    d = os.environ.get("POSTERN_OIDC_CACHE")
    if d:
        return d
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "postern-tests",
                            "oidc")
    if os.geteuid() == 0:
        return "/var/cache/postern-tests/oidc"
    return os.path.join(os.path.expanduser("~"), ".cache", "postern-tests",
                        "oidc")


def install():
    """npm ci into the cache when the lock file changed; the module dir."""
    d = cache_dir()
    os.makedirs(d, exist_ok=True)
    lock = os.path.join(OAUTH_DIR, "package-lock.json")
    with open(lock, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(d, ".installed")
    with open(os.path.join(d, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)     # test programs run in parallel
        try:
            with open(stamp) as f:
                if f.read().strip() == want:
                    return d
        except OSError:
            pass
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(OAUTH_DIR, name), os.path.join(d, name))
        p = subprocess.run(["npm", "ci", "--omit=dev", "--no-audit",
                            "--no-fund", "--loglevel=error"], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        if p.returncode != 0:
            raise RuntimeError("npm ci in %s failed: %s" %
                               (d, p.stdout.decode()[-800:]))
        with open(stamp, "w") as f:
            f.write(want + "\n")
    return d


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Provider:
    def __init__(self, d=None):
        import harness
        self.d = d or harness.tmpdir()
        self.moddir = install()
        self.certs = os.path.join(self.d, "certs")
        subprocess.run(["sh", MKCERTS, self.certs], check=True)
        self.ca = os.path.join(self.certs, "ca.pem")
        self._client_cert()
        self.log = os.path.join(self.d, "provider.log")
        self.cfg = os.path.join(self.d, "provider.json")
        open(self.log, "w").close()
        self.proc = None
        self.started = False
        self._port(free_port())
        self._ctx = ssl.create_default_context(cafile=self.ca)

    def _port(self, port):
        self.port = port
        with open(self.cfg, "w") as f:
            json.dump({"port": self.port,
                       "cert": os.path.join(self.certs, "server.pem"),
                       "key": os.path.join(self.certs, "server.key"),
                       "client_jwk_pem": self.jwt_pub, "secret": SECRET,
                       "log": self.log}, f)
        self.url = "https://127.0.0.1:%d" % self.port
        self.token_url = self.url + "/token"

    def _client_cert(self):
        """private_key_jwt: an RSA key (RS256) and a certificate for it."""
        self.jwt_key = os.path.join(self.d, "jwt.key")
        self.jwt_cert = os.path.join(self.d, "jwt.pem")
        self.jwt_pub = os.path.join(self.d, "jwt.pub")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", self.jwt_key, "-subj",
                        "/CN=postern test app", "-days", "30", "-out",
                        self.jwt_cert], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        os.chmod(self.jwt_key, 0o600)
        subprocess.run(["openssl", "pkey", "-in", self.jwt_key, "-pubout",
                        "-out", self.jwt_pub], check=True)

    def start(self):
        """Start (again, on the same port); the first start picks another
        port when the free one it found was taken meanwhile."""
        for attempt in range(8):
            out = os.path.join(self.d, "provider.out")
            with open(out, "wb"):
                pass
            self.out = open(out, "ab")
            self.proc = subprocess.Popen(
                ["node", os.path.join(OAUTH_DIR, "provider.mjs"),
                 self.moddir, self.cfg], stdout=subprocess.PIPE,
                stderr=self.out)
            line = self.proc.stdout.readline()
            if line.startswith(b"listening on"):
                self.started = True
                return self
            self.stop()
            with open(out, "rb") as f:
                why = f.read()
            if b"EADDRINUSE" not in why:
                break
            if self.started:
                time.sleep(0.5)     # ours: wait for it to be free again
            else:
                self._port(free_port())
        raise RuntimeError("oidc-provider did not start: %r %r" %
                           (line, why[-800:]))

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.out.close()
            self.proc = None

    def _post(self, path, form=None, auth=None, data=b""):
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method="POST")
        if auth:
            req.add_header("Authorization", "Basic " + base64.b64encode(
                ("%s:%s" % auth).encode()).decode())
        with urllib.request.urlopen(req, context=self._ctx, timeout=20) as r:
            return r.read()

    def grants(self):
        """[(client, grant_type or "error:<code>")] in order."""
        out = []
        with open(self.log) as f:
            for line in f:
                o = json.loads(line)
                out.append((o.get("client"), o.get("grant_type") or
                            "error:%s" % o.get("error")))
        return out

    def token_requests(self, client=None):
        return len([g for g in self.grants() if client in (None, g[0])])

    def refresh_token(self):
        with urllib.request.urlopen(self.url + "/test/refresh-token",
                                    context=self._ctx, timeout=20) as r:
            return r.read().decode()

    def revoke(self, token, client):
        """RFC 7009 revocation by the token's own client (a secret
        client); True once introspection says it is no longer active."""
        self._post("/token/revocation", {"token": token,
                                         "token_type_hint": "access_token"},
                   auth=(client, SECRET))
        return not self.active(token)

    def active(self, token):
        """RFC 7662 introspection, as the SMTP server's own client."""
        r = json.loads(self._post("/token/introspection", {"token": token},
                                  auth=("smtp", SECRET)))
        return bool(r.get("active"))


def _bearer(arg):
    """(user, token) from a base64 XOAUTH2 initial response, or None."""
    try:
        raw = base64.b64decode(arg, validate=True).decode()
    except Exception:
        return None
    parts = raw.split("\x01")
    if len(parts) != 4 or parts[2:] != ["", ""] or \
            not parts[0].startswith("user=") or \
            not parts[1].startswith("auth=Bearer "):
        return None
    return parts[0][5:], parts[1][12:]


def xoauth2_smtp(prov, style="exchange", seen=None, **fake):
    """FakeSMTP keyword arguments for an XOAUTH2 server checking tokens
    with prov.  seen (a list) collects every (user, token, accepted)."""
    seen = [] if seen is None else seen

    def check(arg):
        b = _bearer(arg)
        ok = b is not None and b[0] == SMTP_USER and prov.active(b[1])
        seen.append((b[0] if b else None, b[1] if b else None, ok))
        if ok:
            return "235 2.7.0 Authentication successful"
        if style == "gmail":
            return "334 " + base64.b64encode(json.dumps(
                {"status": "400", "schemes": "Bearer",
                 "scope": "https://mail.google.com/"}).encode()).decode()
        return "535 5.7.3 Authentication unsuccessful"

    script = [check]
    if style == "gmail":
        script.append("535-5.7.8 Username and Password not accepted.\n"
                      "535 5.7.8 https://support.google.com/mail/?p=Bad")
    kw = {"caps": ["PIPELINING", "8BITMIME", "STARTTLS"],
          "tls_caps": ["AUTH XOAUTH2"],
          "tls": {"cert": os.path.join(prov.certs, "server.pem"),
                  "key": os.path.join(prov.certs, "server.key")},
          "auth": script}
    kw.update(fake)
    return kw


class FakeEndpoint:
    """A scripted token endpoint over HTTPS (the test CA's server.pem):
    each POST gets answer(body) -> (status, headers dict, body bytes), or
    None to keep silent until the client gives up.  .requests counts."""

    def __init__(self, certs, answer):
        import http.server
        import threading
        outer = self
        self.answer = answer
        self.requests = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.requests += 1
                a = outer.answer(body)
                if a is None:
                    time.sleep(30)
                    return
                status, hdrs, data = a
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs, "server.pem"),
                            os.path.join(certs, "server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.url = "https://127.0.0.1:%d/token" % \
            self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
