#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# bench/run.sh: postern vs msmtp vs Postfix's smtp-source on loopback.
#
# Run by `make bench` after ./postern is built; installs nothing.  The
# latency bench (bench/latency.sh) comes last; its knobs are there.  Needs
# cc, /usr/bin/python3 (stdlib only), msmtp, and smtp-sink/smtp-source
# from the postfix package.  Prints a table and writes bench/results.md.
#
# Knobs (environment): POSTERN (binary, default ./postern),
# BENCH_SMALL_RUNS (50), BENCH_LARGE_RUNS (5), BENCH_SIZES_MB ("1,100"),
# MSMTP, SMTP_SINK, SMTP_SOURCE, PYTHON (/usr/bin/python3), TMPDIR.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
postern=${POSTERN:-$top/postern}
case $postern in /*) ;; *) postern=$(pwd)/$postern ;; esac
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/postern-bench.XXXXXX")
# bench.py stops its smtp-sink itself, on errors and signals too.
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
chmod 755 "$tmp"	# smtp-sink drops to nobody when run as root

${CC:-cc} -std=c11 -O2 -o "$tmp/measure" "$here/measure.c"

# Exit status of bench.py: 0, or 1 when a client failed to deliver.
"$python" "$here/bench.py" "$postern" "$tmp/measure" "$tmp" \
    "$here/results.md"
sh "$here/tls.sh" "$postern" "$tmp/measure" "$tmp" "$here/results.md"
sh "$here/backlog.sh" "$postern" "$tmp/measure" "$tmp" "$here/results.md"
sh "$here/bd.sh" "$postern" "$tmp" "$here/results.md"
sh "$here/latency.sh" "$postern" "$tmp" "$here/results.md"
