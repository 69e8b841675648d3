#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/fuzz/run.sh DIR SECONDS TARGET...: run each libFuzzer target
# DIR/fz_TARGET for SECONDS, two at a time (the machine has two cores),
# starting from its seed corpus tests/fuzz/corpus/TARGET.  New inputs go
# to DIR/corpus/TARGET (the seeds are never written), a crash or failed
# property to DIR/findings/TARGET/, the output to DIR/TARGET.log.  Prints
# one line per target with its executions, and exits 1 when any target
# found something.

set -u

if [ $# -lt 3 ]; then
	echo "usage: tests/fuzz/run.sh DIR SECONDS TARGET..." >&2
	exit 64
fi
dir=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

for t in "$@"; do
	mkdir -p "$dir/corpus/$t" "$dir/findings/$t" || exit 1
	rm -f "$dir/findings/$t"/*
done
# shellcheck disable=SC2016
printf '%s\n' "$@" | xargs -P 2 -I{} sh -c '
	"$1/fz_$3" -max_total_time="$2" -max_len=8192 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$1/findings/$3/" \
	    "$1/corpus/$3" "$4/corpus/$3" >"$1/$3.log" 2>&1
	echo "fz_$3: done (exit $?)"' sh "$dir" "$secs" {} "$here"

status=0
for t in "$@"; do
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log" |
	    tail -n 1)
	found=$(find "$dir/findings/$t" -type f | wc -l)
	if [ "$found" -gt 0 ]; then
		status=1
		echo "fz_$t: ${runs:-?} executions, FOUND $found:" \
		    "$(find "$dir/findings/$t" -type f | tr '\n' ' ')"
		grep -m 3 -E 'ERROR|property failed|runtime error' \
		    "$dir/$t.log" | sed 's/^/    /'
	else
		echo "fz_$t: ${runs:-?} executions in ${secs}s, no finding"
	fi
done
exit "$status"
