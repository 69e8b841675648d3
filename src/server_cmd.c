/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * server_cmd.c: the commands of "sendmail -bs" other than DATA: their
 * syntax (paths, ESMTP parameters, xtext) and their replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "postern/addr.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/server.h"
#include "postern/smtp.h"
#include "server_int.h"

/*
 * The path of MAIL FROM:<...> or RCPT TO:<...>: arg points after the
 * colon.  Copies the address (without brackets and source route) into
 * addr and returns a pointer to the parameters, or NULL on bad syntax.
 */
static const char *
srv_path(const char *arg, char *addr, size_t cap)
{
	const char *p = arg, *end;
	size_t n;
	int quoted = 0;

	while (*p == ' ')
		p++;
	if (*p != '<') {
		/* Lenient, as Postfix: a bare address up to the first space. */
		end = p + strcspn(p, " ");
	} else {
		for (end = ++p; *end != '\0'; end++) {
			if (*end == '\\' && end[1] != '\0')
				end++;
			else if (*end == '"')
				quoted = !quoted;
			else if (*end == '>' && !quoted)
				break;
		}
		if (*end != '>')
			return NULL;
		/* An obsolete source route <@a,@b:user@d> is dropped. */
		if (*p == '@') {
			const char *c = memchr(p, ':', (size_t)(end - p));

			if (c == NULL)
				return NULL;
			p = c + 1;
		}
	}
	n = (size_t)(end - p);
	if (n >= cap)
		return NULL;
	memcpy(addr, p, n);
	addr[n] = '\0';
	if (*end == '>')
		end++;
	if (*end != '\0' && *end != ' ')
		return NULL;
	while (*end == ' ')
		end++;
	return end;
}

/* One ESMTP parameter "KEY=value" into key/value (value may be ""). */
static int
srv_param(const char **pp, char *key, size_t kcap, char *val, size_t vcap)
{
	const char *p = *pp, *eq, *end;
	size_t kn, vn;

	end = p + strcspn(p, " ");
	eq = memchr(p, '=', (size_t)(end - p));
	kn = (size_t)((eq ? eq : end) - p);
	vn = eq ? (size_t)(end - eq - 1) : 0;
	if (kn == 0 || kn >= kcap || vn >= vcap)
		return -1;
	memcpy(key, p, kn);
	key[kn] = '\0';
	if (eq)
		memcpy(val, eq + 1, vn);
	val[vn] = '\0';
	while (*end == ' ')
		end++;
	*pp = end;
	return 0;
}

