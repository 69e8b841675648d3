#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/fresh.sh (make check-fresh): prove that `make demo` and `make
# check` work on a fresh minimal Debian 12 machine, as the README
# promises.  As root: build a throwaway root with tests/mkroot.sh (minbase
# plus git, make, ca-certificates), clone this checkout's HEAD into it,
# run `make demo` and `make check` there with tests/inroot.sh, and remove
# the root.  Takes a while (the root, the packages, the whole suite), so
# it is not part of .ci/run.
#
# Environment: FRESH_ROOT (where to build the root; default a new
# directory under /var/tmp), FRESH_KEEP=1 (keep the root afterwards).
# Exit 0 only when both commands succeed; the last line is make check's
# "N passed, N failed" (or says which step failed).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/fresh.sh: must run as root (mmdebstrap, chroot, mounts)" >&2
	exit 77
fi
root=${FRESH_ROOT:-}
if [ -z "$root" ]; then
	root=$(mktemp -d /var/tmp/postern-fresh.XXXXXX) || exit 73
	rmdir "$root"
fi
log=$(mktemp "${TMPDIR:-/tmp}/postern-fresh.XXXXXX") || exit 73

cleanup() {
	if [ "${FRESH_KEEP:-}" = 1 ]; then
		echo "tests/fresh.sh: root kept in $root" >&2
	elif [ -d "$root" ]; then
		# Nothing may still be mounted in it (tests/inroot.sh
		# unmounts): refuse to remove through a mount.
		if grep -q " $root/" /proc/mounts; then
			echo "tests/fresh.sh: $root still has mounts;" \
			    "not removed" >&2
		else
			rm -rf "$root"
		fi
	fi
	rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

start=$(date +%s)
sh "$here/mkroot.sh" "$root" || {
	echo "check-fresh: FAILED: tests/mkroot.sh $root"
	exit 1
}
# The commit under test, as a person would clone it.
git clone -q "$top" "$root/root/postern" || {
	echo "check-fresh: FAILED: git clone $top"
	exit 1
}
echo "== check-fresh: testing commit $(git -C "$top" rev-parse --short HEAD)"

# What a person types first: without the build dependencies, make must
# stop at once with one line naming the packages (tests/havedeps.sh).
echo "== check-fresh: make (no build dependencies yet)"
sh "$here/inroot.sh" "$root" sh -c 'cd /root/postern && make' \
    >"$log" 2>&1
rc=$?
cat "$log"
if [ "$rc" -eq 0 ] || grep -q 'fatal error' "$log" ||
    ! grep -q '^make: missing Debian packages: .*apt-get install' "$log"; then
	echo "check-fresh: FAILED: make did not stop with the missing packages"
	exit 1
fi

echo "== check-fresh: make demo"
sh "$here/inroot.sh" "$root" sh -c 'cd /root/postern && make demo' \
    2>&1 | tee "$log"
if ! grep -q 'This is the output of a cron job' "$log" ||
    ! grep -q '^== postern exited 0$' "$log"; then
	echo "check-fresh: FAILED: make demo did not show the message"
	exit 1
fi

echo "== check-fresh: make check"
sh "$here/inroot.sh" "$root" sh -c 'cd /root/postern && make check' \
    2>&1 | tee "$log"
verdict=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
secs=$(($(date +%s) - start))
echo "== check-fresh: ${secs}s in all"
if [ -z "$verdict" ]; then
	echo "check-fresh: FAILED: make check never ran the tests"
	exit 1
fi
echo "$verdict"
case $verdict in
*" 0 failed"*) exit 0 ;;
*) exit 1 ;;
esac
