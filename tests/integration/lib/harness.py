# SPDX-License-Identifier: ISC (see LICENSE)
"""Helpers shared by the integration tests: the ini, running postern, and
TAP-ish reporting ("ok - name" / "not ok - name: detail") that tests/run
counts.
"""

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

_counts = {"ok": 0, "fail": 0}
_tmpdirs = []

DOMAIN = "x.test"       # [sender] domain in every default ini


def postern_path():
    p = os.environ.get("POSTERN")
    if not p:
        p = os.path.join(HERE, "..", "..", "..", "postern")
    return os.path.abspath(p)


def require_postern():
    """Stop the test program (as one failure) when there is no binary."""
    p = postern_path()
    if not os.access(p, os.X_OK):
        check("postern binary exists", False, "%s not built" % p)
        sys.exit(done())


# -- reporting -------------------------------------------------------------

def _one_line(s):
    s = s if isinstance(s, str) else repr(s)
    s = s.replace("\r", "\\r").replace("\n", "\\n")
    return s if len(s) <= 600 else s[:600] + "..."


def check(name, cond, detail=""):
    """Print one result line; return cond so callers can branch on it."""
    if cond:
        _counts["ok"] += 1
        print("ok - %s" % name, flush=True)
    else:
        _counts["fail"] += 1
        d = _one_line(detail) if detail != "" else ""
        print("not ok - %s%s" % (name, ": " + d if d else ""), flush=True)
    return bool(cond)


def check_eq(name, got, want):
    return check(name, got == want, "got %r want %r" % (got, want))


def _cleanup():
    if not os.environ.get("POSTERN_KEEP_TMP"):
        while _tmpdirs:
            shutil.rmtree(_tmpdirs.pop(), ignore_errors=True)


def done():
    """Print the count, clean up, return the exit status."""
    print("# %d passed, %d failed" % (_counts["ok"], _counts["fail"]))
    _cleanup()
    return 1 if _counts["fail"] else 0


def tmpdir():
    if not _tmpdirs:
        # Also when killed by timeout(1): SIGTERM becomes SystemExit.
        atexit.register(_cleanup)
        signal.signal(signal.SIGTERM, lambda n, f: sys.exit(128 + n))
    d = tempfile.mkdtemp(prefix="postern-test-")
    _tmpdirs.append(d)
    return d


# -- the ini ----------------------------------------------------------------

def ini_text(sections):
    """sections: {"remote": {"host": "...", ...}, ...}; values str/int."""
    out = []
    for sec, kv in sections.items():
        out.append("[%s]" % sec)
        for k, v in kv.items():
            out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out)


def default_sections(port, d, mode="remote", timeout=10):
    server = {"host": "127.0.0.1", "port": port, "timeout": timeout,
              "helo": "client.x.test"}
    return {
        "delivery": {"mode": mode},
        "local" if mode == "local" else "remote": server,
        "sender": {"domain": DOMAIN},
        "log": {"syslog": "no", "file": os.path.join(d, "postern.log")},
    }


def write_ini(d, sections=None, text=None, name="postern.ini"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text if text is not None else ini_text(sections))
    os.chmod(path, 0o600)
    return path


def merge(base, extra):
    """A copy of base with extra's sections/keys added or replaced; a value
    of None removes the key."""
    out = {k: dict(v) for k, v in base.items()}
    for sec, kv in (extra or {}).items():
        s = out.setdefault(sec, {})
        for k, v in kv.items():
            if v is None:
                s.pop(k, None)
            else:
                s[k] = v
    return out


# -- running postern --------------------------------------------------------

class Result:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs

    def __repr__(self):
        return "rc=%r stdout=%r stderr=%r (%.1fs)" % (
            self.rc, self.out[:300], self.err[:300], self.secs)


def base_env(extra=None):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
           "HOME": os.environ.get("HOME", "/root"),
           "TMPDIR": os.environ.get("TMPDIR", "/tmp")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra or {})
    return env


def sg_rc(p):
    """The exit status of a set-group-ID run.  In the sanitizer build
    (make check-asan) LeakSanitizer cannot inspect a set-group-ID process,
    which is not dumpable, and ignores ASAN_OPTIONS there: it turns the
    status into 1 and prints only its own '==PID==' lines.  postern never
    exits 1 itself, so that is the run's success."""
    if "ASAN_OPTIONS" in os.environ and p.returncode == 1 and \
            not sg_stderr(p) and \
            b"LeakSanitizer has encountered a fatal error" in p.stderr:
        return 0
    return p.returncode


def sg_stderr(p):
    """A set-group-ID run's stderr without the sanitizer's own lines."""
    if "ASAN_OPTIONS" not in os.environ:
        return p.stderr
    return b"".join(x for x in p.stderr.splitlines(True)
                    if not x.startswith(b"=="))


