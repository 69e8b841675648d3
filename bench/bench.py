# SPDX-License-Identifier: ISC (see LICENSE)
"""postern benchmark driver (stdlib only); bench/run.sh starts it.

Measures, side by side in one run and against one loopback smtp-sink:
  1. a 1 KB message: postern vs msmtp, interleaved fresh processes;
  2. 1 MB and 100 MB messages: postern vs Postfix's smtp-source vs msmtp.
Every child is run by bench/measure (a small C helper) so that its wall
time, CPU time and peak RSS are its own.  Nothing is asserted about
speed: the figures are printed and written to bench/results.md.  The exit
status is non-zero only when the harness itself failed or a client did
not deliver its messages, since the figures then mean nothing.
"""

import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time

ENV = os.environ
SMALL_RUNS = int(ENV.get("BENCH_SMALL_RUNS", "50"))
LARGE_RUNS = int(ENV.get("BENCH_LARGE_RUNS", "5"))
SIZES_MB = [int(s) for s in ENV.get("BENCH_SIZES_MB", "1,100").split(",")]
RCPT = "rcpt@example.test"
SENDER = "bench@example.test"
DEADLINE_S = int(ENV.get("BENCH_DEADLINE", "600"))
DEADLINE = time.monotonic() + DEADLINE_S
notes = []              # lines for the report's Notes section
SINK = ENV.get("SMTP_SINK", "/usr/sbin/smtp-sink")
SOURCE = ENV.get("SMTP_SOURCE", "/usr/sbin/smtp-source")
MSMTP = ENV.get("MSMTP", "msmtp")

# Targets from the design brief, shown next to the figures (never enforced).
TARGET_SMALL = 8.0      # msmtp wall / postern wall, at least
TARGET_LARGE = 1.25     # postern wall / smtp-source wall, at most
TARGET_RSS_KIB = 4096   # postern peak RSS, at most

WORDS = """the of and to in is that for it as was with be by on not he this
are or his from at which but have an they you were her she there been one
all we their has would when if so no will more can out other into some
could time these two may then do first any my now such like our over man
me even most made after also did many before must through back years where
much your way well down should because each just those people how too
little state good very make world still own see men work long get here
between both life being under never day same another know while last might
us great old year off come since against go came right used take three
message server relay queue delivery mailbox header sender recipient
envelope transport address domain report monitoring backup status nightly
job output error warning database upload invoice order customer account
password reset confirm subscription weekly summary""".split()

sink_proc = None


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_line(argv):
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=10, text=True)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "unavailable (%s)" % e.__class__.__name__
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unavailable (exit %d)" % \
        out.returncode


def machine_info(postern):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count()
    postfix = first_line(["postconf", "-h", "-d", "mail_version"])
    return [
        ("date", time.strftime("%Y-%m-%d %H:%M:%S %z")),
        ("machine", "%s, nproc %s, %s" % (cpu, ncpu, platform.machine())),
        ("kernel", "%s %s" % (platform.system(), platform.release())),
        ("postern", first_line([postern, "--version"])
         if os.access(postern, os.X_OK) else "not built"),
        ("msmtp", first_line([MSMTP, "--version"])),
        ("smtp-sink/smtp-source", "Postfix " + postfix),
    ]


# ---------------------------------------------------------------- messages

def text_lines(rng, nbytes):
    """Lines of English-like words, 60-76 characters, about nbytes total."""
    out, size = [], 0
    while size < nbytes:
        width = rng.randint(60, 76)
        words, n = [], 0
        while True:
            w = rng.choice(WORDS)
            if n + len(w) + (1 if words else 0) > width:
                break
            n += len(w) + (1 if words else 0)
            words.append(w)
        line = " ".join(words)
        line = line[0].upper() + line[1:] + "."
        out.append(line + "\n")
        size += len(line) + 1
        if rng.random() < 0.08:
            out.append("\n")
            size += 1
    return "".join(out)


