# SPDX-License-Identifier: ISC (see LICENSE)
"""A private MIT Kerberos realm on loopback, for integration tests.

Everything lives under one temporary directory: the KDC's profile
(KRB5_KDC_PROFILE), the clients' krb5.conf (KRB5_CONFIG), the database
made at start with kdb5_util, keytabs, credential caches and the KDC's
log.  The system's /etc/krb5.conf and /etc/krb5kdc are never read nor
written.  Needs root only for what Postfix needs (keytab owners).

    with PrivateKDC() as kdc:              # krb5kdc answering
        kdc.env                            # KRB5_CONFIG, KRB5_KDC_PROFILE
        kt = kdc.addprinc("alice")         # random key, exported to a keytab
        kdc.addprinc("smtp/localhost", keytab=path)
        kdc.kinit("alice", kt, ccache)     # a credential cache, as kinit does

The krb5.conf follows what a test needs to be deterministic: no DNS
(dns_canonicalize_hostname = false, rdns = false, no KDC lookup), and
the default client keytab and ccache inside the directory, so MIT never
falls back to /var/lib/krb5/user/UID/client.keytab or /tmp/krb5cc_UID.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

REALM = "POSTERN.TEST"

KDC_CONF = """\
[kdcdefaults]
 kdc_ports = {port}
 kdc_tcp_ports = {port}

[realms]
 {realm} = {{
  database_name = {base}/principal
  key_stash_file = {base}/stash
  acl_file = {base}/kadm5.acl
  max_life = 10h 0m 0s
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }}

[logging]
 kdc = FILE:{base}/kdc.log
"""

KRB5_CONF = """\
[libdefaults]
 default_realm = {realm}
 dns_lookup_kdc = false
 dns_lookup_realm = false
 dns_canonicalize_hostname = false
 rdns = false
 default_ccache_name = FILE:{base}/ccache.default
 default_client_keytab_name = FILE:{base}/client.default.keytab
 default_keytab_name = FILE:{base}/default.keytab

[realms]
 {realm} = {{
  kdc = 127.0.0.1:{port}
 }}

[domain_realm]
 localhost = {realm}
"""

KDB5_UTIL = "/usr/sbin/kdb5_util"
KADMIN_LOCAL = "/usr/sbin/kadmin.local"
KRB5KDC = "/usr/sbin/krb5kdc"
KINIT = "/usr/bin/kinit"


class KDCError(Exception):
    pass


def _free_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise KDCError("no free port")


def available():
    """The programs the realm needs, or the first one missing."""
    for p in (KDB5_UTIL, KADMIN_LOCAL, KRB5KDC, KINIT):
        if not os.access(p, os.X_OK):
            return p
    return None


class PrivateKDC:
    def __init__(self, realm=REALM):
        self.realm = realm
        self.base = tempfile.mkdtemp(prefix="postern-kdc-",
                                     dir="/tmp" if os.path.isdir("/tmp")
                                     else None)
        os.chmod(self.base, 0o755)   # Postfix's smtpd reads krb5.conf
        self.port = _free_port()
        self.krb5_conf = os.path.join(self.base, "krb5.conf")
        self.kdc_conf = os.path.join(self.base, "kdc.conf")
        self.env = {"KRB5_CONFIG": self.krb5_conf,
                    "KRB5_KDC_PROFILE": self.kdc_conf}
        self.proc = None

    def _run(self, argv, what, input=None):
        env = dict(os.environ)
        env.update(self.env)
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, timeout=60)
        if p.returncode != 0:
            raise KDCError("%s failed (%d): %s" % (
                what, p.returncode, p.stdout.decode("utf-8", "replace")))
        return p.stdout.decode("utf-8", "replace")

    def start(self, wait=20.0):
        fmt = {"realm": self.realm, "base": self.base, "port": self.port}
        with open(self.kdc_conf, "w") as f:
            f.write(KDC_CONF.format(**fmt))
        with open(self.krb5_conf, "w") as f:
            f.write(KRB5_CONF.format(**fmt))
        os.chmod(self.krb5_conf, 0o644)
        open(os.path.join(self.base, "kadm5.acl"), "w").close()
        self._run([KDB5_UTIL, "create", "-s", "-r", self.realm, "-P",
                   "master-" + os.urandom(8).hex()], "kdb5_util create")
        env = dict(os.environ)
        env.update(self.env)
        self.proc = subprocess.Popen(
            [KRB5KDC, "-n", "-r", self.realm], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.base, "krb5kdc.err"), "wb"))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise KDCError("krb5kdc did not answer on port %d: %s" % (
            self.port, self.log_tail()))

    def log_tail(self, n=20):
        out = []
        for name in ("krb5kdc.err", "kdc.log"):
            try:
                with open(os.path.join(self.base, name), "rb") as f:
                    out += f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                pass
        return "\n".join(out[-n:])

    def kadmin(self, query):
        return self._run([KADMIN_LOCAL, "-r", self.realm, "-q", query],
                         "kadmin.local " + query)

    def principal(self, name):
        return name if "@" in name else "%s@%s" % (name, self.realm)

    def addprinc(self, name, keytab=None):
        """A principal with a random key, exported to keytab (default
        DIR/<name>.keytab); returns the keytab's path."""
        if keytab is None:
            keytab = os.path.join(self.base,
                                  name.replace("/", "_") + ".keytab")
        self.kadmin("addprinc -randkey %s" % self.principal(name))
        self.ktadd(name, keytab)
        os.chmod(keytab, 0o600)
        return keytab

    def ktadd(self, name, keytab, keep=False):
        """Export name's keys to keytab.  Unless keep, this gives it a
        new key (and version), so keytabs exported before hold the
        wrong one; keep exports the key it has (kadmin.local only)."""
        self.kadmin("ktadd -k %s %s%s" % (keytab, "-norandkey " if keep
                                          else "", self.principal(name)))

    def kinit(self, name, keytab, ccache):
        self._run([KINIT, "-k", "-t", keytab, "-c", ccache,
                   self.principal(name)], "kinit " + name)

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if not os.environ.get("POSTERN_KEEP_TMP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
