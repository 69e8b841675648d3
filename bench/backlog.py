# SPDX-License-Identifier: ISC (see LICENSE)
"""The spool backlog benchmark (issue 6), run by bench/backlog.sh.

10,000 small messages are committed to a private spool with [queue]
mode = always while the upstream is down (each detached child finds the
port closed and leaves its message queued), timing every submission
with bench/measure; then one `postern -q` flushes the backlog to a
loopback smtp-sink over one connection.  Prints and appends to
bench/results.md: the median (and p90) time of a committed submission,
target < 3 ms, and the flush rate in messages per second, target >=
2000/s.

    backlog.py POSTERN MEASURE TMPDIR RESULTS_MD
Knobs: BENCH_BACKLOG (10000), SMTP_SINK (/usr/sbin/smtp-sink).
"""

import os
import socket
import statistics
import subprocess
import sys
import time

SINK = os.environ.get("SMTP_SINK", "/usr/sbin/smtp-sink")
N = int(os.environ.get("BENCH_BACKLOG", "10000"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ini(path, port, spool, mode):
    with open(path, "w") as f:
        f.write("[remote]\nhost = 127.0.0.1\nport = %d\ntimeout = 30\n"
                "helo = bench.x.test\n[sender]\ndomain = x.test\n"
                "[log]\nsyslog = no\n[queue]\ndir = %s\nmode = %s\n"
                # one connection: the rate of one session on loopback
                # (bench/latency.py drains over several)
                "connections = 1\n"
                % (port, spool, mode))
    os.chmod(path, 0o600)


def start_sink(tmp):
    port = free_port()
    argv = [SINK] + (["-u", "nobody"] if os.geteuid() == 0 else []) + \
        ["-4", "-c", "127.0.0.1:%d" % port, "256"]
    out = open(os.path.join(tmp, "backlog-sink.out"), "wb")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("backlog: smtp-sink did not start")


def queued(spool):
    return len(os.listdir(os.path.join(spool, "queue")))


def main(argv):
    postern, measure, tmp, results = argv[1:5]
    spool = os.path.join(tmp, "backlog-spool")
    down = os.path.join(tmp, "backlog-down.ini")
    up = os.path.join(tmp, "backlog-up.ini")
    msgf = os.path.join(tmp, "backlog.eml")
    with open(msgf, "wb") as f:
        f.write(b"From: bench@x.test\nTo: sink@x.test\nSubject: backlog\n\n"
                + b"a small message for the backlog benchmark\n" * 5)
    ini(down, free_port(), spool, "always")
    errf = os.path.join(tmp, "backlog.err")
    times = []
    t0 = time.monotonic()
    for i in range(N):
        r = subprocess.run([measure, "30", msgf, errf, postern, "-C", down,
                            "-i", "bench@x.test", "sink@x.test"],
                           stdout=subprocess.PIPE, check=True)
        st, wall = r.stdout.split()[:2]
        if st != b"0":
            raise SystemExit("backlog: submission %d exited %s" % (i, st))
        times.append(float(wall) * 1000)
    sub_secs = time.monotonic() - t0
    # The floor: a postern that only starts and exits (shared libraries,
    # OpenSSL's among them, are most of it).
    floor = []
    for i in range(300):
        r = subprocess.run([measure, "30", msgf, errf, postern, "--version"],
                           stdout=subprocess.PIPE, check=True)
        floor.append(float(r.stdout.split()[1]) * 1000)
    time.sleep(1)           # let the last detached children give up
    n = queued(spool)
    sink, port = start_sink(tmp)
    ini(up, port, spool, "fallback")
    try:
        t0 = time.monotonic()
        subprocess.run([postern, "-C", up, "-q"], check=True)
        flush = time.monotonic() - t0
    finally:
        time.sleep(0.2)
        sink.terminate()
        sink.wait()
    left = queued(spool)
    times.sort()
    med = statistics.median(times)
    p90 = times[int(len(times) * 0.9)]
    rate = (n - left) / flush
    lines = [
        "",
        "## Spool backlog",
        "",
        "%d small messages (%d octets) committed with `[queue] mode = "
        "always` while the upstream was down; then one `postern -q` to "
        "a loopback `smtp-sink` over one connection." % (
            N, os.path.getsize(msgf)),
        "",
        "| measure | value | target |",
        "|---|---|---|",
        "| committed submission, median | %.2f ms | < 3 ms: %s |" % (
            med, "met" if med < 3 else "NOT met"),
        "| committed submission, p90 | %.2f ms | |" % p90,
        "| `postern --version` (process start), median | %.2f ms | |" % (
            statistics.median(floor)),
        "| flush of %d queued messages | %.2f s | |" % (n, flush),
        "| flush rate | %.0f messages/s | >= 2000/s: %s |" % (
            rate, "met" if rate >= 2000 else "NOT met"),
        "| left in the queue after the flush | %d | 0 |" % left,
        "",
        "(submissions took %.1f s in all, measured one by one with "
        "bench/measure)" % sub_secs,
    ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(results, "a") as f:
        f.write(text)
    return 0 if left == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
