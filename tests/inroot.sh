#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/inroot.sh DIR CMD...: run CMD (a program and its arguments; use
# sh -c '...' for a shell line) as root inside the root DIR made by
# tests/mkroot.sh, with /proc, /sys, /dev, /dev/pts and /dev/shm mounted
# for the run.  Afterwards whatever CMD left running in the root (a
# daemon a test started) is killed, and the mounts are always undone,
# whatever CMD does and on INT, TERM or HUP; the exit status is CMD's.
# The environment is a clean login one plus the root's /etc/environment
# (NODE_EXTRA_CA_CERTS).
set -u

if [ $# -lt 2 ]; then
	echo "usage: tests/inroot.sh DIR CMD..." >&2
	exit 64
fi
root=$(cd "$1" 2>/dev/null && pwd) || {
	echo "tests/inroot.sh: no such directory: $1" >&2
	exit 64
}
shift
case $root in
*[[:space:]]*)
	echo "tests/inroot.sh: $root: a path with spaces is not supported" >&2
	exit 64
	;;
esac
if [ ! -x "$root/bin/sh" ]; then
	echo "tests/inroot.sh: $root is not a root (no /bin/sh)" >&2
	exit 64
fi

# Processes whose root directory is this root: left behind by CMD.
kill_left() {
	sig=$1
	found=1
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] || continue
		[ "${p#/proc/}" = "$$" ] && continue
		kill "-$sig" "${p#/proc/}" 2>/dev/null && found=0
	done
	return $found
}

mounted=""
umount_all() {
	if kill_left TERM; then
		sleep 1
		kill_left KILL && sleep 0.2
	fi
	# Innermost first: $mounted is kept in reverse order.
	for m in $mounted; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	mounted=""
}
trap umount_all EXIT
trap 'exit 130' INT TERM HUP

mnt() {
	# mnt WHERE MOUNT-ARGS...
	where=$root$1
	shift
	mkdir -p "$where"
	mount "$@" "$where" || exit 71
	mounted="$where $mounted"
}
# The root is a mount point of its own, as / is on a real machine: a
# test's `unshare -m` makes / private, which a plain directory refuses.
mnt "" --bind "$root"
mount --make-private "$root" || exit 71
mnt /proc -t proc proc
mnt /sys -t sysfs sysfs
mnt /dev --bind /dev
# What is mounted under the root's /dev must not show up in this
# machine's /dev when / is a shared mount.
mount --make-private "$root/dev" || exit 71
# This machine's ptys: /dev/ptmx (bound with /dev) allocates in them.
mnt /dev/pts --bind /dev/pts
mnt /dev/shm -t tmpfs -o mode=1777 tmpfs

# A clean environment: what a root login in the root would have.
set -- env -i HOME=/root USER=root LOGNAME=root TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 $(grep -E '^[A-Z_]+=[^ ]*$' "$root/etc/environment" \
    2>/dev/null) chroot "$root" "$@"
"$@"
rc=$?
umount_all
exit $rc