def headers(size_label):
    return ("From: Bench <%s>\nTo: %s\nSubject: postern benchmark %s\n"
            "Date: Thu, 01 Jan 2026 00:00:00 +0000\n"
            "Message-ID: <bench-%s@example.test>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            % (SENDER, RCPT, size_label, size_label))


def write_message(path, total, label):
    """Write a message of about total bytes (LF line ends) to path."""
    rng = random.Random(total)
    head = headers(label)
    body_size = total - len(head)
    # A 1 MiB block of distinct lines, repeated: generating 100 MB of text
    # word by word in Python would dominate the bench's run time.
    block = text_lines(rng, min(body_size, 1 << 20)).encode()
    with open(path, "wb") as f:
        f.write(head.encode())
        left = body_size
        while left > 0:
            chunk = block if len(block) <= left else \
                block[:block.rfind(b"\n", 0, left) + 1] or block[:left]
            f.write(chunk)
            left -= len(chunk)
    return os.path.getsize(path)


# -------------------------------------------------------------- the sink

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_sink(tmp):
    global sink_proc
    for _ in range(5):
        port = free_port()
        argv = [SINK]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]   # smtp-sink refuses to run as root
        argv += ["-4", "-c", "127.0.0.1:%d" % port, "256"]
        out = open(os.path.join(tmp, "sink.out"), "wb")
        sink_proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sink_proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return port
            except OSError:
                time.sleep(0.05)
        stop_sink()
    raise SystemExit("bench: smtp-sink did not start (see %s/sink.out)" % tmp)


def stop_sink(*_):
    global sink_proc
    if sink_proc is not None and sink_proc.poll() is None:
        sink_proc.terminate()
        try:
            sink_proc.wait(5)
        except subprocess.TimeoutExpired:
            sink_proc.kill()
            sink_proc.wait()
    sink_proc = None


def sink_messages(tmp):
    """The message count smtp-sink -c last printed, or None."""
    try:
        with open(os.path.join(tmp, "sink.out"), "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    n = None
    for field in data.replace("\r", " ").replace("\n", " ").split():
        if field.startswith("mesg="):
            try:
                n = int(field[5:])
            except ValueError:
                pass
    return n


# ---------------------------------------------------------------- clients

class Client:
    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.results = {}       # label -> list of (wall, cpu, rss)
        self.failures = {}      # label -> (count, first stderr)
        self.delivered = 0

    def gave_up(self, label):
        """A timeout or 3 failures: skip this client for the label."""
        n, first = self.failures.get(label, (0, ""))
        return n >= 3 or first.startswith("timeout")

    def run(self, measure, tmp, msg, label, timeout, keep=True):
        err = os.path.join(tmp, "stderr.%s" % self.name)
        out = subprocess.run([measure, str(timeout), msg, err] + self.argv,
                             capture_output=True, text=True)
        fields = out.stdout.split()
        if out.returncode != 0 or len(fields) != 5:
            raise SystemExit("bench: measure failed: %s" % out.stderr.strip())
        status = int(fields[0])
        wall, user, sys_, rss = (float(fields[1]), float(fields[2]),
                                 float(fields[3]), int(fields[4]))
        if status != 0:
            try:
                with open(err, errors="replace") as f:
                    text = f.read().strip()
            except OSError:
                text = ""
            why = "timeout after %ds" % timeout if status < 0 else \
                "exit %d" % status
            n, first = self.failures.get(label, (0, None))
            self.failures[label] = (n + 1, first or "%s: %s" % (why, text))
            return
        self.delivered += 1
        if keep:
            self.results.setdefault(label, []).append(
                (wall, user + sys_, rss))


def interleave(clients, measure, tmp, msg, label, runs, timeout, warmup):
    """Run each client runs times, rotating who goes first each round."""
    for c in clients:
        for _ in range(warmup):
            if not c.gave_up(label):
                c.run(measure, tmp, msg, label, timeout, keep=False)
    order = list(clients)
    for i in range(runs):
        if time.monotonic() > DEADLINE:
            notes.append("BENCH_DEADLINE (%d s) passed: %s stopped after "
                         "%d of %d rounds" % (DEADLINE_S, label, i, runs))
            return
        for c in order:
            if not c.gave_up(label):
                c.run(measure, tmp, msg, label, timeout)
        order = order[1:] + order[:1]
        if runs >= 10 and (i + 1) % 10 == 0:
            log("  %s: %d/%d rounds" % (label, i + 1, runs))


# ---------------------------------------------------------------- report

def med(c, label, idx):
    r = c.results.get(label)
    return statistics.median(x[idx] for x in r) if r else None


def peak(c, label):
    r = c.results.get(label)
    return max(x[2] for x in r) if r else None


def ms(v):
    return "-" if v is None else ("%.1f" % (v * 1000) if v < 10 else
                                  "%.0f" % (v * 1000))


def kib(v):
    return "-" if v is None else "%d KiB (%.1f MiB)" % (v, v / 1024)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


def table(head, rows):
    cols = [head] + rows
    w = [max(len(str(r[i])) for r in cols) for i in range(len(head))]

    def line(r):
        return "| " + " | ".join(str(v).ljust(w[i])
                                 for i, v in enumerate(r)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (x + 2) for x in w)
                      + "|"] + [line(r) for r in rows])


