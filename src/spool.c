/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * spool.c: the spool's files and directories: commit, claim, state,
 * removal, and the cleaning of what crashed processes left behind.
 *
 * The commit is dma's: write everything in tmp/, fsync it, rename it
 * into queue/, fsync queue/.  A queue/ file is never written again; what
 * the runners learn goes to state/ID, replaced by rename too, so a crash
 * leaves the old state or the new one, never half of either.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "postern/conn.h"
#include "postern/err.h"
#include "postern/fdio.h"
#include "postern/spool.h"
#include "spool_int.h"

#define SPOOL_CHUNK 65536 /* write and copy size */
#define SPOOL_ENV_MAX (SPOOL_RCPT_MAX * 1100 + 65536) /* envelope text */
#define SPOOL_TMP_GRACE 2 /* seconds an empty tmp/ file may be new */

static const char *const subdirs[] = { "tmp", "queue", "state", "failed" };

static int
spool_mkdir(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0770) == 0) {
		/* 0770 despite the umask: the group shares the spool. */
		return fchmodat(dfd, name, 02770, 0);
	}
	return errno == EEXIST ? 0 : -1;
}

int
spool_open(struct spool *sp, const char *dir, int create, struct err *e)
{
	int dfd, i;

	memset(sp, 0, sizeof(*sp));
	for (i = 0; i < 4; i++)
		sp->fd[i] = -1;
	if ((sp->dir = strdup(dir)) == NULL)
		return err_sys(e, ERR_OS, "spool");
	if (create && mkdir(dir, 0770) == 0 && chmod(dir, 02770) == -1) {
		err_sys(e, ERR_CANTCREAT, "cannot set the mode of %s", dir);
		spool_close(sp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		err_sys(e, ERR_CANTCREAT, "cannot open the spool %s", dir);
		spool_close(sp);
		return -1;
	}
	for (i = 0; i < 4; i++) {
		if (create && spool_mkdir(dfd, subdirs[i]) == -1) {
			err_sys(e, ERR_CANTCREAT, "cannot create %s/%s", dir,
			    subdirs[i]);
			break;
		}
		sp->fd[i] =
		    openat(dfd, subdirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sp->fd[i] == -1 && (create || errno != ENOENT)) {
			err_sys(e, ERR_CANTCREAT, "cannot open %s/%s", dir,
			    subdirs[i]);
			break;
		}
	}
	close(dfd);
	if (i < 4) {
		spool_close(sp);
		return -1;
	}
	return 0;
}

void
spool_close(struct spool *sp)
{
	int i;

	for (i = 0; i < 4; i++)
		if (sp->fd[i] != -1)
			close(sp->fd[i]);
	free(sp->dir);
	memset(sp, 0, sizeof(*sp));
	for (i = 0; i < 4; i++)
		sp->fd[i] = -1;
}

/*
 * Seconds, microseconds, pid and a counter, in hex: unique without a
 * lock (one process never makes two in the same microsecond with the
 * same counter) and sorted by age while seconds fit 8 digits.
 */
void
spool_id_new(char id[SPOOL_ID_MAX])
{
	static unsigned int counter;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	snprintf(id, SPOOL_ID_MAX, "%08llX%05lX%06lX%02X", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid() & 0xffffff, counter++ & 0xff);
}

static int
w_fail(struct spool_writer *w, struct err *e, const char *what)
{
	err_sys(e, ERR_CANTCREAT, "cannot %s the spool file %s/tmp/%s", what,
	    w->sp->dir, w->id);
	spool_abort(w);
	return -1;
}

static int
w_flush(struct spool_writer *w, struct err *e)
{
	if (w->out.len > 0 &&
	    fdio_write_all(w->fd, w->out.data, w->out.len) == -1)
		return w_fail(w, e, "write");
	w->out.len = 0;
	return 0;
}

int
spool_create(struct spool *sp, struct spool_writer *w, struct spool_env *env,
    struct err *e)
{
	size_t size_at;

	memset(w, 0, sizeof(*w));
	w->sp = sp;
	w->fd = -1;
	if (sp->fd[SPOOL_DIR_TMP] == -1)
		return err_set(e, ERR_CANTCREAT, "no spool at %s", sp->dir);
	if (spool_env_check(env, e) == -1)
		return -1;
	/* The id the message got at submission, when it has one, so that
	 * it is known by one id from the first log line to the last. */
	if (memchr(env->id, '\0', sizeof(env->id)) != NULL &&
	    spool_id_ok(env->id))
		memcpy(w->id, env->id, sizeof(w->id));
	else
		spool_id_new(w->id);
	memcpy(env->id, w->id, sizeof(env->id));
	buf_init(&w->out, SPOOL_ENV_MAX);
	w->fd = openat(sp->fd[SPOOL_DIR_TMP], w->id,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (w->fd == -1)
		return w_fail(w, e, "create");
	/* Readable by the group (a set-group-ID postern), whatever umask. */
	if (fchmod(w->fd, 0640) == -1 || flock(w->fd, LOCK_EX) == -1)
		return w_fail(w, e, "lock");
	if (spool_env_format(env, &w->out, &size_at) == -1) {
		errno = E2BIG;
		return w_fail(w, e, "format");
	}
	w->size_at = (off_t)size_at;
	w->data_at = (off_t)w->out.len;
	w->off = w->data_at;
	return w_flush(w, e);
}

int
spool_write(struct spool_writer *w, const void *p, size_t n, struct err *e)
{
	if (n > SPOOL_CHUNK - w->out.len && w_flush(w, e) == -1)
		return -1;
	if (n >= SPOOL_CHUNK) {
		if (fdio_write_all(w->fd, p, n) == -1)
			return w_fail(w, e, "write");
	} else if (buf_add(&w->out, p, n) == -1) {
		return w_fail(w, e, "buffer");
	}
	w->off += (off_t)n;
	return 0;
}

int
spool_copy(struct spool_writer *w, int fd, off_t off, off_t len, struct err *e)
{
	char b[SPOOL_CHUNK];
	ssize_t r;
	size_t want;

	while (len > 0) {
		want = len < (off_t)sizeof(b) ? (size_t)len : sizeof(b);
		r = pread(fd, b, want, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			err_sys(e, ERR_OS, "cannot read the message");
			spool_abort(w);
			return -1;
		}
		if (spool_write(w, b, (size_t)r, e) == -1)
			return -1;
		off += r;
		len -= r;
	}
	return 0;
}

int
spool_commit(struct spool_writer *w, struct err *e)
{
	char digits[24];
	int qfd = w->sp->fd[SPOOL_DIR_QUEUE];

	if (w_flush(w, e) == -1)
		return -1;
	snprintf(digits, sizeof(digits), "%020llu",
	    (unsigned long long)(w->off - w->data_at));
	if (pwrite(w->fd, digits, 20, w->size_at) != 20)
		return w_fail(w, e, "write");
	if (fsync(w->fd) == -1)
		return w_fail(w, e, "sync");
	if (renameat(w->sp->fd[SPOOL_DIR_TMP], w->id, qfd, w->id) == -1)
		return w_fail(w, e, "commit");
	if (fsync(qfd) == -1) {
		/* Not durable: take it back rather than say yes. */
		err_sys(e, ERR_CANTCREAT, "cannot sync %s/queue", w->sp->dir);
		(void)unlinkat(qfd, w->id, 0);
		spool_abort(w);
		return -1;
	}
	/* From here on the mail is safe. */
	close(w->fd);
	w->fd = -1;
	buf_free(&w->out);
	return 0;
}

void
spool_abort(struct spool_writer *w)
{
	int saved = errno;

	if (w->fd != -1) {
		(void)unlinkat(w->sp->fd[SPOOL_DIR_TMP], w->id, 0);
		close(w->fd);
		w->fd = -1;
	}
	buf_free(&w->out);
	errno = saved;
}

/* Envelope, then the state when there is one; size checked. */
static int
spool_load(struct spool *sp, int fd, const char *id, struct spool_env *env,
    struct err *e)
{
	struct spool_rd *rd;
	struct stat st;
	int sfd, r = -1;

	memset(env, 0, sizeof(*env));
	snprintf(env->id, sizeof(env->id), "%s", id);
	if ((rd = malloc(sizeof(*rd))) == NULL)
		return err_sys(e, ERR_OS, "spool");
	spool_rd_init(rd, fd);
	if (spool_env_parse(rd, env, e) == -1 || fstat(fd, &st) == -1)
		goto out;
	if ((unsigned long long)st.st_size -
		(unsigned long long)env->data_off !=
	    env->size) {
		err_set(e, ERR_DATA, "data is %lld octets, envelope says %llu",
		    (long long)(st.st_size - env->data_off), env->size);
		goto out;
	}
	sfd = sp->fd[SPOOL_DIR_STATE] == -1
	    ? -1
	    : openat(sp->fd[SPOOL_DIR_STATE], id, O_RDONLY | O_CLOEXEC);
	r = 0;
	if (sfd != -1) {
		spool_rd_init(rd, sfd);
		r = spool_state_parse(rd, env, e);
		close(sfd);
	}
out:
	free(rd);
	if (r == -1) {
		spool_env_free(env);
		snprintf(env->id, sizeof(env->id), "%s", id);
	}
	return r;
}

int
spool_claim(struct spool *sp, const char *id, int wait, struct spool_env *env,
    int *busy, struct err *e)
{
	struct stat st;
	int fd;

	*busy = 0;
	memset(env, 0, sizeof(*env));
	snprintf(env->id, sizeof(env->id), "%s", id);
	fd = openat(sp->fd[SPOOL_DIR_QUEUE], id,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		*busy = errno == ENOENT;
		return err_sys(e, ERR_CANTCREAT, "cannot open %s/queue/%s",
		    sp->dir, id);
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		if (errno == EINTR)
			continue;
		*busy = errno == EWOULDBLOCK;
		err_sys(e, ERR_CANTCREAT, "cannot lock %s", id);
		close(fd);
		return -1;
	}
	/* Delivered and removed by a runner that held the lock before us. */
	if (fstat(fd, &st) == -1 || st.st_nlink == 0) {
		*busy = 1;
		close(fd);
		return err_set(e, ERR_CANTCREAT, "%s is gone", id);
	}
	if (spool_load(sp, fd, id, env, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
spool_peek(struct spool *sp, const char *id, struct spool_env *env,
    struct err *e)
{
	int fd, r;

	memset(env, 0, sizeof(*env));
	fd = openat(sp->fd[SPOOL_DIR_QUEUE], id,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return err_sys(e, ERR_CANTCREAT, "cannot open %s", id);
	r = spool_load(sp, fd, id, env, e);
	close(fd);
	return r;
}

/* Write text to tmp/NAME and rename it to dir/NAME2; fsync if durable. */
static int
spool_replace(struct spool *sp, const struct buf *b, const char *tmpname,
    int dir, const char *name, int durable, struct err *e)
{
	int fd, tfd = sp->fd[SPOOL_DIR_TMP];

	(void)unlinkat(tfd, tmpname, 0);
	fd = openat(tfd, tmpname,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1)
		return err_sys(e, ERR_CANTCREAT, "cannot create %s/tmp/%s",
		    sp->dir, tmpname);
	if (fchmod(fd, 0640) == -1 || flock(fd, LOCK_EX) == -1 ||
	    fdio_write_all(fd, b->data, b->len) == -1 ||
	    (durable && fsync(fd) == -1) ||
	    renameat(tfd, tmpname, sp->fd[dir], name) == -1) {
		err_sys(e, ERR_CANTCREAT, "cannot write %s/tmp/%s", sp->dir,
		    tmpname);
		(void)unlinkat(tfd, tmpname, 0);
		close(fd);
		return -1;
	}
	close(fd);
	if (durable && fsync(sp->fd[dir]) == -1)
		return err_sys(e, ERR_CANTCREAT, "cannot sync %s/%s", sp->dir,
		    subdirs[dir]);
	return 0;
}

static int
spool_state_buf(const struct spool_env *env, struct buf *b, struct err *e)
{
	buf_init(b, SPOOL_ENV_MAX);
	if (spool_state_format(env, b) == -1) {
		buf_free(b);
		return err_sys(e, ERR_OS, "state of %s", env->id);
	}
	return 0;
}

int
spool_save_state(struct spool *sp, const struct spool_env *env, int durable,
    struct err *e)
{
	char tmpname[SPOOL_ID_MAX + 8];
	struct buf b;
	int r;

	if (spool_state_buf(env, &b, e) == -1)
		return -1;
	snprintf(tmpname, sizeof(tmpname), "%s.state", env->id);
	r = spool_replace(sp, &b, tmpname, SPOOL_DIR_STATE, env->id, durable,
	    e);
	buf_free(&b);
	return r;
}

int
spool_remove(struct spool *sp, const char *id, struct err *e)
{
	if (unlinkat(sp->fd[SPOOL_DIR_QUEUE], id, 0) == -1 && errno != ENOENT)
		return err_sys(e, ERR_CANTCREAT, "cannot remove %s/queue/%s",
		    sp->dir, id);
	if (sp->fd[SPOOL_DIR_STATE] != -1 &&
	    unlinkat(sp->fd[SPOOL_DIR_STATE], id, 0) == -1 && errno != ENOENT)
		return err_sys(e, ERR_CANTCREAT, "cannot remove %s/state/%s",
		    sp->dir, id);
	return 0;
}

int
spool_fail(struct spool *sp, const struct spool_env *env, struct err *e)
{
	char name[SPOOL_ID_MAX + 8];
	struct buf b;
	int r;

	if (sp->fd[SPOOL_DIR_FAILED] == -1)
		return err_set(e, ERR_CANTCREAT, "no %s/failed", sp->dir);
	if (spool_state_buf(env, &b, e) == -1)
		return -1;
	snprintf(name, sizeof(name), "%s.state", env->id);
	r = spool_replace(sp, &b, name, SPOOL_DIR_FAILED, name, 1, e);
	buf_free(&b);
	if (r == -1)
		return -1;
	if (renameat(sp->fd[SPOOL_DIR_QUEUE], env->id, sp->fd[SPOOL_DIR_FAILED],
		env->id) == -1 ||
	    fsync(sp->fd[SPOOL_DIR_FAILED]) == -1)
		return err_sys(e, ERR_CANTCREAT, "cannot move %s to %s/failed",
		    env->id, sp->dir);
	return spool_remove(sp, env->id, e);
}

static int
id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
spool_list(struct spool *sp, int which, char (**ids)[SPOOL_ID_MAX], size_t *n,
    struct err *e)
{
	char(*v)[SPOOL_ID_MAX] = NULL, (*nv)[SPOOL_ID_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int fd;

	*ids = NULL;
	*n = 0;
	if (sp->fd[which] == -1)
		return 0;
	if ((fd = dup(sp->fd[which])) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, ERR_OS, "cannot read %s/%s", sp->dir,
		    subdirs[which]);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_ok(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				closedir(d);
				return err_sys(e, ERR_OS, "spool list");
			}
			v = nv;
		}
		memcpy(v[(*n)++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), id_cmp);
	*ids = v;
	return 0;
}

/* A tmp/ file nobody holds: its writer died.  Empty and new: wait. */
static void
clean_tmp_one(struct spool *sp, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(sp->fd[SPOOL_DIR_TMP], name,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
	    (st.st_size > 0 || time(NULL) - st.st_mtime >= SPOOL_TMP_GRACE))
		(void)unlinkat(sp->fd[SPOOL_DIR_TMP], name, 0);
	close(fd);
}

void
spool_clean(struct spool *sp)
{
	char id[SPOOL_ID_MAX];
	struct dirent *de;
	struct stat st;
	size_t n;
	DIR *d;
	int fd, i;

	for (i = SPOOL_DIR_TMP; i <= SPOOL_DIR_STATE; i += 2) {
		if (sp->fd[i] == -1 || (fd = dup(sp->fd[i])) == -1)
			continue;
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			n = strcspn(de->d_name, ".");
			if (n >= sizeof(id))
				continue;
			memcpy(id, de->d_name, n);
			id[n] = '\0';
			if (!spool_id_ok(id))
				continue;
			if (i == SPOOL_DIR_TMP)
				clean_tmp_one(sp, de->d_name);
			else if (fstatat(sp->fd[SPOOL_DIR_QUEUE], id, &st,
				     AT_SYMLINK_NOFOLLOW) == -1 &&
			    errno == ENOENT)
				(void)unlinkat(sp->fd[SPOOL_DIR_STATE],
				    de->d_name, 0);
		}
		closedir(d);
	}
}

int
spool_emit(void *arg, struct conn *c, struct err *e)
{
	struct spool_data *d = arg;
	char b[SPOOL_CHUNK];
	off_t off = d->off, left = d->len;
	ssize_t r;

	while (left > 0) {
		r = pread(d->fd, b,
		    left < (off_t)sizeof(b) ? (size_t)left : sizeof(b), off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return err_sys(e, ERR_OS,
			    "cannot read the spooled "
			    "message");
		}
		if (conn_write(c, b, (size_t)r, e) == -1)
			return -1;
		off += r;
		left -= r;
	}
	return 0;
}
