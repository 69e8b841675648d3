/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_spool.c: queue and state files (src/spool_env.c), as a runner reads
 * them from a spool that a crash, a full disk or a hostile group member
 * may have damaged.
 *
 * Input layout: a queue file (its envelope, ending at the empty line),
 * whose remaining octets (the message data in a real file) are read as
 * the state file of the same message.  The message id is fixed:
 * 19A2B3C4D0F4240001A2B01.
 *
 * Properties: an envelope and state that parse, written back with
 * spool_env_format and spool_state_format, parse again; what is written
 * from that reads back to the same values and writes the same octets (a
 * queue file written is a queue file read back the same; the first write
 * may differ from the input, as text fields are sanitised); data_off is
 * where the envelope ended; a refusal is ERR_DATA, one line.
 */
#include <string.h>
#include <unistd.h>

#include "postern/buf.h"
#include "postern/err.h"
#include "postern/spool.h"
#include "../../src/spool_int.h"
#include "fuzz.h"

#define ID "19A2B3C4D0F4240001A2B01"

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
compare(const struct spool_env *a, const struct spool_env *b)
{
	size_t i;

	if (a->created != b->created || a->uid != b->uid ||
	    a->size != b->size || !same(a->sender, b->sender) ||
	    !same(a->msgid, b->msgid) || !same(a->notify, b->notify) ||
	    !same(a->ret, b->ret) || !same(a->envid, b->envid) ||
	    !same(a->body, b->body) || a->eightbit != b->eightbit ||
	    a->smtputf8 != b->smtputf8 || a->bounce != b->bounce ||
	    a->nrcpts != b->nrcpts)
		fuzz_fail("envelope read back differs");
	if (a->attempts != b->attempts || a->last != b->last ||
	    a->next != b->next || !same(a->error, b->error))
		fuzz_fail("state read back differs");
	for (i = 0; i < a->nrcpts; i++)
		if (!same(a->rcpts[i].addr, b->rcpts[i].addr) ||
		    a->rcpts[i].state != b->rcpts[i].state ||
		    a->rcpts[i].code != b->rcpts[i].code ||
		    !same(a->rcpts[i].text, b->rcpts[i].text))
			fuzz_fail("recipient %zu read back differs", i);
}

/* Envelope then state of env, as the spool writes them. */
static void
write_back(const struct spool_env *env, struct buf *q, struct buf *s)
{
	size_t at;

	buf_reset(q);
	buf_reset(s);
	if (spool_env_format(env, q, &at) == -1 ||
	    spool_state_format(env, s) == -1)
		fuzz_fail("cannot format what was read");
	if (at + 20 > q->len || memcmp(q->data + at - 5, "size ", 5) != 0)
		fuzz_fail("size digits not at %zu", at);
}

/* Parse queue text q and state text s into env; 0 or -1. */
static int
read_back(const struct buf *q, const struct buf *s, struct spool_env *env,
    struct err *e)
{
	struct spool_rd rd;
	int fd, rc;

	memset(env, 0, sizeof(*env));
	memcpy(env->id, ID, sizeof(ID));
	fd = fuzz_fd(q->data, q->len);
	spool_rd_init(&rd, fd);
	rc = spool_env_parse(&rd, env, e);
	if (rc == 0 && (size_t)env->data_off != q->len)
		fuzz_fail("data_off %lld in an envelope of %zu",
		    (long long)env->data_off, q->len);
	close(fd);
	if (rc == 0) {
		fd = fuzz_fd(s->data ? s->data : "", s->len);
		spool_rd_init(&rd, fd);
		rc = spool_state_parse(&rd, env, e);
		close(fd);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_env env, back;
	struct spool_rd rd;
	struct buf q1, s1, q2, s2;
	struct err e;
	int fd, rc;

	memset(&env, 0, sizeof(env));
	memcpy(env.id, ID, sizeof(ID));
	fd = fuzz_fd(data, size);
	spool_rd_init(&rd, fd);
	err_clear(&e);
	rc = spool_env_parse(&rd, &env, &e);
	if (rc == 0) {
		if (env.data_off < 0 || (size_t)env.data_off > size)
			fuzz_fail("data_off %lld", (long long)env.data_off);
		close(fd);
		fd = fuzz_fd(data + env.data_off, size - (size_t)env.data_off);
		spool_rd_init(&rd, fd);
		rc = spool_state_parse(&rd, &env, &e);
	}
	close(fd);
	if (rc == -1) {
		if (e.class != ERR_DATA || strpbrk(e.text, "\r\n") != NULL)
			fuzz_fail("refusal class %d: %s", e.class, e.text);
		spool_env_free(&env);
		return 0;
	}
	buf_init(&q1, 1024 * 1024 * 1024);
	buf_init(&s1, 1024 * 1024 * 1024);
	buf_init(&q2, 1024 * 1024 * 1024);
	buf_init(&s2, 1024 * 1024 * 1024);
	/* What a runner would write from what it read is the fixed point:
	 * write, read, write again gives the same octets and values. */
	write_back(&env, &q1, &s1);
	err_clear(&e);
	if (read_back(&q1, &s1, &back, &e) == -1)
		fuzz_fail("cannot read back what was written: %s", e.text);
	write_back(&back, &q2, &s2);
	if (q1.len != q2.len || memcmp(q1.data, q2.data, q1.len) != 0 ||
	    s1.len != s2.len || (s1.len && memcmp(s1.data, s2.data, s1.len)))
		fuzz_fail("written twice, not the same octets");
	spool_env_free(&env);
	if (read_back(&q2, &s2, &env, &e) == -1)
		fuzz_fail("cannot read back what was written: %s", e.text);
	compare(&back, &env);
	spool_env_free(&back);
	spool_env_free(&env);
	buf_free(&q1);
	buf_free(&s1);
	buf_free(&q2);
	buf_free(&s2);
	return 0;
}
