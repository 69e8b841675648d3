/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_msg.c: messages as real callers write them, read with msg_read and
 * checked byte for byte in wire form.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "postern/config.h"
#include "postern/conn.h"
#include "postern/err.h"
#include "postern/msg.h"
#include "t.h"

static struct config C;
static struct msg_opts O;
static struct msg M;
static struct err E;
static char *Head, *Body;

static void
setup(void)
{
	static struct addr_alias aliases[] = { { "postmaster",
	    "ops@example.com" } };

	memset(&C, 0, sizeof(C));
	C.domain = "example.org";
	C.send_as_user = 1;
	C.aliases = aliases;
	C.naliases = 1;
	memset(&O, 0, sizeof(O));
	O.user = "alice";
	O.tmpdir = "/tmp";
	O.cfg = &C;
}

/* A temporary file holding n bytes of s, at offset 0. */
static int
input(const char *s, size_t n)
{
	char path[] = "/tmp/t_msg.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1 || unlink(path) == -1 || write(fd, s, n) != (ssize_t)n ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		perror("t_msg: input");
		exit(2);
	}
	return fd;
}

static char *
body_text(const struct msg *m)
{
	char *b = malloc((size_t)m->body_len + 1);

	if (b == NULL ||
	    pread(m->body_fd, b, (size_t)m->body_len, 0) !=
		(ssize_t)m->body_len) {
		perror("t_msg: body");
		exit(2);
	}
	b[m->body_len] = '\0';
	return b;
}

/* Read s; Head and Body hold the result (NULL on failure). */
static int
rd_n(const char *s, size_t n)
{
	int fd = input(s, n), r;

	free(Head);
	free(Body);
	Head = Body = NULL;
	msg_free(&M);
	err_clear(&E);
	r = msg_read(fd, &O, &M, &E);
	close(fd);
	if (r == 0) {
		Head = strdup(buf_str(&M.head));
		Body = body_text(&M);
	}
	return r;
}

static int
rd(const char *s)
{
	return rd_n(s, strlen(s));
}

static int
has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static int
starts(const char *s, const char *p)
{
	return s != NULL && strncmp(s, p, strlen(p)) == 0;
}

/* Every line ends CRLF, no bare CR or LF, none longer than max. */
static int
wire_ok(const char *s, size_t max)
{
	const char *p = s, *nl;

	while (*p) {
		if ((nl = strstr(p, "\r\n")) == NULL)
			return 0;
		if ((size_t)(nl - p) > max || memchr(p, '\r', nl - p) ||
		    memchr(p, '\n', nl - p))
			return 0;
		p = nl + 2;
	}
	return 1;
}

static void
t_php(void)
{
	setup();
	T_OK(rd("To: bob@example.net\r\nSubject: Order\r\n"
		"From: shop@site.example\r\n\r\nline1\nline2\n") == 0,
	    "php: read");
	T_OK(starts(Head,
		 "To: bob@example.net\r\nSubject: Order\r\n"
		 "From: shop@site.example\r\nDate: "),
	    "php: headers kept in order, Date added");
	T_OK(has(Head, "\r\nMessage-ID: <") && has(Head, "@example.org>\r\n"),
	    "php: Message-ID added with the domain");
	T_OK(M.msgid != NULL && M.msgid[0] == '<' && has(Head, M.msgid),
	    "php: msgid is the header value");
	T_STR(Body, "line1\r\nline2\r\n", "php: LF body goes out CRLF");
	T_STR(M.sender, "shop@site.example", "php: sender from From");
	T_OK(wire_ok(Head, 998) && wire_ok(Body, 998), "php: wire form");
	T_OK(M.size == strlen(Head) + strlen(Body), "php: size");
	T_OK(!M.eightbit && !M.utf8_addrs && !M.reencoded && !M.folded,
	    "php: no flags");
	T_OK(M.nrcpts == 0, "php: no -t, no recipients");
}

static void
t_cron(void)
{
	setup();
	T_OK(rd("From: root (Cron Daemon)\nTo: root\n"
		"Subject: Cron <root@h> run-parts\n\nok\n") == 0,
	    "cron: read");
	T_OK(starts(Head,
		 "From: root@example.org (Cron Daemon)\r\n"
		 "To: root@example.org\r\n"
		 "Subject: Cron <root@h> run-parts\r\nDate: "),
	    "cron: local names qualified, comment kept");
	T_STR(M.sender, "root@example.org", "cron: envelope from From");
	T_OK(rd("From: <postmaster>\nTo: Ops <postmaster>, x@y.z\n\nb\n") == 0,
	    "alias: read");
	T_OK(starts(Head,
		 "From: <ops@example.com>\r\n"
		 "To: Ops <ops@example.com>, x@y.z\r\n"),
	    "alias: applied in headers");
	T_STR(M.sender, "ops@example.com", "alias: applied in envelope");
}

