# postern: a drop-in sendmail that relays over SMTP.
.POSIX:

include config.mk

LIBOBJ = src/addr.o src/buf.o src/cli.o src/config.o src/config_keys.o src/config_print.o src/config_set.o src/conn.o \
	src/deliver.o src/err.o src/fdio.o src/log.o src/msg.o src/msg_addr.o \
	src/msg_body.o src/msg_hdr.o src/msg_in.o src/server.o src/server_cmd.o \
	src/smtp.o src/smtp_reply.o src/smtp_tx.o src/tls.o \
	src/spool.o src/spool_env.o src/queue.o src/queue_admin.o src/bounce.o \
	src/smtp_tls.o src/tls_x509.o \
	src/auth.o src/auth_mechs.o src/auth_plain.o src/auth_login.o src/auth_ntlm.o src/auth_xoauth2.o src/auth_gssapi.o src/krb.o \
	src/base64.o src/md4.o src/ntlm.o src/ntlm_crypto.o src/ossl.o \
	src/cred.o src/smtp_auth.o \
	src/listen.o src/listen_loop.o src/listen_sock.o src/peer.o
LIBOBJ += src/oauth2.o src/oauth2_cache.o src/oauth2_dl.o src/jwt.o
OBJ = src/main.o $(LIBOBJ)
LIBSRC = src/addr.c src/buf.c src/cli.c src/config.c src/config_keys.c src/config_print.c src/config_set.c src/conn.c \
	src/deliver.c src/err.c src/fdio.c src/log.c src/msg.c src/msg_addr.c \
	src/msg_body.c src/msg_hdr.c src/msg_in.c src/server.c src/server_cmd.c \
	src/smtp.c src/smtp_reply.c src/smtp_tx.c src/tls.c \
	src/spool.c src/spool_env.c src/queue.c src/queue_admin.c src/bounce.c \
	src/smtp_tls.c src/tls_x509.c \
	src/auth.c src/auth_mechs.c src/auth_plain.c src/auth_login.c src/auth_ntlm.c src/auth_xoauth2.c src/auth_gssapi.c src/krb.c \
	src/base64.c src/md4.c src/ntlm.c src/ntlm_crypto.c src/ossl.c \
	src/cred.c src/smtp_auth.c \
	src/listen.c src/listen_loop.c src/listen_sock.c src/peer.c
LIBSRC += src/oauth2.c src/oauth2_cache.c src/oauth2_dl.c src/jwt.c
HDR = include/postern/addr.h include/postern/buf.h include/postern/cli.h \
	include/postern/config.h include/postern/conn.h \
	include/postern/deliver.h include/postern/err.h include/postern/fdio.h include/postern/tls.h \
	include/postern/log.h include/postern/msg.h \
	include/postern/server.h include/postern/smtp.h src/config_int.h src/ossl.h src/ossl_crypto.h src/ossl_ssl.h src/server_int.h src/msg_int.h \
	include/postern/auth.h src/auth_int.h src/krb.h include/postern/cred.h \
	src/tls_int.h \
	src/smtp_int.h include/postern/spool.h include/postern/queue.h \
	include/postern/bounce.h src/spool_int.h \
	include/postern/listen.h include/postern/peer.h src/listen_int.h
# The queue run over several connections (issue 15).
LIBOBJ += src/queue_pool.o
LIBSRC += src/queue_pool.c
HDR += src/queue_int.h
HDR += include/postern/oauth2.h include/postern/jwt.h src/oauth2_dl.h
UNIT = tests/unit/t_addr tests/unit/t_buf tests/unit/t_cli \
	tests/unit/t_config tests/unit/t_msg tests/unit/t_smtp_reply \
	tests/unit/t_smtp tests/unit/t_smtp_tx tests/unit/t_tls tests/unit/t_ntlm tests/unit/t_auth \
	tests/unit/t_spool tests/unit/t_cred tests/unit/t_peer
