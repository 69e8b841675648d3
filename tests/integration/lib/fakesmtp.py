# SPDX-License-Identifier: ISC (see LICENSE)
"""A scripted SMTP server on 127.0.0.1 that records the client's exact bytes
and misbehaves on demand.

In a test:

    srv = FakeSMTP(caps=["PIPELINING", "8BITMIME"], rcpt={"b@x.test":
                   "550 5.1.1 no such user"}).start()
    ... run the client against 127.0.0.1:srv.port ...
    srv.wait_closed()
    srv.raw()            # every byte the client sent, all connections
    srv.messages()       # accepted transactions: .mail, .rcpts, .data
    srv.stop()

A reply ("greeting", "ehlo", "helo", "mail", "rcpt", "data", "dot") is one
of:
    "250 ok"                 one line; "\\n" separates lines of a multi-line
                             reply given without the dashes ("250 a\\n250 b"
                             is sent as "250-a", "250 b")
    b"raw bytes"             sent exactly as given
    SILENT                   never answer; wait for the client to give up
    DROP                     close the connection instead of answering
    Endless("250")           an endless multi-line reply, "250-xxx" forever
rcpt may also be a dict {address: reply}; others get the default.

TLS (optional): tls={"cert": PEM, "key": PEM} makes STARTTLS work when
"STARTTLS" is among caps (the reply is starttls=..., default "220 2.0.0
Ready to start TLS"; only a reply starting with 220 starts the handshake;
bytes sent after it in the same reply are what a hostile server
pipelines); tls["implicit"] = True wraps each connection from the start
(SMTPS); tls["max_version"] = "1.1" makes a server that offers only TLS
1.1 (and security level 0, which OpenSSL 3 needs for it).  conn.tls_error
records a failed handshake; raw() keeps recording the decrypted bytes.

CHUNKING: with "CHUNKING" in caps, BDAT n [LAST] reads n octets (which
must end a line, as postern's do) into the transaction; the reply to the
last chunk is dot= (or "554 5.5.1 no valid recipients" without one);
conn.bdat_lines holds each BDAT line.

Concurrency: max_conns=N makes connections beyond N open at once get
over= (default "421 4.3.2 too many connections") as their greeting, or,
with over_at="mail", as the reply to every MAIL (Exchange Online's "432
4.3.2 concurrent connections limit exceeded").

AUTH (optional): auth=[reply, reply, ...] scripts the exchange: the first
reply answers the AUTH line, each next one the client's next line, until
a reply that is not 334 ends it (a "*" from the client is answered
"501 5.7.0 cancelled" and ends it too).  A reply may be a function of the
client's line (its base64 text after "AUTH MECH " or the whole answer)
returning the reply.  conn.auth_lines holds the AUTH line and every
answer, as sent.  Put "AUTH ..." in caps to offer it, or in tls_caps to
offer it only after STARTTLS (as Exchange Online and Gmail do).

Standalone (make demo):
    fakesmtp.py --port N --maildir DIR
accepts everything, writes each message to DIR/<n>.eml and prints
"listening on PORT" once ready.
"""

import argparse
import os
import socket
import ssl
import sys
import threading
import time

SILENT = object()
DROP = object()

# Ports held for a test.  The machine is shared: a port found free and
# closed again may be anyone's a moment later (another test's server, or
# the local end of some connection), and a test that expected "nothing
# listens" or that starts its server there later then fails once in a
# while.  A held port is a bound socket that does not listen: a client is
# refused, as with nothing there, and no other process gets the port.
# FakeSMTP.start(port) listens on that very socket; stop() holds the port
# again.
_held = {}