static void
t_mbox_from(void)
{
	setup();
	T_OK(rd("From 8e3f Mon Sep 17 00:00:00 2001\nFrom: A <a@x.org>\n"
		"Subject: [PATCH] fix\n\n---\n") == 0,
	    "git: read");
	T_OK(starts(Head, "From: A <a@x.org>\r\nSubject: [PATCH] fix\r\n"),
	    "git: mbox From line dropped");
	T_STR(Body, "---\r\n", "git: body");
	T_OK(rd("Subject: s\n\nFrom here on\n") == 0 &&
		strcmp(Body, "From here on\r\n") == 0,
	    "mbox From kept when not the first line");
}

static void
t_bcc(void)
{
	setup();
	O.extract = 1;
	T_OK(rd("To: a@x.org\nBcc: b@y.org, a@x.org\nCc: c\n"
		"Return-Path: <z@z>\nContent-Length: 4\nSubject: "
		"s\n\nbody\n") == 0,
	    "mailx: read");
	T_OK(M.nrcpts == 3, "mailx: three recipients, deduplicated");
	T_OK(M.nrcpts == 3 && strcmp(M.rcpts[0], "a@x.org") == 0 &&
		strcmp(M.rcpts[1], "b@y.org") == 0 &&
		strcmp(M.rcpts[2], "c@example.org") == 0,
	    "mailx: recipients in order, qualified");
	T_OK(!has(Head, "Bcc") && !has(Head, "Return-Path") &&
		!has(Head, "Content-Length"),
	    "mailx: Bcc, Return-Path, Content-Length removed");
	O.extract = 0;
	T_OK(rd("To: a@x.org\nBcc: b@y.org\n\nb\n") == 0 && !has(Head, "Bcc") &&
		M.nrcpts == 0,
	    "Bcc removed without -t");
}

static void
t_dots(void)
{
	setup();
	T_OK(rd("Subject: s\n\nline\n.\nafter\n") == 0, "dot: read");
	T_STR(Body, "line\r\n", "dot: lone dot ends input");
	T_OK(rd("Subject: s\n\nline\r\n.\r\nafter\n") == 0 &&
		strcmp(Body, "line\r\n") == 0,
	    "dot: lone dot with CRLF");
	T_OK(rd("Subject: s\n\nline\n.") == 0 && strcmp(Body, "line\r\n") == 0,
	    "dot: lone dot at EOF");
	T_OK(rd(".\nrest\n") == 0 && strcmp(Body, "") == 0 &&
		has(Head, "Date: "),
	    "dot: lone dot as the first line");
	O.ignore_dots = 1;
	T_OK(rd("Subject: s\n\nline\n.\nafter\n") == 0, "dot -i: read");
	T_STR(Body, "line\r\n..\r\nafter\r\n", "dot -i: kept and stuffed");
	O.ignore_dots = 0;
	T_OK(rd("Subject: s\n\n..\n..x\n.foo\n. \n") == 0, "stuff: read");
	T_STR(Body, "...\r\n...x\r\n..foo\r\n.. \r\n",
	    "stuff: .. never unstuffed, leading dots doubled");
}

static void
t_line_ends(void)
{
	setup();
	T_OK(rd("Subject: s\n\nabc") == 0, "eof: read");
	T_STR(Body, "abc\r\n", "eof: last line terminated");
	T_OK(rd("Subject: s") == 0 && starts(Head, "Subject: s\r\nFrom: ") &&
		has(Head, "\r\nDate: ") && strcmp(Body, "") == 0,
	    "eof: header only, no newline");
	T_OK(rd("Subject: s\r\n\r\na\rb\r\nc\r") == 0, "cr: read");
	T_STR(Body, "a\r\nb\r\nc\r\n", "cr: bare CR becomes a line break");
	T_OK(rd("Subject: x\ry\n\nb\n") == 0 &&
		starts(Head, "Subject: x\r\n") &&
		strcmp(Body, "y\r\n\r\nb\r\n") == 0,
	    "cr: bare CR in a header ends the header block");
	T_OK(rd("") == 0 && strcmp(Body, "") == 0 && has(Head, "From: "),
	    "empty input: headers only");
	T_OK(wire_ok(Head, 998), "empty input: wire form");
}

