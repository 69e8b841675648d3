# SPDX-License-Identifier: ISC (see LICENSE)
"""STARTTLS benchmark (bench/tls.sh starts it): a 1 KB message over
STARTTLS to a private Postfix on loopback (tests/integration/lib/postfix.py,
certificates from tests/certs/mkcerts.sh), postern against msmtp,
interleaved fresh processes, medians.  postern runs twice: as it does in
real life (the session resumed from its cache file) and with no cache
(a full handshake every time), which gives the CPU cost of each.

Both clients verify the server against the test CA (tls_ca_file,
tls_trust_file): SSL_CERT_FILE, which would make OpenSSL parse the whole
system bundle (~30 ms), plays no part.  Needs root (Postfix).  Appends a
section to RESULTS_MD.
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration", "lib"))

import bench  # noqa: E402  (Client, interleave, the report helpers)

RUNS = int(os.environ.get("BENCH_TLS_RUNS", "30"))
TARGET = 5.0    # msmtp wall / postern wall, at least (issue 4)


def setup(tmp):
    certs = os.path.join(tmp, "certs")
    subprocess.run(["sh", os.path.join(TOP, "tests", "certs", "mkcerts.sh"),
                    certs], check=True)
    from postfix import PrivatePostfix
    pf = PrivatePostfix(tls={"cert": os.path.join(certs, "server.pem"),
                             "key": os.path.join(certs, "server.key")})
    pf.start()
    return pf, os.path.join(certs, "ca.pem")


def write_configs(tmp, port, ca):
    inis = {}
    for name, cache in (("resumed", os.path.join(tmp, "tlscache")),
                        ("full", os.path.join(tmp, "no", "such", "dir"))):
        path = os.path.join(tmp, "postern-tls-%s.ini" % name)
        with open(path, "w") as f:
            f.write("[remote]\nhost = localhost\nport = %d\n"
                    "tls = starttls\ntls_ca_file = %s\n"
                    "tls_session_cache = %s\n[sender]\n"
                    "domain = example.test\n[log]\nsyslog = no\n"
                    "[queue]\nmode = never\ndir = %s\n"
                    % (port, ca, cache, os.path.join(tmp, "spool")))
        inis[name] = path
    rc = os.path.join(tmp, "msmtprc-tls")
    fd = os.open(rc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("defaults\nauth off\ntls on\ntls_starttls on\n"
                "tls_trust_file %s\ntls_certcheck on\nsyslog off\n"
                "account default\nhost localhost\nport %d\nfrom %s\n"
                % (ca, port, bench.SENDER))
    return inis, rc


def report(clients, size, notes):
    lab = "tls"
    by = {c.name: c for c in clients}
    out = ["", "## STARTTLS, small message (%s, %d interleaved runs each)"
           % (size, RUNS), "",
           "To a private Postfix on 127.0.0.1 (submission port, STARTTLS, "
           "TLS 1.3), both clients verifying the certificate against the "
           "test CA. \"postern\" resumes the session from its cache file, "
           "as every run after the first does; \"postern, full handshake\" "
           "has no cache.", ""]
    rows = [[c.name, len(c.results.get(lab, [])), bench.ms(bench.med(c, lab, 0)),
             bench.ms(bench.med(c, lab, 1)), bench.kib(bench.peak(c, lab))]
            for c in clients]
    out.append(bench.table(["client", "ok runs", "wall ms", "CPU ms",
                            "peak RSS"], rows))
    p, f, m = by["postern"], by["postern, full handshake"], by["msmtp"]
    rw = bench.ratio(bench.med(m, lab, 0), bench.med(p, lab, 0))
    rf = bench.ratio(bench.med(m, lab, 0), bench.med(f, lab, 0))
    out += ["", "msmtp/postern: wall %s resumed, %s full handshake (target: "
            "wall >= %gx, %s)" % (bench.fmt_ratio(rw), bench.fmt_ratio(rf),
                                  TARGET, "-" if rw is None else
                                  bench.verdict(rw >= TARGET))]
    cp, cf = bench.med(p, lab, 1), bench.med(f, lab, 1)
    if cp is not None and cf is not None:
        out += ["", "postern CPU per run: %s ms resumed, %s ms full handshake "
                "(the handshake's share: %.1f ms)" % (bench.ms(cp),
                                                      bench.ms(cf),
                                                      (cf - cp) * 1000)]
    failed = []
    for c in clients:
        for _, (n, first) in sorted(c.failures.items()):
            failed.append("%s: %d failed runs; first: %s" % (c.name, n,
                                                             first[:300]))
    if failed or notes:
        out += ["", "### Notes (STARTTLS)", ""] + ["- " + x for x in
                                                   notes + failed]
    return "\n".join(out) + "\n", bool(failed)


def main():
    if len(sys.argv) != 5:
        raise SystemExit("usage: tls.py POSTERN MEASURE TMPDIR RESULTS_MD")
    postern, measure, tmp, results = sys.argv[1:]
    if os.geteuid() != 0:
        text = "\n## STARTTLS\n\nskipped: a private Postfix needs root\n"
        with open(results, "a") as f:
            f.write(text)
        print(text, end="")
        return 0
    t0 = time.monotonic()
    pf, ca = setup(tmp)
    notes = []
    try:
        inis, rc = write_configs(tmp, pf.submission_port, ca)
        msg = os.path.join(tmp, "msg-tls-1k.eml")
        size = "%d B" % bench.write_message(msg, 1024, "tls1k")
        rcpt = "rcpt@example.test"
        clients = [
            bench.Client("postern", [postern, "-C", inis["resumed"], "-i",
                                     rcpt]),
            bench.Client("postern, full handshake",
                         [postern, "-C", inis["full"], "-i", rcpt]),
            bench.Client("msmtp", [bench.MSMTP, "-C", rc, "-i", rcpt]),
        ]
        bench.log("bench: STARTTLS small message, %d runs each" % RUNS)
        bench.interleave(clients, measure, tmp, msg, "tls", RUNS, 20, 2)
        want = sum(c.delivered for c in clients)
        got = len(pf.wait_messages(want, timeout=30))
        if got != want:
            notes.append("Postfix delivered %d messages, clients reported "
                         "%d" % (got, want))
        notes.append("STARTTLS bench took %.0f s (Postfix started in "
                     "%.1f s)" % (time.monotonic() - t0, pf.start_seconds))
        text, failed = report(clients, size, notes)
    finally:
        pf.stop()
    with open(results, "a") as f:
        f.write(text)
    print(text, end="")
    return 1 if failed or got != want else 0


if __name__ == "__main__":
    sys.exit(main())
