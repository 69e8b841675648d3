/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * deliver.c: one submission, from the caller's input to the server's
 * answer: envelope recipients from argv and the message, the SMTP
 * transaction on the configured server, and the log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/buf.h"
#include "postern/cli.h"
#include "postern/config.h"
#include "postern/deliver.h"
#include "postern/err.h"
#include "postern/log.h"
#include "postern/msg.h"
#include "postern/queue.h"
#include "postern/smtp.h"

#define RCPT_MAX 10000 /* envelope recipients of one message */
#define LOG_TO_MAX 2048 /* the to= field of a log line */

struct rcpts {
	char **v;
	size_t n;
	size_t cap;
};

/* Add spec (taking ownership) unless the list already has it. */
static int
rcpts_add(struct rcpts *r, char *spec, struct err *e)
{
	char **nv;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcasecmp(r->v[i], spec) == 0) {
			free(spec);
			return 0;
		}
	}
	if (r->n == RCPT_MAX) {
		free(spec);
		return err_set(e, ERR_DATA, "more than %d recipients",
		    RCPT_MAX);
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		if ((nv = reallocarray(r->v, r->cap, sizeof(*nv))) == NULL) {
			free(spec);
			return err_sys(e, ERR_OS, "recipients");
		}
		r->v = nv;
	}
	r->v[r->n++] = spec;
	return 0;
}

static void
rcpts_free(struct rcpts *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
}

/* The recipients named on the command line: address lists, rewritten. */
static int
rcpts_from_argv(const struct cli *cli, const struct addr_rewrite *rw,
    struct rcpts *r, struct err *e)
{
	struct addr_list l;
	char *spec;
	size_t j;
	int i;

	for (i = 0; i < cli->nrcpts; i++) {
		memset(&l, 0, sizeof(l));
		if (addr_parse_list(cli->rcpts[i], strlen(cli->rcpts[i]), &l,
			e) == -1)
			return -1;
		for (j = 0; j < l.n; j++) {
			if (l.v[j].spec[0] == '\0') {
				addr_list_free(&l);
				return err_set(e, ERR_DATA,
				    "empty recipient address <> in \"%s\"",
				    cli->rcpts[i]);
			}
			if ((spec = addr_rewrite(l.v[j].spec, rw)) == NULL ||
			    rcpts_add(r, spec, e) == -1) {
				addr_list_free(&l);
				return e->class ? -1
						: err_sys(e, ERR_OS,
						      "recipient");
			}
		}
		addr_list_free(&l);
	}
	return 0;
}

/*
 * Where message bodies are kept while postern works on them: TMPDIR when
 * it names an absolute path and no privilege is at stake, else /tmp.
 */
const char *
deliver_tmpdir(void)
{
	const char *tmp = NULL;

	if (getegid() == getgid() && geteuid() == getuid())
		tmp = getenv("TMPDIR");
	return tmp != NULL && tmp[0] == '/' ? tmp : "/tmp";
}

/* The login name the caller runs as, for user@domain. */
const char *
deliver_caller(void)
{
	struct passwd *pw;
	const char *s;

	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name[0] != '\0')
		return pw->pw_name;
	/* No passwd entry (a container): trust the environment only when
	 * no privilege is at stake. */
	if (getegid() == getgid() && geteuid() == getuid() &&
	    ((s = getenv("LOGNAME")) != NULL || (s = getenv("USER")) != NULL) &&
	    *s != '\0' && strpbrk(s, "@<>\"(), \t\r\n") == NULL)
		return s;
	return "nobody";
}

/* This host's fully qualified name, for EHLO. */
static void
host_fqdn(char *name, size_t size)
{
	struct addrinfo hints, *res;

	if (gethostname(name, size) == -1 || name[0] == '\0')
		snprintf(name, size, "localhost");
	name[size - 1] = '\0';
	if (strchr(name, '.') != NULL)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(name, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL &&
		    strchr(res->ai_canonname, '.') != NULL)
			snprintf(name, size, "%s", res->ai_canonname);
		freeaddrinfo(res);
	}
}

void
deliver_smtp_opts(const struct cli *cli, const struct config *cfg,
    struct smtp_opts *o, char *fqdn, size_t fqdnsz)
{
	const struct config_server *srv = config_server(cfg);

