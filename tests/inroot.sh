#!/bin/sh
# tests/inroot.sh DIR CMD...: run CMD as root inside the root DIR (made by
# tests/mkroot.sh) with /proc, /sys and /dev mounted.  The mounts live in
# a private mount namespace that ends with CMD, so they are gone however
# CMD ends (even killed) and never show outside: removing DIR afterwards
# cannot reach this machine's /dev or /sys.  DNS comes from this
# machine's /etc/resolv.conf.  Exits with CMD's status.

set -eu

if [ $# -lt 2 ]; then
	echo "usage: tests/inroot.sh DIR CMD..." >&2
	exit 64
fi
dir=$1
shift
if [ ! -x "$dir/bin/sh" ]; then
	echo "tests/inroot.sh: $dir: not a root made by tests/mkroot.sh" >&2
	exit 66
fi
cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || :

# shellcheck disable=SC2016
exec unshare --mount --propagation private sh -c '
	set -e
	dir=$1
	shift
	mount -t proc proc "$dir/proc"
	mount --rbind /sys "$dir/sys"
	mount --rbind /dev "$dir/dev"
	exec chroot "$dir" /usr/bin/env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root LANG=C.UTF-8 TERM=dumb "$@"' inroot "$dir" "$@"
