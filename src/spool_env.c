/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * spool_env.c: the text of queue and state files, written and parsed.
 *
 * Both are lines "key value\n" after a magic first line; the envelope
 * ends at an empty line, after which the message data follows in wire
 * form (CRLF lines, dot-stuffed, without the final dot).  Parsing is
 * strict: a bounded line length, known keys only, numbers in range, at
 * most SPOOL_RCPT_MAX recipients, no control characters.  Anything else
 * is ERR_DATA ("corrupt"): a damaged or hostile file can make postern
 * neither allocate without bound nor deliver half a message.
 *
 *	POSTERN-QUEUE 1
 *	id 19A2B3C4D0F4240001A2B01
 *	created 1700000000
 *	uid 33
 *	size 00000000000000000345     (20 digits, patched at commit)
 *	sender a@example.com          ("sender " alone: the null sender)
 *	msgid <x@example.com>
 *	notify FAILURE,DELAY          (optional: notify, ret, envid, body)
 *	eightbit 1                    (optional: eightbit, smtputf8, bounce)
 *	rcpt b@example.org            (one per recipient, in order)
 *	                              (empty line)
 *	<message data>
 *
 *	POSTERN-STATE 1
 *	id 19A2B3C4D0F4240001A2B01
 *	attempts 2
 *	last 1700000300
 *	next 1700000900
 *	error connect to ...: Connection refused   (optional)
 *	rcpt 0 pending 451 4.3.0 try later        (index state code text)
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/buf.h"
#include "postern/err.h"
#include "postern/smtp.h"
#include "postern/spool.h"
#include "spool_int.h"

#define SPOOL_QUEUE_MAGIC "POSTERN-QUEUE 1"
#define SPOOL_STATE_MAGIC "POSTERN-STATE 1"

static const char *const rstates[] = { "pending", "done", "failed" };

int
spool_id_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 16 || n >= SPOOL_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/* Printable text for a file line: no control bytes, bounded. */
static int
add_kv(struct buf *b, const char *key, const char *v)
{
	char clean[SPOOL_LINE_MAX - 64];

	if (v == NULL)
		return 0;
	err_sanitize(clean, sizeof(clean), v, strlen(v));
	return buf_printf(b, "%s %s\n", key, clean);
}

/*
 * What spool_env_parse would refuse is refused before anything is
 * written: the same check as the address parser's (addr_spec_ok), and
 * the same NOTIFY rule as the SMTP client's.  ERR_DATA.
 */
int
spool_env_check(const struct spool_env *env, struct err *e)
{
	char snip[64];
	size_t i;

	if (addr_spec_ok(env->sender, strlen(env->sender)) == -1) {
		err_sanitize(snip, sizeof(snip), env->sender,
		    strlen(env->sender));
		return err_set(e, ERR_DATA,
		    "sender <%s> cannot be spooled: control character or "
		    "too long",
		    snip);
	}
	for (i = 0; i < env->nrcpts; i++) {
		const char *a = env->rcpts[i].addr;

		if (*a != '\0' && addr_spec_ok(a, strlen(a)) == 0)
			continue;
		err_sanitize(snip, sizeof(snip), a, strlen(a));
		return err_set(e, ERR_DATA,
		    "recipient <%s> cannot be spooled: control character, "
		    "empty or too long",
		    snip);
	}
	if (env->notify != NULL && !smtp_notify_ok(env->notify))
		return err_set(e, ERR_DATA,
		    "DSN NOTIFY cannot be spooled: not NEVER or a list of "
		    "SUCCESS, FAILURE, DELAY");
	return 0;
}

/* The envelope text; *size_at: offset of the size digits in b. */
int
spool_env_format(const struct spool_env *env, struct buf *b, size_t *size_at)
{
	size_t i;
	int r;

	r = buf_printf(b, SPOOL_QUEUE_MAGIC "\nid %s\ncreated %lld\nuid %ld\n",
	    env->id, env->created, env->uid);
	*size_at = b->len + 5;
	r = r ? r : buf_printf(b, "size %020llu\n", env->size);
	r = r ? r : buf_printf(b, "sender %s\n", env->sender);
	r = r ? r : add_kv(b, "msgid", env->msgid);
	r = r ? r : add_kv(b, "notify", env->notify);
	r = r ? r : add_kv(b, "ret", env->ret);
	r = r ? r : add_kv(b, "envid", env->envid);
	r = r ? r : add_kv(b, "body", env->body);
	if (r == 0 && env->eightbit)
		r = buf_adds(b, "eightbit 1\n");
	if (r == 0 && env->smtputf8)
		r = buf_adds(b, "smtputf8 1\n");
	if (r == 0 && env->bounce)
		r = buf_adds(b, "bounce 1\n");
	for (i = 0; r == 0 && i < env->nrcpts; i++)
		r = buf_printf(b, "rcpt %s\n", env->rcpts[i].addr);
	return r ? r : buf_adds(b, "\n");
}

