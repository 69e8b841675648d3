#!/bin/sh
# SPDX-License-Identifier: ISC (see LICENSE)
# mkcerts.sh DIR: generate the TLS test certificates into DIR (run time
# only: no private key is ever committed).  EC P-256 keys, so this takes
# a fraction of a second.
#
#   ca.pem             test CA (trusted by the tests via tls_ca_file)
#   server.pem/.key    CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   other.pem/.key     CN=other.example (name mismatch)
#   expired.pem/.key   localhost, notAfter yesterday
#   evil.pem/.key      localhost, issued by an untrusted CA (evilca.pem)
#   client.pem/.key    a client certificate issued by the test CA
set -eu
dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1.key" 2>/dev/null
}

ca() {
	key "$1"
	openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -out "$1.pem" 2>/dev/null
}

# leaf NAME CA CN SAN DAYS [EKU]
leaf() {
	key "$1"
	openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" \
	    2>/dev/null
	printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\n' "$4" \
	    >"$1.ext"
	printf 'extendedKeyUsage=%s\n' "${6:-serverAuth}" >>"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -days "$5" \
	    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca "postern test CA"
ca evilca "postern untrusted CA"
leaf server ca localhost "DNS:localhost,IP:127.0.0.1" 365
leaf other ca other.example "DNS:other.example,DNS:www.other.example" 365
# -days -1: notAfter lies a day before notBefore (now), i.e. expired.
leaf expired ca localhost "DNS:localhost,IP:127.0.0.1" -1
leaf evil evilca localhost "DNS:localhost,IP:127.0.0.1" 365
leaf client ca "postern client" "DNS:client.example" 365 clientAuth
chmod 644 ./*.pem
