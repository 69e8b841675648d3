#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/mkroot.sh DIR: create DIR, a throwaway minimal Debian 12 root
# (mmdebstrap --variant=minbase bookworm) holding only what a person needs
# to clone a repository and type make: git, make, ca-certificates.  Run as
# root.  mmdebstrap is installed with apt-get when missing.
#
# The root trusts what this machine trusts beyond Debian's CA list: the
# certificates in /usr/local/share/ca-certificates and npm's cafile (when
# it is not the system bundle) are copied into the root's
# /usr/local/share/ca-certificates and update-ca-certificates runs there,
# so the package registries answer through the same proxy they do here.
# /etc/resolv.conf and /etc/hosts come from this machine.
#
# The root's /etc/environment sets NODE_EXTRA_CA_CERTS to the root's CA
# bundle; tests/inroot.sh exports it.  DIR must not exist.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: tests/mkroot.sh DIR" >&2
	exit 64
fi
root=$1
if [ -e "$root" ]; then
	echo "tests/mkroot.sh: $root already exists" >&2
	exit 73
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/mkroot.sh: must run as root (chroot, mounts)" >&2
	exit 77
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
	echo "tests/mkroot.sh: installing mmdebstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >&2 ||
	    { apt-get update -q >&2 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >&2; }
fi

# This machine's apt sources (deb822 or one-line), else Debian's mirror.
set --
for s in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list.d/*.list; do
	[ -f "$s" ] && [ -s "$s" ] || continue
	grep -q -E 'bookworm' "$s" || continue
	set -- "$@" "$s"
done
[ $# -gt 0 ] || set -- http://deb.debian.org/debian
# The host's date checks, when it turned them off (a snapshot mirror's
# Release files are old), are off for the root's own apt too.
dump=$(apt-config dump 2>/dev/null)
valid="" date=""
case $dump in *'Acquire::Check-Valid-Until "false"'*)
	valid='--aptopt=Acquire::Check-Valid-Until "false"' ;;
esac
case $dump in *'Acquire::Check-Date "false"'*)
	date='--aptopt=Acquire::Check-Date "false"' ;;
esac
echo "tests/mkroot.sh: creating $root (mmdebstrap, minbase bookworm)" >&2
mmdebstrap --variant=minbase --include=git,make,ca-certificates \
    ${valid:+"$valid"} ${date:+"$date"} -q bookworm "$root" "$@" >&2

# The certificates this machine trusts beyond Debian's list.
mkdir -p "$root/usr/local/share/ca-certificates"
for c in /usr/local/share/ca-certificates/*.crt; do
	[ -f "$c" ] && cp "$c" "$root/usr/local/share/ca-certificates/"
done
cafile=$(npm config get cafile 2>/dev/null || true)
case $cafile in
"" | null | undefined | /etc/ssl/certs/*) ;;
*) [ -f "$cafile" ] &&
    cp "$cafile" "$root/usr/local/share/ca-certificates/npm-cafile.crt" ;;
esac
chroot "$root" update-ca-certificates >/dev/null
echo "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    >>"$root/etc/environment"

cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/hosts "$root/etc/hosts"
echo "tests/mkroot.sh: $root is ready" >&2
