# SPDX-License-Identifier: ISC (see LICENSE)
"""The local SMTP service benchmark (issue 16), run by bench/bd.sh.

postern -bd on a loopback port relays to a loopback smtp-sink:
  1. sessions per second: BENCH_BD_SESSIONS sessions, each one small
     message (EHLO, MAIL, RCPT, DATA, QUIT), from BENCH_BD_CLIENTS
     clients at once; and sessions that only say QUIT;
  2. memory per session: 20 idle sessions (max_sessions), the resident
     set (RSS) and proportional set (PSS: shared pages divided among the
     processes that share them) of each session process; and the peak
     RSS of a session that received a 10 MiB message (the data goes to a
     file, so it stays the same whatever the size).
Nothing is asserted about speed: the figures are printed and appended
to bench/results.md.  The exit status is non-zero only when a message
was not accepted.

    bd.py POSTERN TMPDIR RESULTS_MD
"""

import concurrent.futures
import os
import pwd
import socket
import statistics
import subprocess
import sys
import time

SINK = os.environ.get("SMTP_SINK", "/usr/sbin/smtp-sink")
SESSIONS = int(os.environ.get("BENCH_BD_SESSIONS", "2000"))
CLIENTS = int(os.environ.get("BENCH_BD_CLIENTS", "4"))
MSG = (b"From: bench@x.test\r\nTo: sink@x.test\r\nSubject: bd\r\n\r\n"
       + b"a small message for the -bd benchmark\r\n" * 5)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def reply(self):
        while True:
            nl = self.buf.find(b"\r\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 2:]
                if line[3:4] != b"-":
                    return int(line[:3])
                continue
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def cmd(self, data):
        self.s.sendall(data)
        return self.reply()

    def close(self):
        self.s.close()


def one_session(port, with_message=True):
    c = Conn(port)
    try:
        if c.reply() != 220:
            return False
        if not with_message:
            return c.cmd(b"QUIT\r\n") == 221
        c.cmd(b"EHLO bench.test\r\n")
        # Pipelined, as the server offers PIPELINING.
        c.s.sendall(b"MAIL FROM:<bench@x.test>\r\nRCPT TO:<sink@x.test>\r\n"
                    b"DATA\r\n")
        ok = [c.reply(), c.reply(), c.reply()] == [250, 250, 354]
        ok = ok and c.cmd(MSG + b".\r\n") == 250
        return ok and c.cmd(b"QUIT\r\n") == 221
    finally:
        c.close()


def cpu_ms(pid):
    """CPU time of pid and its reaped children (the sessions), in ms."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks * 1000.0 / os.sysconf("SC_CLK_TCK")


def rate(port, n, with_message, bd_pid):
    """Sessions per second, sessions accepted, CPU ms per session (the
    listener and the session processes, not the clients)."""
    c0 = cpu_ms(bd_pid)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as ex:
        oks = list(ex.map(lambda _: one_session(port, with_message),
                          range(n)))
    secs = time.monotonic() - t0
    time.sleep(0.5)         # the last sessions are reaped
    return n / secs, oks.count(True), (cpu_ms(bd_pid) - c0) / n


def children(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except OSError:
                pass
    return out


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(port, bd_pid):
    conns = []
    for _ in range(20):
        c = Conn(port)
        c.reply()
        c.cmd(b"EHLO bench.test\r\n")
        conns.append(c)
    time.sleep(0.3)
    kids = children(bd_pid)
    rss = [status_kib(p, "VmRSS") for p in kids]
    pss = [pss_kib(p) for p in kids]
    daemon = status_kib(bd_pid, "VmRSS")
    for c in conns:
        c.cmd(b"QUIT\r\n")
        c.close()
    # One session receiving a 10 MiB message: its peak stays small.
    big = (b"From: bench@x.test\r\nSubject: big\r\n\r\n" +
           (b"x" * 998 + b"\r\n") * 10500)
    c = Conn(port)
    c.reply()
    c.cmd(b"EHLO bench.test\r\n")
    c.cmd(b"MAIL FROM:<bench@x.test>\r\n")
    c.cmd(b"RCPT TO:<sink@x.test>\r\n")
    c.cmd(b"DATA\r\n")
    big_ok = c.cmd(big + b".\r\n") == 250
    kid = children(bd_pid)
    hwm = status_kib(kid[0], "VmHWM") if kid else 0
    c.cmd(b"QUIT\r\n")
    c.close()
    return rss, pss, daemon, hwm, big_ok, len(big)


def main(argv):
    postern, tmp, results = argv[1:4]
    spool = os.path.join(tmp, "bd-spool")
    os.makedirs(spool, exist_ok=True)
    user = "nobody"
    if os.geteuid() == 0:
        pw = pwd.getpwnam(user)
        os.chown(spool, pw.pw_uid, pw.pw_gid)
    sink_port, port = free_port(), free_port()
    sink = subprocess.Popen(
        [SINK] + (["-u", "nobody"] if os.geteuid() == 0 else []) +
        ["-4", "-c", "127.0.0.1:%d" % sink_port, "256"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    ini = os.path.join(tmp, "bd.ini")
    with open(ini, "w") as f:
        f.write("[remote]\nhost = 127.0.0.1\nport = %d\ntimeout = 30\n"
                "helo = bench.x.test\n[sender]\ndomain = x.test\n"
                "[log]\nsyslog = no\n[queue]\ndir = %s\n"
                "[listen]\naddress = 127.0.0.1:%d\nuser = %s\n"
                % (sink_port, spool, port, user))
    os.chmod(ini, 0o600)
    time.sleep(0.3)
    bd = subprocess.Popen([postern, "-C", ini, "-bd"],
                          stdin=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.2)
        quit_rate, quit_ok, quit_cpu = rate(port, SESSIONS, False, bd.pid)
        msg_rate, msg_ok, msg_cpu = rate(port, SESSIONS, True, bd.pid)
        rss, pss, daemon, hwm, big_ok, big_len = memory(port, bd.pid)
    finally:
        bd.terminate()
        bd.wait(60)
        sink.terminate()
        sink.wait()
    lines = [
        "",
        "## Local SMTP service (`postern -bd`)",
        "",
        "`postern -bd` on loopback relaying to a loopback `smtp-sink`; "
        "%d sessions from %d clients at once, a process per session." % (
            SESSIONS, CLIENTS),
        "",
        "| measure | value |",
        "|---|---|",
        "| sessions/s, one %d-octet message each | %.0f (%d of %d "
        "accepted) |" % (len(MSG), msg_rate, msg_ok, SESSIONS),
        "| CPU per session with a message (postern's side) | %.2f ms |"
        % msg_cpu,
        "| sessions/s, QUIT only | %.0f |" % quit_rate,
        "| CPU per QUIT-only session | %.2f ms |" % quit_cpu,
        "",
        "(load average %.1f on %d cores while it ran: sessions/s "
        "follow the machine's load, CPU per session does not)"
        % (os.getloadavg()[0], os.cpu_count() or 0),
        "",
        "| memory | value |",
        "|---|---|",
        "| RSS per idle session (20 open), median | %d KiB |" % (
            statistics.median(rss) if rss else 0),
        "| PSS per idle session (shared pages divided), median | %d KiB |"
        % (statistics.median(pss) if pss else 0),
        "| the listening process's RSS | %d KiB |" % daemon,
        "| peak RSS of a session that received %.1f MiB | %d KiB |" % (
            big_len / 1048576.0, hwm),
    ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(results, "a") as f:
        f.write(text)
    return 0 if msg_ok == SESSIONS and quit_ok == SESSIONS and big_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