int
spool_state_format(const struct spool_env *env, struct buf *b)
{
	const struct spool_rcpt *rc;
	size_t i;
	int r;

	r = buf_printf(b,
	    SPOOL_STATE_MAGIC "\nid %s\nattempts %d\nlast %lld\nnext %lld\n",
	    env->id, env->attempts, env->last, env->next);
	r = r ? r : add_kv(b, "error", env->error);
	for (i = 0; r == 0 && i < env->nrcpts; i++) {
		rc = &env->rcpts[i];
		/* The parser takes 0..999: never write what it would refuse. */
		r = buf_printf(b, "rcpt %zu %s %d", i, rstates[rc->state],
		    rc->code >= 0 && rc->code <= 999 ? rc->code : 0);
		r = r ? r : add_kv(b, "", rc->text);
		r = r ? r : (rc->text ? 0 : buf_adds(b, "\n"));
	}
	return r;
}

/* Buffered line reader over a file descriptor. */
void
spool_rd_init(struct spool_rd *rd, int fd)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
}

/* One line without its "\n": 1, 0 at EOF, -1 too long / NUL / error. */
int
spool_rd_line(struct spool_rd *rd, char *line, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		if (rd->pos == rd->len) {
			r = read(rd->fd, rd->buf, sizeof(rd->buf));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				line[n] = '\0';
				if (r == 0 && n == 0)
					return 0;
				rd->bad = r == 0 ? "no line end" : "read error";
				return -1;
			}
			rd->pos = 0;
			rd->len = (size_t)r;
		}
		c = rd->buf[rd->pos++];
		rd->off++;
		if (c == '\n')
			break;
		if (c == '\0' || n + 1 >= cap) {
			rd->bad = c == '\0' ? "NUL byte" : "line too long";
			return -1;
		}
		line[n++] = c;
	}
	line[n] = '\0';
	return 1;
}

/* A decimal number in lo..hi, all of s. */
static int
num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
set_str(char **field, const char *v)
{
	char *s;

	if (*field != NULL || (s = strdup(v)) == NULL)
		return -1;
	*field = s;
	return 0;
}

