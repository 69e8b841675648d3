#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/deb/check.sh (make check-deb): the Debian package on a fresh
# machine.  Makes a throwaway minimal Debian 12 root (tests/mkroot.sh),
# clones this repository's HEAD into it (a clean clone: uncommitted
# changes are not tested), and runs tests/deb/in_root.sh there
# (tests/inroot.sh): Postfix first, then make deb, the package installed
# over it with preseeded answers, and the checks.  Ends with "N passed, N
# failed".  Needs root and the Debian archive; takes several minutes.
# KEEP_ROOT=1 keeps the root (its path is printed) for a look after.

set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/deb/check.sh: must run as root (a chroot)" >&2
	exit 77
fi
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
	echo "tests/deb/check.sh: note: testing HEAD; uncommitted changes" \
	    "are not in the clean clone" >&2
fi

work=$(mktemp -d /var/tmp/postern-deb.XXXXXX) || exit 71
root=$work/root
cleanup() {
	if [ -n "${KEEP_ROOT:-}" ]; then
		echo "tests/deb/check.sh: root kept in $root" >&2
	else
		# Nothing is mounted here: tests/inroot.sh mounts in a
		# namespace of its own.  --one-file-system all the same.
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

start=$(date +%s)
echo "=== a minimal Debian 12 root (mmdebstrap --variant=minbase)"
if ! sh "$src/tests/mkroot.sh" "$root" >"$work/mkroot.log" 2>&1; then
	tail -n 20 "$work/mkroot.log"
	echo "not ok - tests/mkroot.sh made the root"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "=== a clean clone of HEAD in /build/postern"
git clone --quiet --no-local --no-hardlinks "$src" "$root/build/postern" ||
	exit 1
cp "$src/tests/deb/in_root.sh" "$root/build/in_root.sh"
sh "$src/tests/inroot.sh" "$root" /bin/sh /build/in_root.sh
rc=$?
echo "check-deb took $(($(date +%s) - start)) s"
# The verdict last (in_root.sh writes it), or one failure if it never
# got there.
if [ -s "$root/build/verdict" ]; then
	cat "$root/build/verdict"
else
	echo "not ok - tests/deb/in_root.sh ran to its end (exit $rc)"
	echo "0 passed, 1 failed"
	rc=1
fi
exit "$rc"
