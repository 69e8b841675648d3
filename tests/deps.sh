#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# tests/deps.sh: make sure the Debian packages needed to build and test
# postern are installed.  Fast when they are (dpkg-query only).  Missing
# ones are installed when running as root (apt-get update once, then a
# non-interactive install, with Postfix preseeded to "No configuration" so
# no system mail server is configured or started); otherwise the missing
# packages and the command are printed and the exit status is 1.

set -u

# "build" (make, make demo): what building and the demo need; "deb" (make
# deb): that and the Debian packaging tools; anything else (make check,
# make bench): the test peers and real callers too.
PKGS="gcc make pkg-config libssl-dev libntlm0-dev libinih-dev python3"
# gcc only Recommends the C library headers.
PKGS="$PKGS libc6-dev"
PKGS="$PKGS libkrb5-dev"  # auth = gssapi: the GSS-API headers (src/krb.h)
if [ "${1:-test}" = deb ]; then
	PKGS="$PKGS build-essential dpkg-dev debhelper"  # make deb (debian/control)
elif [ "${1:-test}" != build ]; then
	PKGS="$PKGS coreutils postfix sasl2-bin libsasl2-modules msmtp openssl
php-cli mutt git git-email"
	PKGS="$PKGS swaks curl nodejs systemd iproute2"  # test_bd*: -bd clients, socket activation, netns
	# git send-email needs Mail::Address (only a Recommends of git-email).
	PKGS="$PKGS libmailtools-perl"
	PKGS="$PKGS clang libclang-rt-14-dev"  # make check-asan, make fuzz
	PKGS="$PKGS krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit libgssapi-krb5-2"  # test_gssapi: a KDC, Cyrus GSSAPI
fi
PKGS="$PKGS libcurl4-openssl-dev libjson-c-dev"  # auth = xoauth2: token client
if [ "${1:-test}" != build ]; then
	PKGS="$PKGS nodejs"  # the OAuth 2.0 test server (oidc-provider)
	# A nodejs from elsewhere (NodeSource) brings its own npm and
	# conflicts with Debian's.
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"  # oidc-provider
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
	case $st in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
# test_bd: nodemailer is installed with npm (some nodejs builds carry it).
if [ "${1:-test}" != build ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi
# The package may be installed without the /usr/bin/python3 link.
case " $missing " in
*" python3 "*) ;;
*) [ -x /usr/bin/python3 ] || missing="$missing python3" ;;
esac

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/deps.sh: missing Debian packages:$missing" >&2
	echo "install them as root with:" >&2
	echo "  echo 'postfix postfix/main_mailer_type select No configuration'" \
	    "| debconf-set-selections" >&2
	echo "  DEBIAN_FRONTEND=noninteractive apt-get install -y" \
	    "--no-install-recommends$missing" >&2
	exit 1
fi

echo "tests/deps.sh: installing:$missing" >&2
# Before postfix is unpacked: no system instance, no questions.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections || exit 1
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || exit 1
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing || exit 1
