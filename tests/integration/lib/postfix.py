# SPDX-License-Identifier: ISC (see LICENSE)
"""A private Postfix instance on loopback, for integration tests.

Everything lives under one temporary directory: its own config_directory
(main.cf, master.cf), queue_directory, data_directory, maillog_file and the
Maildir that the virtual(8) agent delivers to.  The system's /etc/postfix is
never read (beyond the packaged meta files) nor written.  Needs root, since
`postfix start` does.

    with PrivatePostfix() as pf:          # started, port answering
        ... connect to 127.0.0.1:pf.port, mail to anyone@example.test
        msgs = pf.wait_messages(1)        # Maildir files, as bytes

With TLS (certificates from tests/certs/mkcerts.sh):

    pf = PrivatePostfix(tls={"cert": ".../server.pem", "key": ".../server.key",
                             "listeners": {"expired": {"cert": ..., "key": ...,
                                                       "wrapper": False}}})
    pf.port             plain SMTP, no STARTTLS (as without tls)
    pf.submission_port  STARTTLS offered (smtpd_tls_security_level = may)
    pf.smtps_port       TLS from the first byte (smtpd_tls_wrappermode)
    pf.tls_ports[name]  one more listener per entry, with its own
                        certificate: STARTTLS, or SMTPS with "wrapper"

With SASL (Cyrus, users in a private sasldb; smtpd offers AUTH on every
listener, also without TLS):

    pf = PrivatePostfix(sasl={"users": {"alice": "secret"}})
    optional keys: "realm" (default SASL_REALM), "mechs" (default
    "PLAIN LOGIN NTLM CRAM-MD5"), "gssapi" (below)

With Kerberos (Cyrus's GSSAPI plugin; kdc.py makes the realm):

    pf = PrivatePostfix(sasl={"mechs": "GSSAPI PLAIN",
                              "gssapi": {"keytab": ".../smtp.keytab",
                                         "env": kdc.env}})
    smtpd reads its service key from the keytab (KRB5_KTNAME) and the
    realm from env's KRB5_CONFIG, both passed by import_environment;
    myhostname becomes localhost, the name clients use in smtp/localhost.

Standalone: postfix.py start  (prints "port N dir D", leaves it running)
            postfix.py stop D
"""

import atexit
import os
import pwd
import signal
import threading
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DOMAIN = "example.test"
POSTFIX = "/usr/sbin/postfix"

# Every service Postfix needs to accept, queue and deliver locally; no
# chroot (the packaged master.cf chroots most services into the queue dir).
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {queue}
data_directory = {data}
maillog_file = {maillog}
maillog_file_prefixes = {base}
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $mydomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relayhost =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = {domain}
virtual_transport = virtual
virtual_mailbox_base = {mail}
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
message_size_limit = 52428800
smtpd_banner = $myhostname ESMTP
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = yes
biff = no
append_dot_mydomain = no
readme_directory = no
shlib_directory = /usr/lib/postfix
# Deliver at once, and do not let a failed test leave retries behind.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
in_flow_delay = 0
smtpd_error_sleep_time = 0
# Never touch the headers of what postern sends: the tests compare them.
local_header_rewrite_clients =
"""


# Appended to main.cf when the instance has TLS; the plain port keeps
# security level none (no STARTTLS), the TLS listeners override it.
TLS_MAIN_CF = """\
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = none
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database = btree:{data}/smtpd_scache
smtpd_tls_session_cache_timeout = 3600s
tls_random_source = dev:/dev/urandom
"""


def _tls_listener(port, wrapper, cert=None, key=None):
    """One master.cf smtpd line offering STARTTLS, or SMTPS (wrapper)."""
    line = "127.0.0.1:%d inet n - n - - smtpd" % port
    if wrapper:
        line += ("\n  -o smtpd_tls_wrappermode=yes"
                 "\n  -o smtpd_tls_security_level=encrypt")
    else:
        line += "\n  -o smtpd_tls_security_level=may"
    if cert:
        line += "\n  -o smtpd_tls_cert_file=%s\n  -o smtpd_tls_key_file=%s" \
            % (cert, key)
    return line + "\n"


SASL_REALM = "EXAMPLE"
SASL_MECHS = "PLAIN LOGIN NTLM CRAM-MD5"

# Appended to main.cf with sasl: Cyrus SASL reading {etc}/sasl/smtpd.conf.
SASL_MAIN_CF = """\
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {sasl_dir}
smtpd_sasl_local_domain = {realm}
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
"""

SASL_SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {db}
mech_list: {mechs}
"""


