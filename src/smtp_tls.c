/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp_tls.c: the TLS step of an SMTP session: implicit TLS (SMTPS)
 * right after connect, or STARTTLS (RFC 3207) after the first EHLO; the
 * session cache file; what -v, the log and --serverinfo say about it.
 *
 * tls = starttls never falls back to clear text: a server that does not
 * offer STARTTLS (or a man in the middle that strips it from the EHLO
 * reply), refuses it, or sends anything after its 220 before the
 * handshake is a temporary failure, and the connection is dropped before
 * any of the message could leave.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "postern/config.h"
#include "postern/log.h"
#include "postern/tls.h"
#include "smtp_int.h"

/*
 * The session file for host:port in the configured directory, created
 * (0770: under the spool a set-group-ID postern shares it) if missing.
 * "" when there is none: no cache is never an error.
 */
static void
cache_path(const struct config_server *srv, const char *host, const char *port,
    char *out, size_t outsz)
{
	char name[320];
	size_t i;
	int n;

	out[0] = '\0';
	if (srv->tls_session_cache == NULL)
		return;
	if (mkdir(srv->tls_session_cache, 0770) == 0)
		/* postern runs with umask 077; the group shares the dir. */
		(void)chmod(srv->tls_session_cache, 0770);
	else if (errno != EEXIST)
		return;
	n = snprintf(name, sizeof(name), "%s_%s", host, port);
	if (n < 0 || (size_t)n >= sizeof(name))
		return;
	/* IPv6 literals and service names: keep the name one plain word. */
	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '-')
			name[i] = '_';
	n = snprintf(out, outsz, "%s/%s", srv->tls_session_cache, name);
	if (n < 0 || (size_t)n >= outsz)
		out[0] = '\0';
}

static const char *
verify_word(int verified)
{
	return verified == TLS_VERIFIED ? "verified"
	    : verified == TLS_PINNED    ? "pinned"
					: "NOT verified";
}

/* After the handshake: remember, tell -v and the log. */
static void
tls_report(struct smtp_session *s)
{
	const struct tls_info *in = &s->tls;

	snprintf(s->tls_text, sizeof(s->tls_text), "%s/%s%s", in->version,
	    in->cipher, in->resumed ? "/resumed" : "");
	if (s->opts.verbose)
		fprintf(stderr,
		    "*** TLS %s, %s, %s session, certificate %s\n"
		    "*** TLS subject %s, issuer %s, valid to %s\n"
		    "*** TLS pin %s\n",
		    in->version, in->cipher, in->resumed ? "resumed" : "new",
		    verify_word(in->verified), in->subject, in->issuer,
		    in->not_after, in->pin);
	log_msg(LOG_INFO,
	    "relay=%s tls=%s verify=%s subject=\"%s\" issuer=\"%s\" pin=%s",
	    s->relay, s->tls_text,
	    in->verified == TLS_VERIFIED     ? "ok"
		: in->verified == TLS_PINNED ? "pinned"
					     : "none",
	    in->subject, in->issuer, in->pin);
	if (in->verified == TLS_UNVERIFIED) {
		log_msg(LOG_WARNING,
		    "relay=%s: tls_verify = no: the server's certificate is "
		    "not checked, so a man in the middle can read and change "
		    "this connection%s%s%s",
		    s->relay, in->verify_error[0] ? " (it would fail: " : "",
		    in->verify_error, in->verify_error[0] ? ")" : "");
		if (s->opts.verbose)
			fprintf(stderr,
			    "*** TLS WARNING: tls_verify = no, "
			    "the certificate is not checked\n");
	}
}

/* The handshake on s's connection, with srv's settings, for host. */
static int
tls_begin(struct smtp_session *s, const struct config_server *srv,
    const struct config_host *h, const char *port, struct err *err)
{
	struct tls_opts o;
	char cache[4096];

	memset(&o, 0, sizeof(o));
	o.host = h->host; /* the name as configured, never the address */
	o.verify = srv->tls_verify;
	o.ca_file = srv->tls_ca_file;
	o.ca_dir = srv->tls_ca_dir;
	o.pins = srv->tls_pin;
	o.min_version = srv->tls_min_version ? 13 : 12;
	o.cert = srv->tls_client_cert;
	o.key = srv->tls_client_key;
	o.ciphers = srv->tls_ciphers;
	cache_path(srv, h->host, port, cache, sizeof(cache));
	o.session_cache = cache[0] != '\0' ? cache : NULL;
	o.timeout = s->opts.timeout;
	if (conn_starttls(s->conn, &o, err) == -1) {
		smtp_drop(s);
		return -1;
	}
	tls_get_info(conn_tls(s->conn), &s->tls);
	tls_report(s);
	return 0;
}

int
smtp_tls_implicit(struct smtp_session *s, const struct config_server *srv,
    const struct config_host *h, const char *port, struct err *err)
{
	if (srv->tls != CONFIG_TLS_IMPLICIT)
		return 0;
	return tls_begin(s, srv, h, port, err);
}

/* Say goodbye before dropping, so the server logs a clean end. */
static void
tls_quit(struct smtp_session *s)
{
	struct err e;

	if (s->conn != NULL && smtp_put(s, "QUIT", 0, &e) == 0 &&
	    smtp_flush(s, &e) == 0)
		(void)smtp_read(s, &s->reply, "the reply to QUIT", &e);
}

int
smtp_tls_starttls(struct smtp_session *s, const struct config_server *srv,
    const struct config_host *h, const char *port, struct err *err)
{
	const struct smtp_reply *r;

	if (srv->tls != CONFIG_TLS_STARTTLS)
		return 0;
	s->ehlo_clear = s->ehlo;
	s->starttls = 1;
	if (!s->caps.starttls) {
		tls_quit(s);
		return err_set(err, ERR_TEMP,
		    "%s does not offer STARTTLS: not sending in clear text "
		    "(tls = starttls)",
		    s->relay);
	}
	if (smtp_command(s, "STARTTLS", 0, &r, err) == -1)
		return -1;
	if (r->code != 220) {
		smtp_refused(s, r, ERR_TEMP, err, "STARTTLS refused");
		tls_quit(s);
		return -1;
	}
	/*
	 * Nothing may follow the 220 before our ClientHello; whatever did
	 * was not sent by the TLS peer and would be read as its replies
	 * (CVE-2011-0411).  Refuse rather than guess.
	 */
	if (conn_pending(s->conn) > 0)
		return err_set(err, ERR_TEMP,
		    "%s sent data after its 220 to STARTTLS (an injection "
		    "attempt?): not continuing",
		    s->relay);
	if (tls_begin(s, srv, h, port, err) == -1)
		return -1;
	/* RFC 3207 4.2: forget what was learnt in clear text. */
	memset(&s->caps, 0, sizeof(s->caps));
	return smtp_ehlo(s, err);
}

const char *
smtp_tls(const struct smtp_session *s)
{
	return s->tls_text[0] != '\0' ? s->tls_text : "no";
}

/* --serverinfo: the TLS step and the server's certificates. */
int
smtp_tls_print(const struct smtp_session *s, FILE *fp)
{
	const struct tls_info *in = &s->tls;
	struct tls *t = s->conn != NULL ? conn_tls(s->conn) : NULL;

	if (t == NULL)
		return 0;
	fprintf(fp, "tls: %s, %s, %s session\n", in->version, in->cipher,
	    in->resumed ? "resumed" : "new");
	fprintf(fp, "verification: %s%s%s\n", verify_word(in->verified),
	    in->verify_error[0] ? ": " : "", in->verify_error);
	return tls_print_chain(t, fp);
}