/* Decode RFC 3461 xtext ("+2B" is '+'); printable ASCII out. */
static int
srv_xtext(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	unsigned int c;

	if (*in == '\0' || strlen(in) > 100)
		return -1;
	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (c == '+') {
			if (sscanf(in + 1, "%2X", &c) != 1 ||
			    strspn(in + 1, "0123456789ABCDEF") < 2)
				return -1;
			in += 2;
		}
		if (c < 0x20 || c > 0x7e || n + 1 >= cap)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/*
 * Parse addr as one mailbox and put its canonical addr-spec in out (cap
 * octets): what goes upstream and to the spool is the parsed address,
 * never the client's text (comments, group syntax, routes are gone).
 * 0, or -1 with a 501 sent.
 */
static int
srv_parse_addr(struct srv *s, const char *addr, int allow_null, char *out,
    size_t cap)
{
	struct addr_list l;
	struct err e;
	int ok;

	if (addr[0] == '\0' && allow_null) {
		out[0] = '\0';
		return 0;
	}
	memset(&l, 0, sizeof(l));
	err_clear(&e);
	ok = addr[0] != '\0' &&
	    addr_parse_list(addr, strlen(addr), &l, &e) == 0 && l.n == 1 &&
	    l.v[0].name == NULL && l.v[0].spec[0] != '\0' &&
	    strchr(addr, ',') == NULL &&
	    snprintf(out, cap, "%s", l.v[0].spec) < (int)cap;
	addr_list_free(&l);
	if (!ok) {
		out[0] = '\0';
		srv_reply(s, "501 5.1.%d Bad %s address syntax",
		    allow_null ? 7 : 3, allow_null ? "sender" : "recipient");
		return -1;
	}
	return 0;
}

static void
cmd_mail(struct srv *s, const char *arg)
{
	char key[32] = "", val[128], addr[ADDR_SPEC_MAX + 3];
	const char *p;

	if (s->mail) {
		srv_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    (p = srv_path(arg + 5, addr, sizeof(addr))) == NULL) {
		srv_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (srv_parse_addr(s, addr, 1, s->sender, sizeof(s->sender)) == -1)
		return;
	s->smtputf8 = 0;
	while (*p != '\0') {
		if (srv_param(&p, key, sizeof(key), val, sizeof(val)) == -1)
			goto bad;
		if (strcasecmp(key, "BODY") == 0 &&
		    strcasecmp(val, "7BIT") == 0)
			s->body = "7BIT";
		else if (strcasecmp(key, "BODY") == 0 &&
		    strcasecmp(val, "8BITMIME") == 0)
			s->body = "8BITMIME";
		else if (strcasecmp(key, "SIZE") == 0) {
			/* no limit of our own; the upstream checks its own */
			if (val[0] == '\0' || strlen(val) > 20 ||
			    val[strspn(val, "0123456789")] != '\0') {
				srv_reply(s, "501 5.5.4 Bad SIZE= value");
				s->sender[0] = s->envid[0] = '\0';
				s->body = s->ret = NULL;
				return;
			}
		} else if (strcasecmp(key, "SMTPUTF8") == 0 && val[0] == '\0')
			/* postern asks the upstream when addresses need it */
			s->smtputf8 = 1;
		else if (strcasecmp(key, "RET") == 0 &&
		    strcasecmp(val, "FULL") == 0)
			s->ret = "FULL";
		else if (strcasecmp(key, "RET") == 0 &&
		    strcasecmp(val, "HDRS") == 0)
			s->ret = "HDRS";
		else if (strcasecmp(key, "ENVID") == 0 &&
		    srv_xtext(val, s->envid, sizeof(s->envid)) == 0)
			;
		else
			goto bad;
	}
	if (addr_is_8bit(s->sender) && !s->smtputf8) {
		s->sender[0] = s->envid[0] = '\0';
		s->body = s->ret = NULL;
		srv_reply(s,
		    "553 5.6.7 A non-ASCII address needs "
		    "MAIL ... SMTPUTF8");
		return;
	}
	s->mail = 1;
	srv_reply(s, "250 2.1.0 Ok");
	return;
bad:
	s->sender[0] = s->envid[0] = '\0';
	s->body = s->ret = NULL;
	srv_reply(s, "555 5.5.4 Unsupported option: %.64s", key);
}

static void
cmd_rcpt(struct srv *s, const char *arg)
{
	char addr[ADDR_SPEC_MAX + 3], key[32] = "", val[128], **nv, *spec;
	char canon[ADDR_SPEC_MAX + 1];
	const char *p;

	if (!s->mail) {
		srv_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    (p = srv_path(arg + 3, addr, sizeof(addr))) == NULL) {
		srv_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (srv_parse_addr(s, addr, 0, canon, sizeof(canon)) == -1)
		return;
	if (addr_is_8bit(canon) && !s->smtputf8) { /* RFC 6531 3.4 */
		srv_reply(s,
		    "553 5.6.7 A non-ASCII address needs "
		    "MAIL ... SMTPUTF8");
		return;
	}
	while (*p != '\0') {
		if (srv_param(&p, key, sizeof(key), val, sizeof(val)) == -1)
			goto bad;
		if (strcasecmp(key, "NOTIFY") == 0) {
			/* Refused now, not at every attempt later. */
			if (!smtp_notify_ok(val)) {
				srv_reply(s, "501 5.5.4 Bad NOTIFY= value");
				return;
			}
			/* One NOTIFY goes upstream per transaction: the
			 * first one given. */
			if (s->notify[0] == '\0')
				snprintf(s->notify, sizeof(s->notify), "%s",
				    val);
		} else if (strcasecmp(key, "ORCPT") == 0 &&
		    strchr(val, ';') != NULL) {
			; /* postern sends its own ORCPT upstream */
		} else {
			goto bad;
		}
	}
	if (s->nrcpts == SERVER_RCPT_MAX) {
		srv_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if ((spec = addr_rewrite(canon, &s->rw)) == NULL ||
	    (nv = reallocarray(s->rcpts, s->nrcpts + 1, sizeof(*nv))) == NULL) {
		free(spec);
		srv_reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
	s->rcpts = nv;
	s->rcpts[s->nrcpts++] = spec;
	srv_reply(s, "250 2.1.5 Ok");
	return;
bad:
	srv_reply(s, "555 5.5.4 Unsupported option: %.64s", key);
}

static void
cmd_ehlo(struct srv *s, const char *arg, int esmtp)
{
	if (*arg == '\0') {
		srv_reply(s, "501 5.5.4 Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return;
	}
	srv_reset(s);
	if (!esmtp) {
		srv_reply(s, "250 %s", s->cfg->domain);
		return;
	}
	srv_reply(s, "250-%s", s->cfg->domain);
	srv_reply(s, "250-PIPELINING");
	srv_reply(s, "250-SIZE");
	srv_reply(s, "250-8BITMIME");
	srv_reply(s, "250-SMTPUTF8");
	srv_reply(s, "250-DSN");
	srv_reply(s, "250-ENHANCEDSTATUSCODES");
	srv_reply(s, "250 HELP");
}

void
srv_command(struct srv *s, char *line)
{
	char *arg = line + strcspn(line, " ");

	if (*arg != '\0')
		*arg++ = '\0';
	while (*arg == ' ')
		arg++;
	if (strcasecmp(line, "EHLO") == 0)
		cmd_ehlo(s, arg, 1);
	else if (strcasecmp(line, "HELO") == 0)
		cmd_ehlo(s, arg, 0);
	else if (strcasecmp(line, "MAIL") == 0)
		cmd_mail(s, arg);
	else if (strcasecmp(line, "RCPT") == 0)
		cmd_rcpt(s, arg);
	else if (strcasecmp(line, "DATA") == 0)
		cmd_data(s, arg);
	else if (strcasecmp(line, "RSET") == 0) {
		srv_reset(s);
		srv_reply(s, "250 2.0.0 Ok");
	} else if (strcasecmp(line, "NOOP") == 0)
		srv_reply(s, "250 2.0.0 Ok");
	else if (strcasecmp(line, "QUIT") == 0) {
		srv_reply(s, "221 2.0.0 Bye");
		s->closing = 1;
	} else if (strcasecmp(line, "HELP") == 0)
		srv_reply(s,
		    "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA "
		    "RSET NOOP QUIT HELP VRFY");
	else if (strcasecmp(line, "VRFY") == 0)
		srv_reply(s,
		    "252 2.5.2 Cannot VRFY user, but will accept "
		    "message and attempt delivery");
	else if (strcasecmp(line, "EXPN") == 0 ||
	    strcasecmp(line, "STARTTLS") == 0 ||
	    strcasecmp(line, "AUTH") == 0 || strcasecmp(line, "BDAT") == 0 ||
	    strcasecmp(line, "ETRN") == 0 || strcasecmp(line, "TURN") == 0) {
		s->errors++;
		srv_reply(s, "502 5.5.1 Error: command not implemented");
	} else {
		s->errors++;
		srv_reply(s, "500 5.5.2 Error: command not recognized");
	}
}