	memset(o, 0, sizeof(*o));
	if (srv->helo != NULL) {
		o->helo = srv->helo;
	} else {
		host_fqdn(fqdn, fqdnsz);
		o->helo = fqdn;
	}
	o->timeout = srv->timeout;
	o->verbose = cli->verbose;
	o->partial = cfg->partial_delivery;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The to= field: every recipient, cut with "..." past LOG_TO_MAX. */
static void
log_to(char *to, size_t size, const struct rcpts *r)
{
	size_t i, off = 0;
	int n;

	to[0] = '\0';
	for (i = 0; i < r->n; i++) {
		n = snprintf(to + off, size - off, "%s<%s>", i ? "," : "",
		    r->v[i]);
		if (n < 0 || (size_t)n >= size - off) {
			if (size > 4)
				memcpy(to + size - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
}

struct attempt {
	char id[SPOOL_ID_MAX]; /* the queue id too, when it is spooled */
	const struct msg *msg;
	const struct rcpts *rcpts;
	const char *relay;
	const char *auth; /* smtp_auth_used(), NULL: none */
	const char *tls; /* smtp_tls(), NULL: none */
	struct timespec t0;
	int spool_temp; /* fallback: a temporary failure goes to the spool */
	int quiet; /* -bs without -v: stderr is not for the caller */
	struct rcpts later; /* partial delivery: the 4xx recipients */
};

static void
log_result(const struct attempt *a, const char *status, const char *result)
{
	char to[LOG_TO_MAX], res[512];

	log_to(to, sizeof(to), a->rcpts);
	err_sanitize(res, sizeof(res), result, strlen(result));
	log_msg(LOG_INFO,
	    "id=%s msgid=%s from=<%s> to=%s relay=%s tls=%s auth=%s "
	    "size=%llu status=%s delay=%.2f result=\"%s\"%s",
	    a->id, a->msg->msgid ? a->msg->msgid : "-", a->msg->sender, to,
	    a->relay ? a->relay : "none", a->tls ? a->tls : "no",
	    a->auth ? a->auth : "none",
	    a->msg->size, status, elapsed(&a->t0), res,
	    /* Lines cut at 998 octets: the content changed (postern(8)). */
	    a->msg->folded ? " folded=yes" : "");
}

/*
 * What fallback mode keeps in the spool: temporary failures, and a refused
 * login, which the admin fixes in the ini (Postfix's soft_bounce for auth):
 * the mail must not be lost because a password expired.
 */
static int
soft_failure(const struct err *e)
{
	return e->class == ERR_TEMP || e->class == ERR_NOPERM;
}

static void
log_failure(const struct attempt *a, const struct err *e)
{
	/* Going to the spool: deliver_msg logs "queued" instead. */
	if (a->spool_temp && soft_failure(e))
		return;
	log_result(a, e->class == ERR_TEMP ? "deferred" : "bounced", e->text);
}

/*
 * With partial delivery the refused recipients are reported, one line
 * each, although the message went to the others; in fallback mode the
 * 4xx ones are kept for the spool instead.
 */
static int
report_refused(struct attempt *a, const struct smtp_rcpt *st, struct err *e)
{
	char *spec;
	size_t i;

	for (i = 0; i < a->rcpts->n; i++) {
		if (st[i].code >= 200 && st[i].code < 300)
			continue;
		if (a->spool_temp && st[i].code >= 400 && st[i].code < 500) {
			if ((spec = strdup(a->rcpts->v[i])) == NULL)
				return err_sys(e, ERR_OS, "recipients");
			if (rcpts_add(&a->later, spec, e) == -1)
				return -1;
			continue;
		}
		if (!a->quiet)
			fprintf(stderr,
			    "postern: recipient <%s> refused by %s: %d %s\n",
			    a->rcpts->v[i], a->relay, st[i].code, st[i].text);
		log_msg(LOG_WARNING,
		    "id=%s to=<%s> status=refused result=\"%d %s\"", a->id,
		    a->rcpts->v[i], st[i].code, st[i].text);
	}
	return 0;
}

/* Partial delivery whose deferred recipients the spool could not take. */
static void
report_unspooled(const struct attempt *a, const struct err *e)
{
	size_t i;

	for (i = 0; i < a->later.n; i++) {
		log_msg(LOG_ERR, "id=%s to=<%s> status=failed result=\"%s\"",
		    a->id, a->later.v[i], e->text);
		if (!a->quiet)
			fprintf(stderr, "postern: recipient <%s> not "
			    "delivered: %s\n", a->later.v[i], e->text);
	}
}

static int
transmit(const struct cli *cli, const struct config *cfg, struct attempt *a,
    struct msg *m, struct err *e)
{
	struct smtp_session *s;
	struct smtp_envelope env;
	struct smtp_opts o;
	struct smtp_rcpt *st;
	char fqdn[256];
	size_t i;
	int rc;

	memset(&env, 0, sizeof(env));
	env.sender = m->sender;
	env.rcpts = a->rcpts->v;
	env.nrcpts = a->rcpts->n;
	env.notify = cli->notify;
	env.ret = cli->ret;
	env.envid = cli->envid;
	env.eightbit = m->eightbit ||
	    (cli->body && strcasecmp(cli->body, "8BITMIME") == 0);
	env.sevenbit = !env.eightbit && cli->body != NULL;
	env.smtputf8 = m->utf8_addrs;
	for (i = 0; i < env.nrcpts; i++)
		env.smtputf8 |= addr_is_8bit(env.rcpts[i]);
	env.size = m->size;

	if ((st = calloc(env.nrcpts, sizeof(*st))) == NULL)
		return err_sys(e, ERR_OS, "recipients");
	deliver_smtp_opts(cli, cfg, &o, fqdn, sizeof(fqdn));
	if (smtp_open(&s, config_server(cfg), &o, e) == -1) {
		log_failure(a, e);
		free(st);
		return -1;
	}
	a->relay = smtp_relay(s);
	a->auth = smtp_auth_used(s);
	a->tls = smtp_tls(s);
	rc = smtp_send(s, &env, st, msg_emit, m, e);
	if (rc == 0 && cfg->partial_delivery)
		rc = report_refused(a, st, e);
	if (rc == 0)
		log_result(a, "sent", "accepted");
	else
		log_failure(a, e);
	smtp_close(s);
	a->relay = NULL;
	a->auth = NULL;
	a->tls = NULL;
	free(st);
	return rc;
}

/* Ids committed by this process, for the detached child (deliver_kick). */
static struct {
	char (*v)[SPOOL_ID_MAX];
	size_t n, cap;
} kick;

static int
kick_add(const char *id)
{
	char(*nv)[SPOOL_ID_MAX];

	if (kick.n == kick.cap) {
		kick.cap = kick.cap ? kick.cap * 2 : 4;
		if ((nv = reallocarray(kick.v, kick.cap, sizeof(*nv))) == NULL)
			return -1;
		kick.v = nv;
	}
	memcpy(kick.v[kick.n++], id, SPOOL_ID_MAX);
	return 0;
}

/*
 * Commit to the spool.  why: the temporary failure that sent it there
 * (NULL in mode always).  A spool that cannot be written is 73 in mode
 * always, and 75 (with both causes) when the message was refused for now.
 */
static int
spool_it(const struct cli *cli, const struct config *cfg, struct attempt *a,
    struct msg *m, const struct rcpts *r, const struct err *why, struct err *e)
{
	char id[SPOOL_ID_MAX], res[ERR_TEXT_MAX + 64];
	struct err se;

	err_clear(&se);
	memcpy(id, a->id, sizeof(id));
	if (queue_submit(cli, cfg, m, r->v, r->n, why, id, &se) == -1) {
		if (why == NULL) {
			*e = se;
			log_result(a, "failed", se.text);
			return -1;
		}
		log_result(a, "deferred", why->text);
		log_result(a, "failed", se.text);
		return err_set(e, why->class, "%s; and it cannot be spooled: %s",
		    why->text, se.text);
	}
	snprintf(res, sizeof(res), "queued as %s%s%s", id, why ? ": " : "",
	    why ? why->text : "");
	log_result(a, "queued", res);
	if (why != NULL && why->maybe_sent)
		log_msg(LOG_WARNING,
		    "id=%s: the connection was lost after the final dot "
		    "(or BDAT); "
		    "the retry may deliver the message twice",
		    id);
	if (why == NULL && kick_add(id) == -1)
		log_msg(LOG_WARNING, "id=%s: left for the next queue run", id);
	err_clear(e);
	return 0;
}

/*
 * No relay set yet (the ini as make install left it): the message is
 * kept in the spool, not refused, and said loudly; the queue runner sends
 * it once a host is set.  A spool that cannot take it leaves the refusal
 * of the ini (78).
 */
static int
hold_no_relay(const struct cli *cli, const struct config *cfg,
    struct attempt *a, struct msg *m, const struct rcpts *r, struct err *e)
{
	struct err why, ce;
	int rc;

	err_clear(&ce);
	config_no_relay_err(cfg, &ce);
	err_clear(&why);
	err_set(&why, ERR_CONFIG,
	    "no relay is set (%s); kept until one is, then postern -q "
	    "sends it",
	    ce.text);
	rc = spool_it(cli, cfg, a, m, r, &why, e);
	if (rc == 0)
		log_msg(LOG_ERR,
		    "id=%s: no relay is set (%s): the message is kept in the "
		    "spool; set the host, then run postern -q",
		    a->id, ce.text);
	return rc;
}

int
deliver_msg(const struct cli *cli, const struct config *cfg, struct msg *m,
    char **rcpts, size_t nrcpts, struct err *e)
{
	struct rcpts r = { rcpts, nrcpts, nrcpts };
	struct attempt a;
	struct err why;
	int rc;

	memset(&a, 0, sizeof(a));
	clock_gettime(CLOCK_MONOTONIC, &a.t0);
	spool_id_new(a.id);
	a.msg = m;
	a.rcpts = &r;
	if (config_no_relay(cfg))
		return hold_no_relay(cli, cfg, &a, m, &r, e);
	if (cfg->queue_mode == CONFIG_QUEUE_ALWAYS)
		return spool_it(cli, cfg, &a, m, &r, NULL, e);
	a.spool_temp = cfg->queue_mode == CONFIG_QUEUE_FALLBACK;
	a.quiet = cli->mode == CLI_SERVER && !cli->verbose;
	rc = transmit(cli, cfg, &a, m, e);
	if (rc == 0 && a.later.n > 0) {
		/* Partial delivery: the 4xx recipients wait in the spool. */
		err_clear(&why);
		err_set(&why, ERR_TEMP, "%zu recipient%s deferred", a.later.n,
		    a.later.n == 1 ? "" : "s");
		if (spool_it(cli, cfg, &a, m, &a.later, &why, e) == -1) {
			/* The others have it: a non-zero status would make
			 * the caller send it to them again.  Report, as for
			 * any refused recipient under partial delivery. */
			report_unspooled(&a, e);
			err_clear(e);
		}
	} else if (rc == -1 && a.spool_temp && soft_failure(e)) {
		why = *e;
		if (why.class == ERR_NOPERM)
			log_msg(LOG_ERR,
			    "id=%s: authentication refused, message kept in the "
			    "spool until the credentials are fixed: %s",
			    a.id, why.text);
		rc = spool_it(cli, cfg, &a, m, &r, &why, e);
	}
	rcpts_free(&a.later);
	return rc;
}

/*
 * Mode always: the messages this process committed are delivered by a
 * child in its own session, with nothing of the caller's open, so that
 * the caller (a CMS, PHP waiting for the pipe to close) goes on.
 */
void
deliver_kick(const struct cli *cli, const struct config *cfg)
{
	struct err e;
	pid_t pid;
	int fd;

	if (kick.n == 0)
		return;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		log_msg(LOG_WARNING,
		    "cannot start the delivery: %s; "
		    "left for the next queue run",
		    strerror(errno));
		return;
	}
	/* The caller exits next, and the child is left to init; a -bs
	 * session goes on and reaps it later (deliver_reap). */
	if (pid > 0) {
		kick.n = 0;
		return;
	}
	(void)setsid();
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	err_clear(&e);
	if (queue_run(cli, cfg, QUEUE_ALL, (const char(*)[SPOOL_ID_MAX])kick.v,
		kick.n, &e) == -1)
		log_msg(LOG_ERR, "queue run: %s", e.text);
	_exit(0);
}

void
deliver_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int
deliver_submit(const struct cli *cli, const struct config *cfg, int fd,
    struct err *e)
{
	struct addr_rewrite rw;
	struct msg_opts mo;
	struct msg m;
	struct rcpts r = { NULL, 0, 0 };
	size_t i;
	int rc = -1;

	config_rewrite(cfg, &rw);
	/* Without -t the recipients are known before the input is read. */
	if (rcpts_from_argv(cli, &rw, &r, e) == -1)
		goto out;
	if (r.n == 0 && !cli->extract) {
		err_set(e, ERR_USAGE,
		    "no recipients given (name them, or "
		    "use -t to take them from the message)");
		goto out;
	}

	memset(&mo, 0, sizeof(mo));
	mo.ignore_dots = cli->ignore_dots;
	mo.extract = cli->extract;
	mo.relay = cli->relay;
	mo.sender = cli->sender;
	mo.fullname = cli->fullname;
	mo.user = deliver_caller();
	mo.tmpdir = deliver_tmpdir();
	mo.cfg = cfg;
	if (msg_read(fd, &mo, &m, e) == -1)
		goto out;
	for (i = 0; i < m.nrcpts; i++) {
		char *spec = strdup(m.rcpts[i]);

		if (spec == NULL) {
			err_sys(e, ERR_OS, "recipients");
			goto out_msg;
		}
		if (rcpts_add(&r, spec, e) == -1)
			goto out_msg;
	}
	if (r.n == 0) {
		err_set(e, ERR_USAGE,
		    "no recipients: none given and none found by -t");
		goto out_msg;
	}
	rc = deliver_msg(cli, cfg, &m, r.v, r.n, e);
out_msg:
	msg_free(&m);
out:
	rcpts_free(&r);
	return rc;
}

int
deliver_serverinfo(const struct cli *cli, const struct config *cfg,
    struct err *e)
{
	struct smtp_opts o;
	char fqdn[256];

	deliver_smtp_opts(cli, cfg, &o, fqdn, sizeof(fqdn));
	o.no_auth = 1; /* show what the server offers, try nothing */
	return smtp_serverinfo(config_server(cfg), &o, stdout, e);
}
