#!/bin/sh
# tests/mkroot.sh DIR: make DIR a throwaway minimal Debian 12 root
# (mmdebstrap --variant=minbase), to install and test in as on a fresh
# machine.  DIR must not exist or be empty.  The root trusts the same CA
# certificates as this machine's /usr/local/share/ca-certificates (the
# package archives may be reached through a proxy whose CA only those
# name), and keeps this machine's apt archive.  Run as root; mmdebstrap
# is installed when missing.  Use tests/inroot.sh to run commands in it.

set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: tests/mkroot.sh DIR" >&2
	exit 64
fi
dir=$1
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/mkroot.sh: must run as root (mmdebstrap, chroot)" >&2
	exit 77
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "tests/mkroot.sh: $dir: exists and is not empty" >&2
	exit 73
fi
if ! command -v mmdebstrap >/dev/null; then
	apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends mmdebstrap
fi

mirror=http://deb.debian.org/debian
# The snapshot the archive serves may be older than its Valid-Until.
mmdebstrap --variant=minbase --include=ca-certificates \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --aptopt='Acquire::Check-Date "false"' \
    --customize-hook='mkdir -p "$1/usr/local/share/ca-certificates"' \
    --customize-hook='for c in /usr/local/share/ca-certificates/*.crt; do
	[ -e "$c" ] && cp "$c" "$1/usr/local/share/ca-certificates/"; done; :' \
    --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
    bookworm "$dir" \
    "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