static void
t_eightbit(void)
{
	size_t n = 200000, i;
	char *in = malloc(n + 16);

	setup();
	T_OK(rd("Subject: s\n\ncaf\xc3\xa9\n") == 0 && M.eightbit &&
		!M.utf8_addrs,
	    "8bit: body octet sets eightbit");
	T_OK(rd("Subject: s\n\ncafe\n") == 0 && !M.eightbit, "8bit: ASCII");
	memcpy(in, "Subject: s\n\n", 12);
	for (i = 12; i < n; i++)
		in[i] = i % 50 ? 'a' : '\n';
	memcpy(in + n, "\n\xe9\n", 4);
	T_OK(rd_n(in, n + 3) == 0 && M.eightbit,
	    "8bit: found in a later chunk");
	free(in);
}

static void
t_nul(void)
{
	setup();
	T_OK(rd_n("Subject: s\n\nok\nb\0d\n", 18) == -1, "nul: refused");
	T_OK(E.class == ERR_DATA, "nul: ERR_DATA");
	T_STR(E.text, "message contains a NUL byte (line 4)", "nul: text");
	T_OK(rd_n("Sub\0ject: s\n\n", 13) == -1 &&
		strcmp(E.text, "message contains a NUL byte (line 1)") == 0,
	    "nul: in a header");
	T_OK(rd_n("Subject: s\n\nok\n.\n\0\n", 19) == 0,
	    "nul: after the lone dot is not read");
}