UNIT_NET = tests/unit/t_smtp_bdat
UNIT += $(UNIT_NET)
UNIT += tests/unit/t_jwt
# One fuzz target per parser fed by a peer or a caller (tests/fuzz/).
FUZZ = reply ntlm msg addr config spool server cli
# Each linked with tests/fuzz/replay.c for make check (replays the corpus).
FUZZREPLAY = tests/fuzz/fz_reply tests/fuzz/fz_ntlm tests/fuzz/fz_msg \
	tests/fuzz/fz_addr tests/fuzz/fz_config tests/fuzz/fz_spool \
	tests/fuzz/fz_server tests/fuzz/fz_cli
FUZZLIB = tests/fuzz/fuzz.c tests/fuzz/fuzz.h

all: havedeps postern

# Stop at once, with one line naming the missing Debian packages.
havedeps:
	@sh tests/havedeps.sh "$(CC)"

.SUFFIXES: .c .o
.c.o:
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJ): $(HDR) config.mk

libpostern.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

postern: src/main.o libpostern.a
	$(CC) $(LDFLAGS) -o $@ src/main.o libpostern.a $(LIBS)

$(UNIT): libpostern.a tests/unit/t.h
tests/unit/t_addr: tests/unit/t_addr.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_addr.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_buf: tests/unit/t_buf.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_buf.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_cli: tests/unit/t_cli.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_cli.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_config: tests/unit/t_config.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_config.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_msg: tests/unit/t_msg.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_msg.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_smtp_reply: tests/unit/t_smtp_reply.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_smtp_reply.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_smtp: tests/unit/t_smtp.c tests/unit/fake_smtpd.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_smtp.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_smtp_tx: tests/unit/t_smtp_tx.c tests/unit/fake_smtpd.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_smtp_tx.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_smtp_bdat: tests/unit/t_smtp_bdat.c tests/unit/fake_smtpd.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_smtp_bdat.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_tls: tests/unit/t_tls.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_tls.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_spool: tests/unit/t_spool.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_spool.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_ntlm: tests/unit/t_ntlm.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_ntlm.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_auth: tests/unit/t_auth.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_auth.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_cred: tests/unit/t_cred.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_cred.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_peer: tests/unit/t_peer.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_peer.c libpostern.a $(LIBS) $(TESTLIBS)
tests/unit/t_jwt: tests/unit/t_jwt.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/t_jwt.c libpostern.a $(LIBS) $(TESTLIBS)

$(FUZZREPLAY): libpostern.a $(FUZZLIB) tests/fuzz/replay.c
$(FUZZREPLAY):
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $@.c tests/fuzz/fuzz.c \
	    tests/fuzz/replay.c libpostern.a $(LIBS) $(TESTLIBS)
tests/fuzz/fz_reply: tests/fuzz/fz_reply.c
tests/fuzz/fz_ntlm: tests/fuzz/fz_ntlm.c
tests/fuzz/fz_msg: tests/fuzz/fz_msg.c
tests/fuzz/fz_addr: tests/fuzz/fz_addr.c
tests/fuzz/fz_config: tests/fuzz/fz_config.c
tests/fuzz/fz_spool: tests/fuzz/fz_spool.c
tests/fuzz/fz_server: tests/fuzz/fz_server.c
tests/fuzz/fz_cli: tests/fuzz/fz_cli.c

# Install what building and testing need (Debian packages, as root).
deps:
	sh tests/deps.sh

# Only what building and make demo need.
builddeps:
	sh tests/deps.sh build

check: deps postern $(UNIT) $(FUZZREPLAY)
	sh tests/run . 

