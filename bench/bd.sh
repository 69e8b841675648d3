#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# bench/bd.sh: the local SMTP service benchmark (bench/bd.py): sessions
# per second and memory per session of postern -bd.
#
#	sh bench/bd.sh [POSTERN TMPDIR RESULTS_MD]
#
# bench/run.sh calls it with its own binary, temporary directory and
# results file; alone it makes its own directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
if [ $# -ge 3 ]; then
	exec "$python" "$here/bd.py" "$@"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/postern-bd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
"$python" "$here/bd.py" "${POSTERN:-$top/postern}" "$tmp" \
    "$here/results.md"
