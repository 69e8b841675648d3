/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * spool.h: the durable spool, as states on disk (after qmail's queue).
 *
 * DIR/tmp/ID       being written; never read by a runner
 * DIR/queue/ID     committed: envelope then message data, never changed
 * DIR/state/ID     what the runners learnt: attempts, per-recipient state
 * DIR/failed/ID    given up on, kept for the admin (with ID.state)
 *
 * A message is committed by writing it in tmp/, fsync, rename into
 * queue/, fsync of queue/: before the rename nothing is visible, after
 * the directory fsync nothing is lost.  A runner claims a message with
 * flock() on its queue/ file; a writer holds flock() on its tmp/ file, so
 * a tmp/ file whose lock can be taken belongs to a dead process and is
 * removed.  The file formats are in postern(8), QUEUE FILES.
 */
#ifndef POSTERN_SPOOL_H
#define POSTERN_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#include "postern/buf.h"

struct err;

#define SPOOL_ID_MAX 33 /* an id: 16 to 32 upper-case hex digits */
#define SPOOL_LINE_MAX 4096 /* one envelope or state line */
#define SPOOL_RCPT_MAX 10000 /* recipients of one message */
#define SPOOL_TEXT_MAX 512 /* an error text kept in the state */

enum spool_rstate {
	SPOOL_PENDING = 0, /* not delivered yet: retry */
	SPOOL_DONE, /* accepted by the upstream */
	SPOOL_FAILED, /* refused for good: report it */
};

struct spool_rcpt {
	char *addr;
	int state; /* enum spool_rstate */
	int code; /* last SMTP reply code, 0: none */
	char *text; /* last reply or error, NULL: none */
};

/* One message's envelope (queue/ID) and state (state/ID) together. */
struct spool_env {
	char id[SPOOL_ID_MAX];
	long long created; /* epoch seconds */
	long uid; /* who submitted it */
	char *sender; /* "" for the null sender */
	char *msgid; /* for the log; may be "" */
	char *notify, *ret, *envid, *body; /* or NULL */
	int eightbit, smtputf8;
	int bounce; /* a bounce: never bounced */
	unsigned long long size; /* octets of message data */
	struct spool_rcpt *rcpts;
	size_t nrcpts;
	/* state */
	int attempts;
	long long last, next; /* epoch seconds, 0: never */
	char *error; /* last error, or NULL */
	/* where the data starts in the queue file */
	off_t data_off;
};

struct spool {
	char *dir;
	int fd[4]; /* tmp, queue, state, failed */
};
#define SPOOL_DIR_TMP 0
#define SPOOL_DIR_QUEUE 1
#define SPOOL_DIR_STATE 2
#define SPOOL_DIR_FAILED 3

/*
 * Open the spool at dir, creating it and its subdirectories when
 * missing (mode 0770, so that a set-group-ID postern and its group can
 * share it).  create = 0: a missing spool is -1 with errno ENOENT and
 * ERR_CANTCREAT.  Any other failure: ERR_CANTCREAT naming the directory.
 */
int spool_open(struct spool *, const char *dir, int create, struct err *);
void spool_close(struct spool *);

/* A message being written in tmp/; the fd holds flock(LOCK_EX). */
struct spool_writer {
	struct spool *sp;
	char id[SPOOL_ID_MAX];
	int fd;
	struct buf out; /* buffered output */
	off_t off; /* bytes written so far */
	off_t size_at; /* where "size" is to be patched */
	off_t data_at; /* where the data starts */
};

/*
 * A new id: seconds, microseconds, pid and a counter, in hex; unique
 * without a lock and sorted by age.
 */
void spool_id_new(char id[SPOOL_ID_MAX]);

/*
 * Start a message with this envelope (env->id: the id to use when it is
 * a well-formed one from spool_id_new, else a new one is filled in; the
 * state fields are ignored).  Then add data with spool_write/spool_copy, and
 * commit with spool_commit, or throw it away with spool_abort.  Every
 * failure is ERR_CANTCREAT naming the file and the cause, but for an
 * envelope the queue file could not hold (spool_env_check): ERR_DATA,
 * before anything is written.
 */
int spool_create(struct spool *, struct spool_writer *, struct spool_env *,
    struct err *);
int spool_write(struct spool_writer *, const void *, size_t, struct err *);
/* 0 when spool_env_parse would read env back as given; else ERR_DATA. */
int spool_env_check(const struct spool_env *, struct err *);
/* Copy len bytes of fd from offset off. */
int spool_copy(struct spool_writer *, int fd, off_t off, off_t len,
    struct err *);
int spool_commit(struct spool_writer *, struct err *);
void spool_abort(struct spool_writer *);

/*
 * Claim queue/ID: open it, take its lock without waiting, read the
 * envelope and the state.  Returns the fd (the lock lasts until it is
 * closed), or -1: *busy = 1 when another process holds it or it is gone,
 * else err says why (ERR_DATA: a corrupt file, which the caller moves
 * to failed/).  wait: block for the lock instead.
 */
int spool_claim(struct spool *, const char *id, int wait, struct spool_env *,
    int *busy, struct err *);
/* Read queue/ID and its state without locking (for mailq). */
int spool_peek(struct spool *, const char *id, struct spool_env *,
    struct err *);
/* Write state/ID (attempts, times, error, recipients); durable: fsync. */
int spool_save_state(struct spool *, const struct spool_env *, int durable,
    struct err *);
/* Delivered or removed: unlink queue/ID, then state/ID. */
int spool_remove(struct spool *, const char *id, struct err *);
/* Given up: state to failed/ID.state, queue/ID to failed/ID. */
int spool_fail(struct spool *, const struct spool_env *, struct err *);
void spool_env_free(struct spool_env *);

/*
 * The committed ids, sorted (oldest first); *ids is malloc'd, each id
 * SPOOL_ID_MAX bytes.  which: SPOOL_DIR_QUEUE or SPOOL_DIR_FAILED.
 */
int spool_list(struct spool *, int which, char (**ids)[SPOOL_ID_MAX], size_t *n,
    struct err *);
/* Remove tmp/ files of dead writers and states without a message. */
void spool_clean(struct spool *);
/* 1 when s is a well-formed id. */
int spool_id_ok(const char *s);
/* smtp_data_fn for the data of a claimed message (arg: the fd). */
struct conn;
struct spool_data {
	int fd;
	off_t off, len;
};
int spool_emit(void *, struct conn *, struct err *);

#endif