def run(args, stdin=b"", ini=None, env=None, timeout=60, stdout=None,
        stderr=None):
    """Run postern [-C ini] args with stdin bytes; return a Result.

    stdout/stderr may be given (e.g. subprocess.DEVNULL) to run it the
    way sudo does; then the Result holds b"" for them."""
    argv = [postern_path()]
    if ini:
        argv += ["-C", ini]
    argv += list(args)
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, input=stdin,
                           stdout=subprocess.PIPE if stdout is None else stdout,
                           stderr=subprocess.PIPE if stderr is None else stderr,
                           env=base_env(env), timeout=timeout)
        rc, out, err = p.returncode, p.stdout or b"", p.stderr or b""
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
    return Result(rc, out, err, time.monotonic() - t0)


def stderr_line_ok(res):
    """The failure contract: exactly one stderr line starting 'postern: '."""
    lines = [x for x in res.err.split(b"\n") if x]
    return len(lines) == 1 and lines[0].startswith(b"postern: ")


def quiet_success(res):
    return res.rc == 0 and res.out == b"" and res.err == b""


# -- comparing what was sent -----------------------------------------------

DATE_RE = re.compile(
    rb"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    rb"\d\d:\d\d(?::\d\d)? [+-]\d{4}(?: \(.*\))?$")
MSGID_RE = re.compile(rb"^<[^<>@\s]+@([^<>@\s]+)>$")


def split_message(data):
    """Split wire DATA into (list of (name, full_field_bytes), body).
    Folded lines stay with their field.  Line ends are kept as sent."""
    fields = []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        line = data[pos:end]
        if line in (b"\r\n", b"\n"):
            return fields, data[end:]
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + line)
        else:
            name = line.split(b":", 1)[0].strip().lower()
            fields.append((name, line))
        pos = end
    return fields, b""


def field_value(field):
    v = field.split(b":", 1)[1] if b":" in field else b""
    return v.replace(b"\r\n", b"").replace(b"\n", b"").strip()


def take_generated(data):
    """Remove the Date and Message-ID fields from DATA; return
    (rest, date_value or None, msgid_value or None)."""
    fields, body = split_message(data)
    date = msgid = None
    kept = []
    for name, f in fields:
        if name == b"date" and date is None:
            date = field_value(f)
        elif name == b"message-id" and msgid is None:
            msgid = field_value(f)
        else:
            kept.append(f)
    sep = b"\r\n" if data.find(b"\r\n") >= 0 else b"\n"
    return b"".join(kept) + sep + body, date, msgid


def crlf(s):
    """Text with LF line ends -> wire bytes with CRLF."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    return s.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def max_line(data):
    return max((len(x) for x in data.split(b"\r\n")), default=0)


# -- one run against a fake server -----------------------------------------

_queue_support = []


def queue_sections(d):
    """[queue] mode = never (and a private dir) when this postern knows the
    [queue] section, so a temporary failure gives 75 instead of being
    spooled; {} for a postern without a spool yet (it exits 75 anyway)."""
    os.makedirs(os.path.join(d, "spool"), exist_ok=True)
    if not _queue_support:
        # [remote] host: --check refuses mode = remote without one.
        probe = write_ini(d, text="[queue]\nmode = never\ndir = %s\n"
                          "[remote]\nhost = 127.0.0.1\n"
                          "[sender]\ndomain = x.test\n[log]\nsyslog = no\n"
                          % os.path.join(d, "spool"), name="probe.ini")
        r = run(["--check"], ini=probe, timeout=20)
        _queue_support.append(r.rc == 0)
    if _queue_support[0]:
        spool = os.path.join(d, "spool")
        os.makedirs(spool, exist_ok=True)
        return {"queue": {"mode": "never", "dir": spool}}
    return {}


def ini_for(port, extra=None, mode="remote", timeout=10, d=None):
    d = d or tmpdir()
    sections = merge(default_sections(port, d, mode, timeout),
                     queue_sections(d))
    return write_ini(d, merge(sections, extra)), d


def with_fake(args, stdin=b"", fake=None, ini_extra=None, mode="remote",
              timeout=10, env=None, run_timeout=60, **runkw):
    """Start a FakeSMTP(**fake), run postern against it, return
    (Result, server) once the server has seen the connection end."""
    from fakesmtp import FakeSMTP
    srv = FakeSMTP(**(fake or {})).start()
    try:
        ini, _ = ini_for(srv.port, ini_extra, mode, timeout)
        res = run(args, stdin, ini=ini, env=env, timeout=run_timeout,
                  **runkw)
        srv.wait_closed(10)
    finally:
        srv.stop()
    return res, srv