def _hold(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Only for the TIME_WAIT of connections the server closed first.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return False
    _held[port] = s
    return True


def reserve_port():
    """A port on 127.0.0.1 where nothing listens, held for this test."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    _held[port] = s
    return port


def release_port(port):
    """Give a held port up (for a server that binds it itself)."""
    s = _held.pop(port, None)
    if s is not None:
        s.close()


class Endless:
    def __init__(self, code="250", limit=64 * 1024 * 1024):
        self.code = code
        self.limit = limit      # bytes, so a broken client cannot run us dry


class Txn:
    """One mail transaction as the server saw it."""

    def __init__(self, mail_line):
        self.mail_line = mail_line          # "MAIL FROM:<a> BODY=8BITMIME"
        self.mail = _path(mail_line[10:]) if len(mail_line) > 10 else ""
        self.mail_params = _params(mail_line)
        self.rcpt_lines = []                # every RCPT line sent
        self.rcpts = []                     # addresses given a 2xx
        self.data_raw = b""                 # DATA bytes as sent, stuffed
        self.data = b""                     # unstuffed, without the dot
        self.ended = False                  # the final dot arrived
        self.accepted = False               # ... and was answered 2xx

    def __repr__(self):
        return "<Txn %s -> %s %d bytes%s>" % (
            self.mail, self.rcpts, len(self.data),
            " accepted" if self.accepted else "")


def _path(s):
    s = s.strip()
    if s.startswith("<"):
        end = s.find(">")
        return s[1:end] if end >= 0 else s[1:]
    return s.split(" ")[0]


def _params(line):
    """ESMTP parameters after the path: {"BODY": "8BITMIME", ...}."""
    rest = line
    end = line.find(">")
    if end >= 0:
        rest = line[end + 1:]
    out = {}
    for tok in rest.split():
        k, _, v = tok.partition("=")
        out[k.upper()] = v
    return out


class Conn:
    def __init__(self, sock, addr):
        self.sock = sock
        self.addr = addr
        self.raw = bytearray()   # every byte received
        self.reads = []          # each recv() result, in order
        self.commands = []       # command lines (outside DATA), no CRLF
        self.txns = []
        self.sent = bytearray()  # every byte we sent
        self.helo = None
        self.bdat_lines = []     # every BDAT line
        self.over = False        # beyond max_conns
        self.auth_lines = []     # AUTH line and answers (auth=...)
        self.tls = False         # the TLS handshake completed
        self.tls_error = None    # why it failed
        self.closed = threading.Event()


class _Lines:
    """The line source of one connection; replaced after STARTTLS, which
    throws away whatever the client sent before the handshake."""

    def __init__(self, gen):
        self.gen = gen
        self.back = []

    def __iter__(self):
        return self

    def __next__(self):
        if self.back:
            return self.back.pop()
        return next(self.gen)


def _tls_context(tls):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls["cert"], tls["key"])
    if tls.get("max_version") == "1.1":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


class FakeSMTP:
    def __init__(self, caps=None, greeting="220 fake.test ESMTP postern-test",
                 ehlo=None, helo="250 fake.test", mail="250 2.1.0 ok",
                 rcpt="250 2.1.5 ok", data="354 go ahead",
                 dot="250 2.0.0 queued", drop_in_data=None,
                 ehlo_split=False, idle_timeout=60, on_message=None,
                 tls=None, starttls="220 2.0.0 Ready to start TLS",
                 auth=None, max_conns=None,
                 over="421 4.3.2 too many connections", over_at="greeting",
                 tls_caps=None):
        self.tls_caps = list(tls_caps or [])  # offered once TLS is up
        self.caps = ["PIPELINING", "8BITMIME"] if caps is None else list(caps)
        self.replies = {"greeting": greeting, "ehlo": ehlo, "helo": helo,
                        "mail": mail, "rcpt": rcpt, "data": data, "dot": dot}
        self.drop_in_data = drop_in_data    # close after this many DATA bytes
        self.ehlo_split = ehlo_split        # send EHLO lines one by one
        self.idle_timeout = idle_timeout
        self.on_message = on_message
        self.replies["starttls"] = starttls
        self.auth = auth                    # the AUTH script, or None
        self.max_conns = max_conns
        self.over = over
        self.over_at = over_at
        self.active = 0                     # connections open now
        self.peak = 0                       # the most open at once
        self.tls_ctx = _tls_context(tls) if tls else None
        self.implicit_tls = bool(tls and tls.get("implicit"))
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.lsock = None
        self.port = None
        self.threads = []

    # -- life cycle ----------------------------------------------------

    def start(self, port=0):
        self.held = port in _held
        if self.held:
            self.lsock = _held.pop(port)
        else:
            self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stopping.set()
        for t in list(self.threads):
            t.join(timeout=5)
        if self.lsock:
            self.lsock.close()
            self.lsock = None
            # A later start(port) in the same test finds it again.
            if getattr(self, "held", False):
                _hold(self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                s, addr = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c = Conn(s, addr)
            with self.lock:
                self.conns.append(c)
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self.threads.append(t)

    # -- what the client did -------------------------------------------

    def wait_closed(self, timeout=10):
        """Wait until every connection so far has ended."""
        deadline = time.monotonic() + timeout
        for c in list(self.conns):
            left = deadline - time.monotonic()
            if left <= 0 or not c.closed.wait(left):
                return False
        return True

    def raw(self):
        return b"".join(bytes(c.raw) for c in self.conns)

    def reads(self):
        return [r for c in self.conns for r in c.reads]

    def commands(self):
        return [cmd for c in self.conns for cmd in c.commands]

    def transactions(self):
        return [t for c in self.conns for t in c.txns]

    def messages(self):
        """Transactions whose final dot got a 2xx: what was delivered."""
        return [t for t in self.transactions() if t.accepted]

    # -- the dialogue --------------------------------------------------

    def _send(self, c, data):
        c.sent += data
        c.sock.sendall(data)

    def _reply(self, c, reply):
        """Send a reply; False when the connection must end."""
        if reply is DROP:
            return False
        if reply is SILENT:
            self._wait_for_close(c)
            return False
        if isinstance(reply, Endless):
            line = ("%s-%s\r\n" % (reply.code, "x" * 70)).encode()
            sent = 0
            try:
                while sent < reply.limit and not self.stopping.is_set():
                    self._send(c, line * 64)
                    sent += len(line) * 64
            except OSError:
                pass
            return False
        if isinstance(reply, bytes):
            self._send(c, reply)
            return True
        lines = reply.split("\n")
        out = []
        for i, ln in enumerate(lines):
            code, text = ln[:3], ln[4:]
            sep = " " if i == len(lines) - 1 else "-"
            out.append("%s%s%s\r\n" % (code, sep, text))
        self._send(c, "".join(out).encode("utf-8"))
        return True

    def _wait_for_close(self, c):
        c.sock.settimeout(0.2)
        deadline = time.monotonic() + self.idle_timeout
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                b = c.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not b:
                return
            c.raw += b
            c.reads.append(b)

    def _ehlo_reply(self, c=None):
        if self.replies["ehlo"] is not None:
            return self.replies["ehlo"]
        caps = self.caps + (self.tls_caps if c is not None and c.tls else [])
        return "\n".join(["250 fake.test greets you"] +
                         ["250 " + cap for cap in caps])

    def _size_limit(self):
        for cap in self.caps:
            p = cap.split()
            if p[0].upper() == "SIZE" and len(p) > 1 and p[1] != "0":
                return int(p[1])
        return None

    def _has(self, cap):
        return any(x.split()[0].upper() == cap for x in self.caps)

    def _handshake(self, c):
        """TLS on c.sock; False (and c.tls_error) when it fails."""
        c.sock.settimeout(10)
        try:
            c.sock = self.tls_ctx.wrap_socket(c.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            c.tls_error = str(e)
            return False
        c.tls = True
        return True

    def _serve(self, c):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            c.over = self.max_conns is not None and \
                self.active > self.max_conns
        try:
            if not self.implicit_tls or self._handshake(c):
                self._dialogue(c)
        except (OSError, ConnectionError):
            pass
        finally:
            try:
                c.sock.close()
            except OSError:
                pass
            with self.lock:
                self.active -= 1
            c.closed.set()

    def _lines(self, c):
        """Yield received lines (with their line end) and record reads."""
        c.sock.settimeout(0.2)
        buf = b""
        idle = time.monotonic()
        while not self.stopping.is_set():
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line, buf = buf[:nl + 1], buf[nl + 1:]
                yield line
            try:
                b = c.sock.recv(65536)
            except socket.timeout:
                if time.monotonic() - idle > self.idle_timeout:
                    return
                continue
            if not b:
                if buf:
                    yield buf      # a last line without line end
                return
            idle = time.monotonic()
            c.raw += b
            c.reads.append(b)
            buf += b

    def _dialogue(self, c):
        if c.over and self.over_at == "greeting":
            self._reply(c, self.over)
            return
        if not self._reply(c, self.replies["greeting"]):
            return
        lines = _Lines(self._lines(c))
        txn = None
        for raw in lines:
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            c.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                if self.ehlo_split and self.replies["ehlo"] is None:
                    text = self._ehlo_reply(c).split("\n")
                    for i, ln in enumerate(text):
                        sep = " " if i == len(text) - 1 else "-"
                        self._send(c, ("%s%s%s\r\n" % (ln[:3], sep, ln[4:]))
                                   .encode())
                        time.sleep(0.05)
                    ok = True
                else:
                    ok = self._reply(c, self._ehlo_reply(c))
                c.helo = line
                if not ok:
                    return
            elif verb == "HELO":
                c.helo = line
                if not self._reply(c, self.replies["helo"]):
                    return
            elif verb == "MAIL":
                txn = Txn(line)
                c.txns.append(txn)
                r = self.replies["mail"]
                if c.over and self.over_at == "mail":
                    r = self.over
                limit = self._size_limit()
                size = txn.mail_params.get("SIZE")
                if r == "250 2.1.0 ok":
                    if limit and size and size.isdigit() and int(size) > limit:
                        r = "552 5.3.4 message size exceeds fixed limit"
                    elif "SMTPUTF8" in txn.mail_params and \
                            not self._has("SMTPUTF8"):
                        r = "555 5.5.4 SMTPUTF8 not supported"
                    elif not txn.mail.isascii() and \
                            "SMTPUTF8" not in txn.mail_params:
                        r = "553 5.6.7 non-ASCII address needs SMTPUTF8"
                if not self._reply(c, r):
                    return
                if not (isinstance(r, str) and r.startswith("2")):
                    txn = None
            elif verb == "RCPT":
                addr = _path(line[8:]) if len(line) > 8 else ""
                if txn is None:
                    if not self._reply(c, "503 5.5.1 need MAIL first"):
                        return
                    continue
                txn.rcpt_lines.append(line)
                r = self.replies["rcpt"]
                if isinstance(r, dict):
                    r = r.get(addr, r.get(None, "250 2.1.5 ok"))
                if isinstance(r, str) and r.startswith("2") and \
                        not addr.isascii() and \
                        "SMTPUTF8" not in txn.mail_params:
                    r = "553 5.6.7 non-ASCII address needs SMTPUTF8"
                if isinstance(r, str) and r.startswith("2"):
                    txn.rcpts.append(addr)
                if not self._reply(c, r):
                    return
            elif verb == "DATA":
                if txn is None or not txn.rcpts:
                    if not self._reply(c, "554 5.5.1 no valid recipients"):
                        return
                    continue
                r = self.replies["data"]
                if not self._reply(c, r):
                    return
                if not (isinstance(r, str) and r.startswith("354")):
                    txn = None
                    continue
                if not self._read_data(c, txn, lines):
                    return
                txn = None
            elif verb == "BDAT" and self._has("CHUNKING"):
                if not self._bdat(c, txn, line, lines):
                    return
                if line.upper().endswith(" LAST"):
                    txn = None
            elif verb == "RSET":
                txn = None
                self._reply(c, "250 2.0.0 ok")
            elif verb == "STARTTLS" and self._has("STARTTLS") and \
                    not c.tls:
                r = self.replies["starttls"]
                if not self._reply(c, r):
                    return
                start = r if isinstance(r, bytes) else r.encode()
                if self.tls_ctx is None or not start.startswith(b"220"):
                    continue
                if not self._handshake(c):
                    return
                lines.gen = self._lines(c)
                txn = None
            elif verb == "AUTH" and self.auth is not None:
                if not self._auth(c, line, lines):
                    return
            elif verb == "NOOP":
                self._reply(c, "250 2.0.0 ok")
            elif verb == "QUIT":
                self._reply(c, "221 2.0.0 bye")
                return
            else:
                self._reply(c, "500 5.5.2 unknown command")

    def _auth(self, c, line, lines):
        """Play the AUTH script; False when the connection must end."""
        c.auth_lines.append(line)
        arg = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        for r in self.auth:
            if callable(r):
                r = r(arg)
            if not self._reply(c, r):
                return False
            if not (isinstance(r, str) and r.startswith("334")):
                return True
            try:
                raw = next(lines)
            except StopIteration:
                return False
            arg = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            c.auth_lines.append(arg)
            c.commands.append("<auth answer>")
            if arg == "*":
                return self._reply(c, "501 5.7.0 cancelled")
        return True

    def _bdat(self, c, txn, line, lines):
        """One chunk: n octets, then the reply; False to end."""
        c.bdat_lines.append(line)
        parts = line.split()
        n = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        last = len(parts) > 2 and parts[2].upper() == "LAST"
        raw = b""
        while len(raw) < n:
            try:
                raw += next(lines)
            except StopIteration:
                return False
        if len(raw) > n:        # a command right after the chunk
            lines.back.append(raw[n:])
            raw = raw[:n]
        if txn is None or not txn.rcpts:
            return self._reply(c, "554 5.5.1 no valid recipients")
        txn.data_raw += raw
        txn.data += raw
        if not last:
            return self._reply(c, "250 2.0.0 chunk ok")
        txn.ended = True
        r = self.replies["dot"]
        if isinstance(r, str) and r.startswith("2"):
            txn.accepted = True
            if self.on_message:
                self.on_message(txn)
        return self._reply(c, r)

    def _read_data(self, c, txn, lines):
        raw = bytearray()
        body = bytearray()
        for line in lines:
            if line == b".\r\n":
                txn.ended = True
                break
            raw += line
            body += line[1:] if line.startswith(b".") else line
            if self.drop_in_data is not None and \
                    len(raw) >= self.drop_in_data:
                txn.data_raw, txn.data = bytes(raw), bytes(body)
                return False
        txn.data_raw, txn.data = bytes(raw), bytes(body)
        if not txn.ended:
            return False
        r = self.replies["dot"]
        limit = self._size_limit()
        if r == "250 2.0.0 queued" and limit and len(body) > limit:
            r = "552 5.3.4 message size exceeds fixed limit"
        if isinstance(r, str) and r.startswith("2"):
            txn.accepted = True
            if self.on_message:
                self.on_message(txn)
        return self._reply(c, r)


def main(argv):
    ap = argparse.ArgumentParser(description="accept-everything SMTP sink")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--caps", default="PIPELINING,8BITMIME,SIZE 52428800,"
                    "ENHANCEDSTATUSCODES")
    a = ap.parse_args(argv[1:])
    os.makedirs(a.maildir, exist_ok=True)
    count = [0]
    lock = threading.Lock()

    def store(txn):
        with lock:
            count[0] += 1
            n = count[0]
        path = os.path.join(a.maildir, "%d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(txn.data)
        os.rename(path + ".tmp", path)
        sys.stderr.write("fakesmtp: %s from <%s> to %s, %d bytes\n" % (
            path, txn.mail, ", ".join("<%s>" % r for r in txn.rcpts),
            len(txn.data)))

    srv = FakeSMTP(caps=[x for x in a.caps.split(",") if x],
                   on_message=store, idle_timeout=300)
    srv.start(a.port)
    print("listening on %d" % srv.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
