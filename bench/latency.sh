#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# bench/latency.sh: the latency bench (bench/latency.py): one message and
# a spool backlog through a proxy that delays each direction by 0, 10 and
# 30 ms, postern against msmtp and smtp-source, with the replies each
# client waited for.
#
#	sh bench/latency.sh [POSTERN TMPDIR RESULTS_MD]
#
# bench/run.sh calls it last; alone it makes its own temporary directory
# and appends to bench/results.md.  Knobs (environment):
# BENCH_LATENCY_DELAYS ("0,10,30"), BENCH_LATENCY_RUNS (5),
# BENCH_LATENCY_BACKLOG (2000), BENCH_LATENCY_CONNS ("1,3,20"),
# POSTERN_BASELINE (a postern binary of before, drained beside), MSMTP,
# SMTP_SINK, SMTP_SOURCE, PYTHON.  STARTTLS + AUTH needs root (Postfix).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
if [ $# -ge 3 ]; then
	exec "$python" "$here/latency.py" "$1" "$2" "$3"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/postern-latency.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
chmod 755 "$tmp"	# smtp-sink drops to nobody when run as root
"$python" "$here/latency.py" "${POSTERN:-$top/postern}" "$tmp" \
    "$here/results.md"