def free_port():
    """A port free now (for a caller that retries when it is taken before
    its own bind, as lib/bd.py does)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _held_port():
    """A port held until Postfix binds it (fakesmtp.reserve_port): the
    machine is shared, and a port found free and closed again may be
    someone else's by the time Postfix starts."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fakesmtp import reserve_port
    return reserve_port()


def _release(ports):
    from fakesmtp import release_port
    for p in ports:
        release_port(p)


def _port_answers(port, timeout=1.0):
    """True when something on 127.0.0.1:port sends a 220 greeting."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = s.recv(512)
            try:
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            return data.startswith(b"220")
    except OSError:
        return False


def _mkbase():
    """A fresh directory that Postfix's unprivileged daemons can reach:
    under /tmp, not $TMPDIR, which may sit below a 0700 home."""
    return tempfile.mkdtemp(prefix="postern-pf-",
                            dir="/tmp" if os.path.isdir("/tmp") else None)


class PostfixError(Exception):
    pass


_instances = []


def _stop_all():
    for pf in list(_instances):
        pf.stop()


def _stop_on_signals(pf):
    """Stop the instance even when the test is killed by timeout(1) or ^C:
    turn SIGTERM/SIGHUP into SystemExit so finally blocks run, and stop
    at exit as a last resort."""
    if not _instances:
        atexit.register(_stop_all)
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, lambda n, f: sys.exit(128 + n))
    _instances.append(pf)


class PrivatePostfix:
    def __init__(self, base=None, port=None, tls=None, sasl=None):
        self.tls = tls
        self.sasl = sasl
        self.submission_port = self.smtps_port = None
        self.tls_ports = {}
        self.given_port = port
        self._pick_ports()
        self.owned_base = base is None
        self.base = base or _mkbase()
        self.etc = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "queue")
        self.data = os.path.join(self.base, "data")
        self.mail = os.path.join(self.base, "mail")
        self.maillog = os.path.join(self.base, "maillog")
        self.maildir = os.path.join(self.mail, "box")
        self.started = False
        self.start_seconds = None

    def _pick_ports(self):
        if self.tls:
            self.submission_port = _held_port()
            self.smtps_port = _held_port()
            for name in self.tls.get("listeners", {}):
                self.tls_ports[name] = _held_port()
        self.port = self.given_port or _held_port()

    def _ports(self):
        return [p for p in [self.port, self.submission_port,
                            self.smtps_port] + list(self.tls_ports.values())
                if p]

    # -- setup ---------------------------------------------------------

    def _write_config(self):
        if os.geteuid() != 0:
            raise PostfixError("a private Postfix needs root")
        if not os.access(POSTFIX, os.X_OK):
            raise PostfixError("%s not installed (tests/deps.sh)" % POSTFIX)
        pf = pwd.getpwnam("postfix")
        try:
            nobody = pwd.getpwnam("nobody")
            uid, gid = nobody.pw_uid, nobody.pw_gid
        except KeyError:
            uid, gid = pf.pw_uid, pf.pw_gid
        # Postfix's daemons (user postfix) must traverse every component.
        os.chmod(self.base, 0o755)
        for d in (self.etc, self.queue, self.mail):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        os.makedirs(self.data, exist_ok=True)
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        os.chmod(self.data, 0o700)
        os.chown(self.mail, uid, gid)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(etc=self.etc, queue=self.queue,
                                   data=self.data, maillog=self.maillog,
                                   mail=self.mail, domain=DOMAIN, base=self.base,
                                   uid=uid, gid=gid))
            if self.tls:
                f.write(TLS_MAIN_CF.format(cert=self.tls["cert"],
                                           key=self.tls["key"],
                                           data=self.data))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="127.0.0.1:%d" % self.port))
            if self.tls:
                f.write(_tls_listener(self.submission_port, False))
                f.write(_tls_listener(self.smtps_port, True))
                for name, lt in self.tls.get("listeners", {}).items():
                    f.write(_tls_listener(self.tls_ports[name],
                                          lt.get("wrapper", False),
                                          lt["cert"], lt["key"]))
        # The packaged dynamic map registry; without it Postfix warns.
        dm = "/etc/postfix/dynamicmaps.cf"
        if os.path.exists(dm):
            shutil.copy(dm, os.path.join(self.etc, "dynamicmaps.cf"))
        self.uid, self.gid = uid, gid
        if self.sasl:
            self._write_sasl(pf)

    def _write_sasl(self, pf):
        """Users in a private sasldb (readable by smtpd, which runs as
        postfix) and the Cyrus config that points at it."""
        realm = self.sasl.get("realm", SASL_REALM)
        sasl_dir = os.path.join(self.etc, "sasl")
        os.makedirs(sasl_dir, exist_ok=True)
        os.chmod(sasl_dir, 0o755)
        self.sasldb = os.path.join(sasl_dir, "sasldb2")
        for user, password in self.sasl.get("users", {}).items():
            p = subprocess.run(["saslpasswd2", "-p", "-c", "-f", self.sasldb,
                                "-u", realm, user],
                               input=password.encode("utf-8"),
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            if p.returncode != 0:
                raise PostfixError("saslpasswd2 %s failed: %s" % (
                    user, p.stdout.decode("utf-8", "replace")))
        if os.path.exists(self.sasldb):
            os.chown(self.sasldb, pf.pw_uid, pf.pw_gid)
            os.chmod(self.sasldb, 0o600)
        with open(os.path.join(sasl_dir, "smtpd.conf"), "w") as f:
            f.write(SASL_SMTPD_CONF.format(
                db=self.sasldb, mechs=self.sasl.get("mechs", SASL_MECHS)))
        with open(os.path.join(self.etc, "main.cf"), "a") as f:
            f.write(SASL_MAIN_CF.format(sasl_dir=sasl_dir, realm=realm))
            if self.sasl.get("gssapi"):
                f.write(self._gssapi_main_cf(pf, self.sasl["gssapi"]))
        if self.sasl.get("gssapi"):
            self._set_main_cf("myhostname", "localhost")

    def _set_main_cf(self, key, value):
        """Replace one main.cf setting in place (Postfix warns about a
        second entry)."""
        path = os.path.join(self.etc, "main.cf")
        with open(path) as f:
            lines = f.read().splitlines()
        lines = ["%s = %s" % (key, value) if l.split("=")[0].strip() == key
                 else l for l in lines]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    @staticmethod
    def _gssapi_main_cf(pf, g):
        """Kerberos for smtpd (user postfix): its keytab and krb5.conf
        through import_environment; no replay cache left behind."""
        os.chown(g["keytab"], pf.pw_uid, pf.pw_gid)
        os.chmod(g["keytab"], 0o600)
        env = ["MAIL_CONFIG", "MAIL_DEBUG", "MAIL_LOGTAG", "TZ", "LANG=C",
               "POSTLOG_SERVICE=postlog",
               "POSTLOG_HOSTNAME=$myhostname",
               "KRB5_KTNAME=FILE:%s" % g["keytab"],
               "KRB5RCACHETYPE=none"]
        env += ["%s=%s" % kv for kv in sorted(g.get("env", {}).items())]
        return "import_environment = %s\n" % " ".join(env)

    def _postfix(self, *args, check=True, timeout=60):
        env = dict(os.environ)
        env.pop("MAIL_CONFIG", None)
        p = subprocess.run([POSTFIX, "-c", self.etc] + list(args),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env,
                           timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise PostfixError("postfix %s failed (%d): %s\n%s" % (
                " ".join(args), p.returncode, out.strip(), self.log_tail()))
        return out

    def log_tail(self, n=30):
        try:
            with open(self.maillog, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no maillog)"

    def start(self, wait=30.0):
        t0 = time.monotonic()
        _stop_on_signals(self)
        # The held ports are let go just before Postfix binds them; in the
        # moment between, another process may still take one, and the
        # master then dies (its "Address already in use" does not always
        # reach the log): start again on other ports, three times at most.
        for attempt in range(3):
            if self._start_once(t0, wait):
                return self
            self._stop_master()
            if self.given_port:
                break
            self._pick_ports()
        tail = self.log_tail()
        self.stop()
        if getattr(self, "start_error", None) is not None:
            raise self.start_error
        raise PostfixError("private Postfix did not answer on port %d "
                           "within %.0fs\n%s" % (self.port, wait, tail))

    def _port_lost(self):
        """The master could not bind a port (this attempt's log only)."""
        try:
            with open(self.maillog, "rb") as f:
                f.seek(self.log_mark)
                return b"Address already in use" in f.read()
        except OSError:
            return False

    def _start_once(self, t0, wait):
        self.start_error = None
        try:
            self.log_mark = os.path.getsize(self.maillog)
        except OSError:
            self.log_mark = 0
        self._write_config()
        _release(self._ports())
        # `postfix start` creates the queue directories itself (post-install
        # create-missing).  Only if that fails, fix owners and modes with
        # set-permissions and try once more; warnings (e.g. about /tmp's
        # permissions) are expected and not fatal.
        # A port lost to another process makes `postfix start` fail too.
        self.started = True
        try:
            self._postfix("start")
        except PostfixError:
            self._postfix("set-permissions", check=False)
            try:
                self._postfix("start")
            except PostfixError as e:
                self.start_error = e
                return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _port_answers(self.port) and all(
                    _port_answers(p) for p in self._greeting_ports()):
                self.start_seconds = time.monotonic() - t0
                return True
            if self._port_lost():
                return False
            time.sleep(0.1)
        return False

    def _greeting_ports(self):
        """The TLS listeners that greet in clear text (STARTTLS)."""
        if not self.tls:
            return []
        return [self.submission_port] + [
            self.tls_ports[n] for n, lt in self.tls.get("listeners",
                                                        {}).items()
            if not lt.get("wrapper")]

    def _stop_master(self):
        if self.started:
            try:
                self._postfix("stop", check=False)
            except (OSError, subprocess.SubprocessError):
                pass
            self._wait_master_gone()
            self.started = False

    def stop(self):
        self._stop_master()
        _release(self._ports())
        if self in _instances:
            _instances.remove(self)
        if self.owned_base and not os.environ.get("POSTERN_KEEP_TMP"):
            shutil.rmtree(self.base, ignore_errors=True)

    def _wait_master_gone(self, wait=10.0):
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        # Our own master process, found by its pid file: make sure it dies.
        try:
            self._postfix("abort", check=False)
        except (OSError, subprocess.SubprocessError):
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- what arrived --------------------------------------------------

    def message_files(self):
        new = os.path.join(self.maildir, "new")
        try:
            names = sorted(os.listdir(new))
        except OSError:
            return []
        return [os.path.join(new, n) for n in names]

    def take_messages(self):
        """Return the delivered messages (bytes) and remove them."""
        out = []
        for p in self.message_files():
            with open(p, "rb") as f:
                out.append(f.read())
            os.unlink(p)
        return out

    def wait_messages(self, n, timeout=20.0):
        """Wait for n delivered messages; return (and remove) them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.message_files()) >= n:
                return self.take_messages()
            time.sleep(0.05)
        return self.take_messages()


def strip_added_headers(msg):
    """Remove the trace headers Postfix prepends on delivery."""
    drop = (b"return-path:", b"delivered-to:", b"received:",
            b"x-original-to:")
    lines = msg.split(b"\n")
    i = 0
    out_start = 0
    # The added headers are on top; each may be folded.
    while i < len(lines):
        line = lines[i]
        if line.lower().startswith(drop):
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                i += 1
            out_start = i
            continue
        break
    return b"\n".join(lines[out_start:])


def main(argv):
    if len(argv) >= 2 and argv[1] == "start":
        pf = PrivatePostfix(base=_mkbase())
        pf.owned_base = False
        pf.start()
        _instances.remove(pf)   # leave it running: "stop DIR" ends it
        print("port %d dir %s (%.2fs)" % (pf.port, pf.base, pf.start_seconds))
        return 0
    if len(argv) == 3 and argv[1] == "stop":
        pf = PrivatePostfix(base=argv[2])
        pf.owned_base = False
        pf.started = True
        pf.stop()
        return 0
    sys.stderr.write("usage: postfix.py start | stop DIR\n")
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
