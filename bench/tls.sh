#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# bench/tls.sh POSTERN MEASURE TMPDIR RESULTS_MD: a 1 KB message over
# STARTTLS to a private Postfix on loopback, postern (resumed session and
# full handshake) against msmtp; appends its section to RESULTS_MD.
# bench/run.sh calls it after bench.py; alone, pass a built bench/measure.
#
# Knobs (environment): BENCH_TLS_RUNS (30), MSMTP, PYTHON.  Needs root
# (Postfix), msmtp, openssl (for the test certificates).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
[ $# -eq 4 ] || {
	echo "usage: bench/tls.sh POSTERN MEASURE TMPDIR RESULTS_MD" >&2
	exit 64
}
# No __pycache__ droppings in the source tree.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec "$python" "$here/tls.py" "$@"