/* Undo quoted-printable (soft breaks, =XY) and CRLF -> LF. */
static char *
qp_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	unsigned int v;

	while (*s) {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=' && sscanf(s + 1, "%2X", &v) == 1) {
			*o++ = (char)v;
			s += 3;
		} else if (s[0] == '\r' && s[1] == '\n') {
			*o++ = '\n';
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static void
t_long_qp(void)
{
	char *in, *body, *dec;
	size_t i;

	setup();
	in = malloc(6000);
	body = malloc(6000);
	for (i = 0; i < 5000; i++)
		body[i] = "ab =.x\t"[i % 7];
	memcpy(body + 5000, " \n.last\n", 9);
	snprintf(in, 6000, "Subject: long\n\n%s", body);
	T_OK(rd(in) == 0, "qp: read");
	T_OK(M.reencoded && !M.folded, "qp: reencoded");
	T_OK(has(Head, "\r\nContent-Transfer-Encoding: quoted-printable\r\n") &&
		has(Head, "\r\nMIME-Version: 1.0\r\n") &&
		has(Head, "\r\nContent-Type: text/plain; charset=us-ascii\r\n"),
	    "qp: MIME headers added");
	T_OK(wire_ok(Body, 76), "qp: lines at most 76");
	T_OK(Body != NULL && Body[0] != '.' && !has(Body, "\n."),
	    "qp: no line starts with a dot");
	dec = Body ? qp_decode(Body) : NULL;
	T_STR(dec, body, "qp: content survives");
	free(dec);
	T_OK(M.size == strlen(Head) + strlen(Body), "qp: size");

	/* 8-bit text, an existing 8bit encoding: replaced */
	snprintf(in, 6000, "Content-Transfer-Encoding: 8bit\n\n\xc3\xa9%s",
	    body);
	T_OK(rd(in) == 0 && M.reencoded, "qp 8bit: reencoded");
	T_OK(has(Head, "Content-Transfer-Encoding: quoted-printable\r\n") &&
		!has(Head, "8bit") && has(Head, "charset=utf-8"),
	    "qp 8bit: CTE replaced, charset utf-8");
	T_OK(!M.eightbit, "qp 8bit: wire is 7-bit now");
	T_OK(has(Body, "=C3=A9"), "qp 8bit: octets escaped");
	free(in);
	free(body);
}

static void
t_long_fold(void)
{
	char *in, *joined;
	const char *p, *nl;
	size_t i, n = 0;

	setup();
	in = malloc(4000);
	i = (size_t)snprintf(in, 4000,
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n");
	for (; i < 3000; i++)
		in[i] = (i % 1000) == 0 ? '.' : 'q';
	memcpy(in + 3000, "\n--b--\n", 8);
	T_OK(rd(in) == 0, "fold: read");
	T_OK(M.folded && !M.reencoded, "fold: folded, not reencoded");
	T_OK(!has(Head, "quoted-printable"), "fold: no CTE added");
	T_OK(wire_ok(Body, 998), "fold: lines at most 998");
	joined = malloc(strlen(Body) + 1);
	for (p = Body; (nl = strstr(p, "\r\n")) != NULL; p = nl + 2) {
		if (*p == '.') /* unstuff */
			p++;
		memcpy(joined + n, p, (size_t)(nl - p));
		n += (size_t)(nl - p);
	}
	joined[n] = '\0';
	in[3000] = '\0';
	T_OK(n > 0 && strcmp(joined, "--b") > 0 &&
		strstr(joined, strstr(in, "\n--b\n\n") + 6) != NULL,
	    "fold: content survives");
	free(joined);

	snprintf(in, 4000, "Content-Transfer-Encoding: base64\n\n");
	memset(in + strlen(in), 'A', 1500);
	in[35 + 1500] = '\0';
	T_OK(rd(in) == 0 && M.folded && !M.reencoded,
	    "fold: base64 body is folded");
	free(in);
}

static void
t_no_header(void)
{
	setup();
	T_OK(rd("hello world\nmore: x\n") == 0, "nohdr: read");
	T_OK(starts(Head, "From: alice@example.org\r\nDate: ") &&
		has(Head, ">\r\n\r\n"),
	    "nohdr: generated headers on top");
	T_STR(Body, "hello world\r\nmore: x\r\n", "nohdr: all body");
	T_OK(rd("Subject: s\nthis is body\n") == 0 &&
		starts(Head, "Subject: s\r\nFrom: ") &&
		strcmp(Body, "this is body\r\n") == 0,
	    "nohdr: separator inserted before a non-header line");
	T_OK(rd(" indented\n") == 0 && strcmp(Body, " indented\r\n") == 0,
	    "nohdr: leading blank is body");
}

static void
t_resent(void)
{
	setup();
	O.extract = 1;
	T_OK(rd("To: old@x.org\nCc: oldcc@x.org\nResent-From: me@z.org\n"
		"Resent-To: new@y.org, Ops <postmaster>\n"
		"Resent-Bcc: hidden@w.org\n\nb\n") == 0,
	    "resent: read");
	T_OK(M.nrcpts == 3 && strcmp(M.rcpts[0], "new@y.org") == 0 &&
		strcmp(M.rcpts[1], "ops@example.com") == 0 &&
		strcmp(M.rcpts[2], "hidden@w.org") == 0,
	    "resent: only Resent-To/Cc/Bcc");
	T_OK(!has(Head, "Resent-Bcc") && has(Head, "To: old@x.org"),
	    "resent: Resent-Bcc removed, To kept");
	T_OK(rd("To: <a@b\n\nb\n") == -1 && E.class == ERR_DATA &&
		starts(E.text, "bad address syntax in the To: header"),
	    "-t: broken To is ERR_DATA naming the header");
	T_OK(rd("To: undisclosed-recipients:;\n\nb\n") == 0 && M.nrcpts == 0,
	    "-t: empty group gives nothing");
	T_OK(rd("To: j\xc3\xb6rg@b\xc3\xa4r.example\n\nb\n") == 0 &&
		M.utf8_addrs && M.eightbit,
	    "-t: UTF-8 recipient sets utf8_addrs");
	O.extract = 0;
}

static void
t_relay(void)
{
	setup();
	O.relay = 1;
	T_OK(rd("To: root\nSubject: s\n\nb\n") == 0, "-G: read");
	T_STR(Head, "To: root\r\nSubject: s\r\n\r\n", "-G: nothing added");
	T_STR(M.sender, "alice@example.org", "-G: envelope still qualified");
	T_STR(M.msgid, "", "-G: no Message-ID");
	T_OK(rd("From: root\n\nb\n") == 0 &&
		strcmp(Head, "From: root\r\n\r\n") == 0 &&
		strcmp(M.sender, "root@example.org") == 0,
	    "-G: From kept, envelope from it qualified");
	O.relay = 0;
}

static void
t_policy(void)
{
	setup();
	C.sender_spec = "noreply@example.org";
	C.sender_name = "Example Site";
	C.send_as_user = 0;
	O.sender = "someone@else.org";
	T_OK(rd("From: Alice <alice@other.org>\nSubject: s\n\nb\n") == 0,
	    "policy no: read");
	T_STR(M.sender, "noreply@example.org", "policy no: envelope");
	T_OK(starts(Head, "From: Example Site <noreply@example.org>\r\n"),
	    "policy no: From replaced");
	T_OK(has(Head, "\r\nReply-To: Alice <alice@other.org>\r\n"),
	    "policy no: original From kept as Reply-To");
	T_OK(rd("From: a@o.org\nReply-To: r@o.org\n\nb\n") == 0 &&
		has(Head, "Reply-To: r@o.org\r\n") &&
		!has(Head, "Reply-To: a@o.org"),
	    "policy no: existing Reply-To kept");
	T_OK(rd("From: Noreply <NOREPLY@example.org>\n\nb\n") == 0 &&
		!has(Head, "Reply-To"),
	    "policy no: same From, no Reply-To");
	T_OK(rd("Subject: s\n\nb\n") == 0 &&
		has(Head, "From: Example Site <noreply@example.org>\r\n"),
	    "policy no: From added");
	C.sender_name = NULL;
	T_OK(rd("Subject: s\n\nb\n") == 0 &&
		has(Head, "From: noreply@example.org\r\n"),
	    "policy no: address without name");

	C.send_as_user = 1;
	T_OK(rd("From: Alice <alice@other.org>\n\nb\n") == 0 &&
		strcmp(M.sender, "someone@else.org") == 0 &&
		starts(Head, "From: Alice <alice@other.org>\r\n") &&
		!has(Head, "Reply-To"),
	    "policy yes: -f, From left alone");
	O.sender = "<>";
	T_OK(rd("Subject: s\n\nb\n") == 0 && strcmp(M.sender, "") == 0 &&
		has(Head, "From: alice@example.org\r\n"),
	    "policy yes: null sender, From names the user");
	O.sender = "Bob <bob>";
	T_OK(rd("Subject: s\n\nb\n") == 0 &&
		strcmp(M.sender, "bob@example.org") == 0,
	    "policy yes: -f qualified");
	O.sender = "<a@b";
	T_OK(rd("Subject: s\n\nb\n") == -1 && E.class == ERR_DATA,
	    "policy yes: bad -f is ERR_DATA");
	O.sender = NULL;
	T_OK(rd("Subject: s\n\nb\n") == 0 &&
		strcmp(M.sender, "alice@example.org") == 0,
	    "policy yes: user@domain");
}

static void
t_fullname(void)
{
	setup();
	O.fullname = "J\xc3\xbcrgen M\xc3\xbcller";
	O.user = "juergen";
	T_OK(rd("Subject: s\n\nb\n") == 0, "-F: read");
	T_OK(has(Head,
		 "\r\nFrom: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= "
		 "<juergen@example.org>\r\n"),
	    "-F: UTF-8 name encoded");
	O.fullname = "Cron Daemon";
	T_OK(rd("Subject: s\n\nb\n") == 0 &&
		has(Head, "From: Cron Daemon <juergen@example.org>\r\n"),
	    "-F: plain name");
	O.fullname = "Doe, \"J\"";
	T_OK(rd("Subject: s\n\nb\n") == 0 &&
		has(Head, "From: \"Doe, \\\"J\\\"\" <juergen@example.org>\r\n"),
	    "-F: specials quoted");
	O.fullname = "Cron Daemon";
	T_OK(rd("From: x@y.org\n\nb\n") == 0 && !has(Head, "Cron"),
	    "-F: unused when From exists");
}

static void
t_msgid(void)
{
	setup();
	T_OK(rd("Message-ID:\n <abc@host>\n\nb\n") == 0 &&
		strcmp(M.msgid, "<abc@host>") == 0 &&
		!has(Head, "example.org>"),
	    "msgid: existing kept");
	C.domain = "mail.test";
	T_OK(rd("Subject: s\n\nb\n") == 0 && has(Head, "@mail.test>\r\n") &&
		has(M.msgid, "@mail.test>"),
	    "msgid: right side is the domain");
}

static void
t_continuation(void)
{
	setup();
	T_OK(rd("Subject: a\n long\n\tsubject\nTo: root,\n  bob\n\nb\n") == 0,
	    "cont: read");
	T_OK(starts(Head,
		 "Subject: a\r\n long\r\n\tsubject\r\n"
		 "To: root@example.org,\r\n  bob@example.org\r\n"),
	    "cont: folding kept, names qualified");
}

static void
t_long_header(void)
{
	char in[3000];
	const char *p;

	setup();
	memcpy(in, "Subject: ", 9);
	memset(in + 9, 'w', 2000);
	memcpy(in + 9 + 2000, "\n\nb\n", 5);
	for (p = in + 9 + 100; p < in + 2000; p += 100)
		in[p - in] = ' ';
	T_OK(rd(in) == 0 && M.folded && wire_ok(Head, 998), "hdr: folded");
	T_OK(has(Head, "w\r\n w"), "hdr: folded at a blank");
	memset(in + 9, 'w', 2000);
	T_OK(rd(in) == 0 && M.folded && wire_ok(Head, 998) &&
		has(Head, "w\r\n w"),
	    "hdr: no blank, split hard");
}

static void
t_limits(void)
{
	size_t n = MSG_HEADER_MAX + 100 - (MSG_HEADER_MAX + 100) % 10, i;
	char *in = malloc(n + 1);

	setup();
	for (i = 0; i < n; i += 10)
		memcpy(in + i, "X-Pad: xx\n", 10);
	in[n] = '\0';
	T_OK(rd_n(in, n) == -1 && E.class == ERR_DATA &&
		starts(E.text, "the header block is longer"),
	    "header block cap");
	free(in);
	O.tmpdir = "/nonexistent/dir";
	T_OK(rd("Subject: s\n\nb\n") == -1 && E.class == ERR_OS,
	    "tmpdir missing: ERR_OS");
	setup();
	msg_free(&M);
	T_OK(msg_read(-1, &O, &M, &E) == -1 && E.class == ERR_IO,
	    "read error: ERR_IO");
}

/* The same input through a pipe in 1- to 3-byte writes. */
static void
t_split(void)
{
	static const char in[] = "From x\r\nSubject: s\r\n\r\na\rb\r\n.x\r\n"
				 ".\r\nafter\n";
	int p[2], fd;
	pid_t pid;
	size_t i, k;

	setup();
	if (pipe(p) == -1 || (pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		close(p[0]);
		for (i = 0; i < sizeof(in) - 1; i += k) {
			k = 1 + i % 3;
			if (k > sizeof(in) - 1 - i)
				k = sizeof(in) - 1 - i;
			if (write(p[1], in + i, k) != (ssize_t)k)
				_exit(1);
			usleep(200);
		}
		_exit(0);
	}
	close(p[1]);
	msg_free(&M);
	fd = p[0];
	T_OK(msg_read(fd, &O, &M, &E) == 0, "split: read");
	close(fd);
	waitpid(pid, NULL, 0);
	free(Body);
	Body = body_text(&M);
	T_OK(starts(buf_str(&M.head), "Subject: s\r\nFrom: "), "split: head");
	T_STR(Body, "a\r\nb\r\n..x\r\n", "split: body");
}

/* msg_emit through a real connection to a local listener. */
static void
t_emit(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct conn *c;
	char port[16], got[8192], want[8192];
	size_t n = 0;
	ssize_t r;
	int ls, fd;
	pid_t pid;

	setup();
	T_OK(rd("Subject: emit\n\nline\n.dot\n") == 0, "emit: read");
	snprintf(want, sizeof(want), "%s%s", Head, Body);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) == -1)
		exit(2);
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	if ((pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		if (conn_open(&c, "127.0.0.1", port, 5, &E) == -1 ||
		    msg_emit(&M, c, &E) == -1 || msg_emit(&M, c, &E) == -1 ||
		    conn_flush(c, &E) == -1)
			_exit(1);
		conn_close(c);
		_exit(0);
	}
	fd = accept(ls, NULL, NULL);
	while (fd != -1 && n < sizeof(got) - 1 &&
	    (r = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = '\0';
	close(fd);
	close(ls);
	waitpid(pid, NULL, 0);
	T_OK(strlen(want) * 2 == n && strncmp(got, want, strlen(want)) == 0 &&
		strcmp(got + strlen(want), want) == 0,
	    "emit: head and body, twice (a retry re-reads from 0)");
	T_OK(n >= 2 && got[n - 2] == '\r' && got[n - 1] == '\n',
	    "emit: ends with CRLF");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	M.body_fd = -1;
	t_php();
	t_cron();
	t_mbox_from();
	t_bcc();
	t_dots();
	t_line_ends();
	t_nul();
	t_eightbit();
	t_long_qp();
	t_long_fold();
	t_no_header();
	t_resent();
	t_relay();
	t_policy();
	t_fullname();
	t_msgid();
	t_continuation();
	t_long_header();
	t_limits();
	t_split();
	t_emit();
	msg_free(&M);
	free(Head);
	free(Body);
	return t_done();
}