# The whole suite built with ASan and UBSan (clang's: SANCC in config.mk),
# in its own directory, the fuzz corpora replayed too.
ASAN = build/asan
# Each source is compiled once (two at a time), then linked into the
# program and every unit test.
check-asan: deps
	mkdir -p $(ASAN)/src $(ASAN)/tests/unit $(ASAN)/tests/fuzz
	for s in src/main.c $(LIBSRC); do echo $$s; done | \
	    xargs -P 2 -I{} sh -c '$(SANCC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) \
	    -c -o $(ASAN)/$$(dirname {})/$$(basename {} .c).o {}' || exit 1
	rm -f $(ASAN)/libpostern.a
	ar rcs $(ASAN)/libpostern.a $$(for s in $(LIBSRC); do \
	    echo $(ASAN)/src/$$(basename $$s .c).o; done)
	$(SANCC) $(CFLAGS) $(SANFLAGS) -o $(ASAN)/postern $(ASAN)/src/main.o \
	    $(ASAN)/libpostern.a $(LIBS)
	for t in $(UNIT); do \
	    $(SANCC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -o $(ASAN)/$$t \
	    $$t.c $(ASAN)/libpostern.a $(LIBS) $(TESTLIBS) || exit 1; done
	for t in $(FUZZREPLAY); do \
	    $(SANCC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -o $(ASAN)/$$t \
	    $$t.c tests/fuzz/fuzz.c tests/fuzz/replay.c \
	    $(ASAN)/libpostern.a $(LIBS) $(TESTLIBS) || exit 1; done
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh tests/run $(ASAN)

# make demo and make check in a throwaway minimal Debian 12 root (as root;
# slow, so not in .ci/run): tests/fresh.sh.
check-fresh:
	sh tests/fresh.sh

# The fuzz targets with libFuzzer, ASan and UBSan (clang), in build/fuzz.
FUZZDIR = build/fuzz
FUZZCC = clang
FUZZFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
fuzz: deps
	mkdir -p $(FUZZDIR)/src
	for s in $(LIBSRC) tests/fuzz/fuzz.c; do echo $$s; done | \
	    xargs -P 2 -I{} sh -c '$(FUZZCC) $(CPPFLAGS) $(CFLAGS) \
	    $(FUZZFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $(FUZZDIR)/src/$$(basename {} .c).o {}' || exit 1
	rm -f $(FUZZDIR)/libpostern.a
	ar rcs $(FUZZDIR)/libpostern.a $$(for s in $(LIBSRC); do \
	    echo $(FUZZDIR)/src/$$(basename $$s .c).o; done)
	for t in $(FUZZ); do \
	    $(FUZZCC) $(CPPFLAGS) $(CFLAGS) $(FUZZFLAGS) -fsanitize=fuzzer \
	    -o $(FUZZDIR)/fz_$$t tests/fuzz/fz_$$t.c $(FUZZDIR)/src/fuzz.o \
	    $(FUZZDIR)/libpostern.a $(LIBS) $(TESTLIBS) || exit 1; done

# Each target FUZZ_SECONDS long, two at a time, from its seed corpus;
# what it learns stays in build/fuzz/corpus, findings in build/fuzz/findings.
FUZZ_SECONDS = 60
fuzz-run: fuzz
	sh tests/fuzz/run.sh $(FUZZDIR) $(FUZZ_SECONDS) $(FUZZ)

demo: builddeps postern
	sh tests/demo.sh

bench: deps postern
	sh bench/run.sh

install: postern
	mkdir -p $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBDIR_SENDMAIL) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)
	cp postern $(DESTDIR)$(SBINDIR)/postern
	chmod 755 $(DESTDIR)$(SBINDIR)/postern
	# A link another mailer owns is left alone, or with FORCE_LINKS=1
	# moved to NAME.postern-backup (never over an older backup).
	for l in $(INSTALL_LINKS); do d="$(DESTDIR)$$l"; \
	    if ! { [ -e "$$d" ] || [ -L "$$d" ]; } || \
	        readlink "$$d" | grep -q postern; then \
	        ln -sf $(SBINDIR)/postern "$$d"; \
	    elif [ -z "$(FORCE_LINKS)" ]; then :; \
	    elif [ -e "$$d.postern-backup" ] || [ -L "$$d.postern-backup" ]; \
	    then echo "make install: $$d left alone:" \
	        "$$d.postern-backup already exists"; \
	    else mv "$$d" "$$d.postern-backup" && \
	        ln -s $(SBINDIR)/postern "$$d" && \
	        echo "make install: $$d is now postern's;" \
	            "the old one is $$d.postern-backup"; fi; done
	cp man/postern.8 $(DESTDIR)$(MANDIR)/man8/postern.8
	cp man/postern.ini.5 $(DESTDIR)$(MANDIR)/man5/postern.ini.5
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/postern.ini ]; then \
	    cp contrib/postern.ini.example $(DESTDIR)$(SYSCONFDIR)/postern.ini; \
	    chmod 644 $(DESTDIR)$(SYSCONFDIR)/postern.ini; fi
	$(MAKE) install-spool
	@$(MAKE) -s install-report