static int
add_rcpt(struct spool_env *env, const char *v)
{
	struct spool_rcpt *nv;
	size_t cap;

	if (*v == '\0' || env->nrcpts == SPOOL_RCPT_MAX)
		return -1;
	if ((env->nrcpts & (env->nrcpts - 1)) == 0) {
		cap = env->nrcpts ? env->nrcpts * 2 : 1;
		nv = reallocarray(env->rcpts, cap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		env->rcpts = nv;
	}
	memset(&env->rcpts[env->nrcpts], 0, sizeof(*env->rcpts));
	if ((env->rcpts[env->nrcpts].addr = strdup(v)) == NULL)
		return -1;
	env->nrcpts++;
	return 0;
}

/* One "key value" line of a queue file. */
static int
env_line(struct spool_env *env, const char *k, const char *v, int *seen)
{
	long long n;

	if (strcmp(k, "rcpt") == 0)
		return add_rcpt(env, v);
	if (strcmp(k, "sender") == 0)
		return set_str(&env->sender, v);
	if (strcmp(k, "id") == 0) {
		if (!spool_id_ok(v) || strcmp(v, env->id) != 0)
			return -1;
		*seen |= 1;
		return 0;
	}
	if (strcmp(k, "created") == 0 || strcmp(k, "uid") == 0 ||
	    strcmp(k, "size") == 0) {
		if (num(v, 0, LLONG_MAX, &n) == -1)
			return -1;
		if (k[0] == 'c')
			env->created = n, *seen |= 2;
		else if (k[0] == 'u')
			env->uid = n > LONG_MAX ? -1 : (long)n, *seen |= 4;
		else
			env->size = (unsigned long long)n, *seen |= 8;
		return 0;
	}
	if (strcmp(k, "eightbit") == 0 || strcmp(k, "smtputf8") == 0 ||
	    strcmp(k, "bounce") == 0) {
		if (strcmp(v, "1") != 0)
			return -1;
		*(k[0] == 'e'         ? &env->eightbit
			: k[0] == 's' ? &env->smtputf8
				      : &env->bounce) = 1;
		return 0;
	}
	if (strcmp(k, "msgid") == 0)
		return set_str(&env->msgid, v);
	if (strcmp(k, "notify") == 0)
		return set_str(&env->notify, v);
	if (strcmp(k, "ret") == 0)
		return set_str(&env->ret, v);
	if (strcmp(k, "envid") == 0)
		return set_str(&env->envid, v);
	if (strcmp(k, "body") == 0)
		return set_str(&env->body, v);
	return -1;
}

/* ERR_DATA quoting the start of a line, made printable: the key may
 * hold any byte but LF and NUL, and the error must stay one line. */
static int
bad_line(struct err *e, const char *what, const char *line)
{
	char shown[41];

	err_sanitize(shown, sizeof(shown), line, strlen(line));
	return err_set(e, ERR_DATA, "%s \"%s\"", what, shown);
}

/* Split "key value" (value may be empty) in place. */
static char *
split(char *line)
{
	char *sp = strchr(line, ' ');

	if (sp == NULL)
		return line + strlen(line);
	*sp = '\0';
	return sp + 1;
}

int
spool_env_parse(struct spool_rd *rd, struct spool_env *env, struct err *e)
{
	char line[SPOOL_LINE_MAX];
	char *v;
	int r, seen = 0;

	if (spool_rd_line(rd, line, sizeof(line)) != 1 ||
	    strcmp(line, SPOOL_QUEUE_MAGIC) != 0)
		return err_set(e, ERR_DATA, "not a postern queue file");
	while ((r = spool_rd_line(rd, line, sizeof(line))) == 1) {
		if (line[0] == '\0')
			break;
		v = split(line);
		if (has_ctl(v) || env_line(env, line, v, &seen) == -1)
			return bad_line(e, "bad line", line);
	}
	if (r != 1)
		return err_set(e, ERR_DATA, "truncated envelope (%s)",
		    r == 0 ? "end of file" : rd->bad);
	if (seen != 15 || env->sender == NULL || env->nrcpts == 0)
		return err_set(e, ERR_DATA, "incomplete envelope");
	env->data_off = rd->off;
	return 0;
}

/* "IDX STATE CODE [TEXT]" */
static int
state_rcpt(struct spool_env *env, char *v)
{
	struct spool_rcpt *rc;
	long long idx, code;
	char *st, *cs, *text;
	int i;

	st = strchr(v, ' ');
	if (st == NULL)
		return -1;
	*st++ = '\0';
	if ((cs = strchr(st, ' ')) == NULL)
		return -1;
	*cs++ = '\0';
	text = strchr(cs, ' ');
	if (text != NULL)
		*text++ = '\0';
	if (num(v, 0, (long long)env->nrcpts - 1, &idx) == -1 ||
	    num(cs, 0, 999, &code) == -1)
		return -1;
	for (i = 0; i < 3 && strcmp(st, rstates[i]) != 0; i++)
		;
	if (i == 3)
		return -1;
	rc = &env->rcpts[idx];
	rc->state = i;
	rc->code = (int)code;
	free(rc->text);
	rc->text = NULL;
	if (text != NULL && *text != '\0' &&
	    (rc->text = strndup(text, SPOOL_TEXT_MAX)) == NULL)
		return -1;
	return 0;
}

static int
state_line(struct spool_env *env, char *k, char *v)
{
	long long n;

	if (strcmp(k, "rcpt") == 0)
		return state_rcpt(env, v);
	if (strcmp(k, "id") == 0)
		return strcmp(v, env->id) == 0 ? 0 : -1;
	if (strcmp(k, "error") == 0) {
		free(env->error);
		return (env->error = strndup(v, SPOOL_TEXT_MAX)) ? 0 : -1;
	}
	if (num(v, 0, LLONG_MAX / 2, &n) == -1)
		return -1;
	if (strcmp(k, "attempts") == 0 && n <= INT_MAX)
		env->attempts = (int)n;
	else if (strcmp(k, "last") == 0)
		env->last = n;
	else if (strcmp(k, "next") == 0)
		env->next = n;
	else
		return -1;
	return 0;
}

int
spool_state_parse(struct spool_rd *rd, struct spool_env *env, struct err *e)
{
	char line[SPOOL_LINE_MAX];
	char *v;
	int r;

	if (spool_rd_line(rd, line, sizeof(line)) != 1 ||
	    strcmp(line, SPOOL_STATE_MAGIC) != 0)
		return err_set(e, ERR_DATA, "not a postern state file");
	while ((r = spool_rd_line(rd, line, sizeof(line))) == 1) {
		v = split(line);
		if (has_ctl(v) || state_line(env, line, v) == -1)
			return bad_line(e, "bad state line", line);
	}
	if (r == -1)
		return err_set(e, ERR_DATA, "bad state file (%s)", rd->bad);
	return 0;
}

void
spool_env_free(struct spool_env *env)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].text);
	}
	free(env->rcpts);
	free(env->sender);
	free(env->msgid);
	free(env->notify);
	free(env->ret);
	free(env->envid);
	free(env->body);
	free(env->error);
	memset(env, 0, sizeof(*env));
}
