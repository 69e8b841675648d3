#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# bench/backlog.sh: the spool backlog benchmark (bench/backlog.py).
#
#	sh bench/backlog.sh [POSTERN MEASURE TMPDIR RESULTS_MD]
#
# bench/run.sh calls it last with its own binary, measure helper,
# temporary directory and results file; alone it builds what it needs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
if [ $# -ge 4 ]; then
	exec "$python" "$here/backlog.py" "$@"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/postern-backlog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
${CC:-cc} -std=c11 -O2 -o "$tmp/measure" "$here/measure.c"
"$python" "$here/backlog.py" "${POSTERN:-$top/postern}" "$tmp/measure" \
    "$tmp" "$here/results.md"