INSTALL_LINKS = $(SBINDIR)/sendmail $(LIBDIR_SENDMAIL)/sendmail \
	$(BINDIR)/mailq $(BINDIR)/newaliases
# The last lines of make install: which names still run another mailer,
# and the command that gives them to postern.
install-report:
	@left=""; for l in $(INSTALL_LINKS); do d="$(DESTDIR)$$l"; \
	    if { [ -e "$$d" ] || [ -L "$$d" ]; } && \
	        ! readlink "$$d" | grep -q postern; then \
	        left="$$left $$d"; fi; done; \
	if [ "$(SBINDIR)" != /usr/sbin ] && \
	    { [ -e "$(DESTDIR)/usr/sbin/sendmail" ] || \
	    [ -L "$(DESTDIR)/usr/sbin/sendmail" ]; } && \
	    ! readlink "$(DESTDIR)/usr/sbin/sendmail" | grep -q postern; then \
	    echo "make install: note: /usr/sbin/sendmail, which PHP and" \
	        "cron run, is another mailer's; PREFIX=/usr installs" \
	        "postern there"; fi; \
	if [ -z "$$left" ]; then \
	    echo "make install: done; sendmail, mailq and newaliases in" \
	        "$(SBINDIR), $(LIBDIR_SENDMAIL) and $(BINDIR) run postern"; \
	else \
	    echo "make install: done, but these still run another" \
	        "mailer, left alone:$$left"; \
	    echo "make install: to make them postern's (each one kept as" \
	        "NAME.postern-backup): make install PREFIX=$(PREFIX)" \
	        "$(DESTDIR:%=DESTDIR=%) FORCE_LINKS=1"; fi