def verdict(ok):
    return "met" if ok else "not met"


def report(info, sizes, small, large, clients_small, clients_large, notes):
    out = ["# postern benchmark", ""]
    out.append(table(["", ""], [[k, v] for k, v in info]))
    out.append("")
    out.append("All clients send to one `smtp-sink` on 127.0.0.1; every run "
               "is a fresh process reading the message on stdin. Times are "
               "medians; CPU is user+sys of the client process; peak RSS "
               "is the largest `ru_maxrss` over the runs.")

    if small is not None:
        by = {c.name: c for c in clients_small}
        p, m = by.get("postern"), by.get("msmtp")
        lab = small
        out += ["", "## Small message (%s, %d interleaved runs each)"
                % (sizes[lab], SMALL_RUNS), ""]
        rows = []
        for c in clients_small:
            rows.append([c.name, len(c.results.get(lab, [])),
                         ms(med(c, lab, 0)), ms(med(c, lab, 1)),
                         kib(peak(c, lab))])
        out.append(table(["client", "ok runs", "wall ms", "CPU ms",
                          "peak RSS"], rows))
        rw = ratio(med(m, lab, 0), med(p, lab, 0)) if p and m else None
        rc = ratio(med(m, lab, 1), med(p, lab, 1)) if p and m else None
        out += ["", "msmtp/postern: wall %s, CPU %s (target: wall >= %gx, %s)"
                % (fmt_ratio(rw), fmt_ratio(rc), TARGET_SMALL,
                   "-" if rw is None else verdict(rw >= TARGET_SMALL))]

    if large:
        out += ["", "## Large messages (%d interleaved runs each)"
                % LARGE_RUNS, ""]
        rows = []
        for lab in large:
            for c in clients_large:
                rows.append([sizes[lab], c.name,
                             len(c.results.get(lab, [])),
                             ms(med(c, lab, 0)), ms(med(c, lab, 1)),
                             kib(peak(c, lab))])
        out.append(table(["size", "client", "ok runs", "wall ms", "CPU ms",
                          "peak RSS"], rows))
        out += ["", "smtp-source (`-F file`) reads the whole message into "
                "memory before sending, so its RSS grows with the size; it "
                "is the speed reference, not the memory one."]
        out.append("")
        by = {c.name: c for c in clients_large}
        p, s, m = by.get("postern"), by.get("smtp-source"), by.get("msmtp")
        rows = []
        for lab in large:
            r = ratio(med(p, lab, 0), med(s, lab, 0)) if p and s else None
            rm = ratio(med(m, lab, 0), med(p, lab, 0)) if p and m else None
            rows.append([sizes[lab], fmt_ratio(r),
                         "-" if r is None else
                         verdict(r <= TARGET_LARGE), fmt_ratio(rm)])
        out.append(table(["size", "postern/smtp-source wall",
                          "target <= %g" % TARGET_LARGE,
                          "msmtp/postern wall"], rows))
        if p and len(large) >= 2:
            lo, hi = peak(p, large[0]), peak(p, large[-1])
            if lo is not None and hi is not None:
                out += ["", "postern peak RSS: %s at %s, %s at %s "
                        "(change %+d KiB; target <= %d KiB and unchanged: "
                        "%s)" % (kib(lo), sizes[large[0]], kib(hi),
                                 sizes[large[-1]], hi - lo, TARGET_RSS_KIB,
                                 verdict(hi <= TARGET_RSS_KIB and
                                         abs(hi - lo) <= 256))]
        if m and len(large) >= 2:
            lo, hi = peak(m, large[0]), peak(m, large[-1])
            if lo is not None and hi is not None:
                out += ["", "msmtp peak RSS: %s at %s, %s at %s"
                        % (kib(lo), sizes[large[0]], kib(hi),
                           sizes[large[-1]])]

    failed = []
    for c in set(clients_small) | set(clients_large):
        for lab, (n, first) in sorted(c.failures.items()):
            failed.append("%s (%s): %d failed runs; first: %s"
                          % (c.name, sizes.get(lab, lab), n, first[:300]))
    if failed or notes:
        out += ["", "## Notes", ""]
        out += ["- " + x for x in notes + failed]
    return "\n".join(out) + "\n", bool(failed)


