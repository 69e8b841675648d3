#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/havedeps.sh CC: before `make` builds anything, check that the C
# compiler and the headers the build includes are there.  When something
# is missing, print one line naming the Debian packages and the command
# that installs them, and exit 1 (make stops at once, instead of at the
# first "fatal error: ini.h: No such file or directory").
#
# Headers are probed with the compiler itself (CC -E), which is what the
# build needs: it works with or without pkg-config and on any system.
set -u
cc=${1:-cc}
missing=""

if ! command -v "$cc" >/dev/null 2>&1; then
	missing="gcc libc6-dev libinih-dev libkrb5-dev libntlm0-dev libssl-dev libcurl4-openssl-dev libjson-c-dev"
else
	# header package, the C library's first: without it nothing compiles.
	for pair in errno.h:libc6-dev ini.h:libinih-dev ntlm.h:libntlm0-dev \
	    openssl/ssl.h:libssl-dev gssapi/gssapi.h:libkrb5-dev \
	    curl/curl.h:libcurl4-openssl-dev json-c/json.h:libjson-c-dev; do
		h=${pair%%:*}
		printf '#include <%s>\n' "$h" |
		    "$cc" -E -x c - >/dev/null 2>&1 ||
		    missing="$missing ${pair#*:}"
	done
	missing=${missing# }
fi
[ -z "$missing" ] && exit 0
echo "make: missing Debian packages: $missing; install them as root" \
    "(or with sudo): apt-get install $missing" >&2
exit 1