# The spool, the postern group and the set-group-ID binary (postern(8),
# THE SPOOL).  The group is created only by root installing into the live
# system (DESTDIR empty); the binary becomes set-group-ID only when the
# group exists, so a packager's unprivileged DESTDIR install stays plain.
# The systemd units and the cron line are installed, never enabled.
SPOOLDIR = /var/spool/postern
POSTERN_GROUP = postern
POSTERN_USER = postern
UNITDIR = /lib/systemd/system
DOCDIR = $(PREFIX)/share/doc/postern
install-spool:
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    ! getent group $(POSTERN_GROUP) >/dev/null; then \
	    groupadd -r $(POSTERN_GROUP); fi
	# The user postern -bd and postern@.service serve clients as.
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    ! getent passwd $(POSTERN_USER) >/dev/null; then \
	    useradd -r -g $(POSTERN_GROUP) -d /nonexistent \
	        -s /usr/sbin/nologin $(POSTERN_USER); fi
	mkdir -p $(DESTDIR)$(SPOOLDIR)/tmp $(DESTDIR)$(SPOOLDIR)/queue \
	    $(DESTDIR)$(SPOOLDIR)/state $(DESTDIR)$(SPOOLDIR)/failed \
	    $(DESTDIR)$(SPOOLDIR)/tls \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	if [ "$$(id -u)" = 0 ] && getent group $(POSTERN_GROUP) >/dev/null; \
	then \
	    chown root:$(POSTERN_GROUP) $(DESTDIR)$(SPOOLDIR) \
	        $(DESTDIR)$(SPOOLDIR)/tmp $(DESTDIR)$(SPOOLDIR)/queue \
	        $(DESTDIR)$(SPOOLDIR)/state $(DESTDIR)$(SPOOLDIR)/failed \
	        $(DESTDIR)$(SPOOLDIR)/tls $(DESTDIR)$(SBINDIR)/postern && \
	    chmod 2755 $(DESTDIR)$(SBINDIR)/postern && \
	    if [ "$$(stat -c %G $(DESTDIR)$(SYSCONFDIR)/postern.ini)" = root ]; \
	    then chown root:$(POSTERN_GROUP) \
	        $(DESTDIR)$(SYSCONFDIR)/postern.ini && \
	        chmod 640 $(DESTDIR)$(SYSCONFDIR)/postern.ini; fi; fi
	chmod 2770 $(DESTDIR)$(SPOOLDIR) $(DESTDIR)$(SPOOLDIR)/tmp \
	    $(DESTDIR)$(SPOOLDIR)/queue $(DESTDIR)$(SPOOLDIR)/state \
	    $(DESTDIR)$(SPOOLDIR)/failed $(DESTDIR)$(SPOOLDIR)/tls
	sed -e 's|/usr/local/sbin|$(SBINDIR)|' \
	    -e 's|/usr/local/share/doc/postern|$(DOCDIR)|' \
	    contrib/postern-queue.service \
	    > $(DESTDIR)$(UNITDIR)/postern-queue.service
	cp contrib/postern-queue.timer $(DESTDIR)$(UNITDIR)/postern-queue.timer
	chmod 644 $(DESTDIR)$(UNITDIR)/postern-queue.service \
	    $(DESTDIR)$(UNITDIR)/postern-queue.timer
	for u in postern.socket postern@.service postern-bd.service; do \
	    sed 's|/usr/local/sbin|$(SBINDIR)|' contrib/$$u \
	        > $(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	sed -e 's|/usr/local/sbin|$(SBINDIR)|' \
	    -e 's|/usr/local/share/doc/postern|$(DOCDIR)|' contrib/postern.cron \
	    > $(DESTDIR)$(DOCDIR)/postern.cron

# The unit tests alone: what the Debian package's build runs.
check-unit: postern $(UNIT)
	TESTS='t_*' sh tests/run .

# The Debian package, dist/postern_$(VERSION)_<arch>.deb (debian/,
# README: Install).  Built with dpkg-buildpackage in a copy of this tree
# under build/deb, so nothing lands beside the tree; the build
# dependencies are installed like make check's (tests/deps.sh deb).
DEBBUILD = build/deb
deb:
	sh tests/deps.sh deb
	v=$$(dpkg-parsechangelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
	    { echo "make deb: debian/changelog says $$v but config.mk's" \
	    "VERSION is $(VERSION)" >&2; exit 1; }
	rm -rf $(DEBBUILD)
	mkdir -p $(DEBBUILD)/postern-$(VERSION) dist
	tar -cf - --exclude=./.git --exclude=./build --exclude=./dist . | \
	    tar -xf - -C $(DEBBUILD)/postern-$(VERSION)
	cd $(DEBBUILD)/postern-$(VERSION) && dpkg-buildpackage -b -us -uc
	cp $(DEBBUILD)/postern_$(VERSION)_*.deb dist/
	ls dist/postern_$(VERSION)_*.deb

# Install the package in a throwaway Debian 12 root and check it
# (tests/deb/check.sh; several minutes, not part of make check).
check-deb:
	sh tests/deb/check.sh

format:
	clang-format -i src/*.c include/postern/*.h tests/unit/*.c \
	    tests/fuzz/*.c tests/fuzz/*.h

clean:
	rm -f postern libpostern.a $(OBJ) $(UNIT) $(FUZZREPLAY)
	rm -rf build dist

.PHONY: all havedeps deps builddeps check check-asan check-unit check-fresh deb check-deb fuzz fuzz-run demo bench install install-spool install-report format clean