# ------------------------------------------------------------------- main

def main():
    if len(sys.argv) != 5:
        raise SystemExit("usage: bench.py POSTERN MEASURE TMPDIR RESULTS_MD")
    postern, measure, tmp, results = sys.argv[1:]
    t_start = time.monotonic()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (stop_sink(), sys.exit(130)))
    have_postern = os.access(postern, os.X_OK)
    if not have_postern:
        notes.append("postern not built (%s): its columns are empty" %
                     postern)
    for tool in (SINK, SOURCE):
        if not os.access(tool, os.X_OK):
            raise SystemExit("bench: %s missing (postfix package)" % tool)

    info = machine_info(postern)
    port = start_sink(tmp)
    try:
        ini = os.path.join(tmp, "postern.ini")
        with open(ini, "w") as f:
            f.write("[delivery]\nmode = remote\n[remote]\nhost = 127.0.0.1\n"
                    "port = %d\n[sender]\ndomain = example.test\n[log]\n"
                    "syslog = no\n" % port)
        rc = os.path.join(tmp, "msmtprc")
        fd = os.open(rc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("defaults\nauth off\ntls off\nsyslog off\n"
                    "account default\nhost 127.0.0.1\nport %d\nfrom %s\n"
                    % (port, SENDER))

        sizes = {}
        small_msg = os.path.join(tmp, "msg-1k.eml")
        sizes["1k"] = "%d B" % write_message(small_msg, 1024, "1k")
        large_msgs = []
        for mb in SIZES_MB:
            path = os.path.join(tmp, "msg-%dm.eml" % mb)
            n = write_message(path, mb * 1000 * 1000, "%dm" % mb)
            lab = "%dm" % mb
            sizes[lab] = "%.1f MB" % (n / 1e6) if n >= 1e6 else "%d B" % n
            large_msgs.append((lab, path, mb))

        pc = Client("postern", [postern, "-C", ini, "-i", RCPT])
        mc = Client("msmtp", [MSMTP, "-C", rc, "-i", RCPT])
        clients_small = [pc, mc] if have_postern else [mc]

        log("bench: small message, %d runs each" % SMALL_RUNS)
        small = None
        if SMALL_RUNS > 0:
            interleave(clients_small, measure, tmp, small_msg, "1k",
                       SMALL_RUNS, 10, 3)
            small = "1k"

        large = []
        clients_large = []
        if LARGE_RUNS > 0 and large_msgs:
            sc = Client("smtp-source", [])
            clients_large = ([pc] if have_postern else []) + [sc, mc]
            for lab, path, mb in large_msgs:
                log("bench: %s message, %d runs each" % (sizes[lab],
                                                         LARGE_RUNS))
                # -F sends the file as header and body, dot-stuffed, each
                # line ended with CRLF: the same bytes the others send.
                sc.argv = [SOURCE, "-M", "bench.example.test", "-f", SENDER,
                           "-t", RCPT, "-F", path, "127.0.0.1:%d" % port]
                timeout = 30 + mb
                interleave(clients_large, measure, tmp, path, lab,
                           LARGE_RUNS, timeout, 1)
                large.append(lab)

        time.sleep(0.2)         # let smtp-sink print its last counter
        expected = sum(c.delivered for c in set(clients_small) |
                       set(clients_large))
        stop_sink()
        got = sink_messages(tmp)
        if got is None:
            notes.append("smtp-sink message count unavailable")
        elif got != expected:
            notes.append("smtp-sink counted %d messages, clients reported "
                         "%d delivered" % (got, expected))
        else:
            notes.append("smtp-sink counted %d messages, as many as the "
                         "clients reported delivered (warm-ups included)"
                         % got)
        notes.append("bench took %.0f s" % (time.monotonic() - t_start))
        text, failed = report(info, sizes, small, large,
                              clients_small, clients_large, notes)
        if got is not None and got != expected:
            failed = True
    finally:
        stop_sink()
    with open(results, "w") as f:
        f.write(text)
    print(text, end="")
    log("bench: results written to %s" % results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
