# config.mk: build settings; override on the command line (make PREFIX=/usr).
VERSION = 0.1.0

PREFIX = /usr/local
SBINDIR = $(PREFIX)/sbin
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
SYSCONFDIR = /etc
LIBDIR_SENDMAIL = /usr/lib
DESTDIR =

CC = cc
PKG_CONFIG = pkg-config
CPPFLAGS = -Iinclude -D_GNU_SOURCE -DPOSTERN_VERSION=\"$(VERSION)\"
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wno-unused-parameter -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDFLAGS =
# OpenSSL is not linked: src/ossl.c loads it when a delivery needs TLS or
# NTLM (src/ossl.h says why).  Unit tests may call it directly.
LIBS = -linih -lntlm
TESTLIBS = -lssl -lcrypto

# The sanitizer build (make check-asan): clang, whose UBSan checks more
# than gcc's (pointer overflow: NULL + 0).
SANCC = clang
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
