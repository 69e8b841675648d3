/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * oauth2_cache.c: an access token for auth = xoauth2, from the cache
 * under the spool or fresh from the token endpoint (oauth2.c), and the
 * refresh token file the refresh_token grant reads and rewrites.
 *
 * The cache is one small file per endpoint, client, scope and grant in
 * [queue] dir/oauth2 (0770, files 0660: the postern group shares them
 * in a set-group-ID install, others cannot read them):
 *
 *	postern-oauth2-cache 1\n
 *	expires <Unix time after which the token is not used>\n
 *	token <access token>\n
 *
 * Runs that find no usable token take <name>.lock (flock), look again,
 * and only then ask the endpoint: ten runs that start together make one
 * request, and a rotated refresh token is never used twice.  A cache
 * that cannot be used (no spool, no rights) only costs a request per
 * run; -v says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "postern/buf.h"
#include "postern/cred.h"
#include "postern/err.h"
#include "postern/oauth2.h"
#include "ossl_crypto.h"

#define CACHE_MAGIC "postern-oauth2-cache 1"
#define CACHE_FILE_MAX (OAUTH2_TOKEN_MAX + 128)
#define CACHE_PATH_MAX 4096

/* dir/<sha256 of what the token is for, in hex>, the dir made if need be. */
static int
cache_path(const struct oauth2_client *c, char *out, size_t outsz)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	struct buf k;
	size_t i;
	int n, ok;

	if (c->cache_dir == NULL || ossl_load(NULL) == -1)
		return -1;
	if (mkdir(c->cache_dir, 0770) == 0)
		(void)chmod(c->cache_dir, 0770); /* postern's umask is 077 */
	else if (errno != EEXIST)
		return -1;
	buf_init(&k, 3 * CACHE_PATH_MAX);
	ok = buf_printf(&k, "%s%c%s%c%s%c%s", c->token_url, 0, c->client_id, 0,
		 c->scope ? c->scope : "", 0,
		 c->refresh_token_file ? c->refresh_token_file : "") == 0 &&
	    EVP_Digest(k.data, k.len, md, &mdlen, EVP_sha256(), NULL) == 1;
	buf_free(&k);
	if (!ok)
		return -1;
	n = snprintf(out, outsz, "%s/", c->cache_dir);
	for (i = 0; i < mdlen && n > 0 && (size_t)n + 3 < outsz; i++)
		n += snprintf(out + n, outsz - (size_t)n, "%02x", md[i]);
	return n > 0 && i == mdlen ? 0 : -1;
}

/* The whole of a small file into b (NUL-terminated by buf). */
static int
slurp(int fd, struct buf *b)
{
	char chunk[1024];
	ssize_t r;

	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || buf_add(b, chunk, (size_t)r) == -1) {
			explicit_bzero(chunk, sizeof(chunk));
			return -1;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	return 0;
}

/* The cached token if it is still good and not reject. */
static char *
cache_read(const char *path, const char *reject, long *left)
{
	struct buf b;
	char *tok = NULL, *p, *q;
	long long exp;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	buf_init(&b, CACHE_FILE_MAX);
	if (slurp(fd, &b) == 0 &&
	    strncmp(buf_str(&b), CACHE_MAGIC "\nexpires ",
		sizeof(CACHE_MAGIC "\nexpires ") - 1) == 0) {
		p = b.data + sizeof(CACHE_MAGIC "\nexpires ") - 1;
		exp = strtoll(p, &q, 10);
		*left = (long)(exp - (long long)time(NULL));
		if (q != p && strncmp(q, "\ntoken ", 7) == 0 && *left > 0 &&
		    (p = strchr(q + 7, '\n')) != NULL && p[1] == '\0') {
			*p = '\0';
			if (reject == NULL || strcmp(q + 7, reject) != 0)
				tok = strdup(q + 7);
		}
	}
	buf_wipe(&b);
	close(fd);
	return tok;
}

/* Write data to a new file next to path, then rename it over path. */
static int
replace_file(const char *path, const char *data, mode_t mode,
    const struct stat *like, int sync_dir)
{
	char tmp[CACHE_PATH_MAX + 32], dir[CACHE_PATH_MAX];
	size_t len = strlen(data), off = 0;
	ssize_t w;
	int fd, dfd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
		(int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -1;
	/* Owner and group as before when we may (root, or the owner). */
	if (like != NULL && fchown(fd, like->st_uid, like->st_gid) == -1 &&
	    fchown(fd, (uid_t)-1, like->st_gid) == -1)
		errno = 0; /* then ours: the mode still keeps others out */
	if (fchmod(fd, mode) == -1)
		goto out;
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || rename(tmp, path) == -1)
		goto out;
	rc = 0;
	if (sync_dir &&
	    (dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
		-1) {
		if (fsync(dfd) == -1)
			rc = -1;
		close(dfd);
	}
out:
	close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

static void
cache_write(const struct oauth2_client *c, const char *path, const char *tok,
    long expires_in)
{
	long reuse = oauth2_reuse_for(expires_in);
	struct buf b;

	if (reuse <= 0)
		return;
	buf_init(&b, CACHE_FILE_MAX);
	if (buf_printf(&b, CACHE_MAGIC "\nexpires %lld\ntoken %s\n",
		(long long)time(NULL) + reuse, tok) == -1 ||
	    replace_file(path, buf_str(&b), 0660, NULL, 0) == -1)
		oauth2_trace(c, "oauth2: cannot write the token cache %s: %s",
		    path, strerror(errno));
	else
		oauth2_trace(c, "oauth2: token cached for %ld s", reuse);
	buf_wipe(&b);
}

/* flock path.lock within c->timeout; its fd, or -1 (e filled). */
static int
cache_lock(const struct oauth2_client *c, const char *path, struct err *e)
{
	char lock[CACHE_PATH_MAX + 8];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	time_t until = time(NULL) + c->timeout;
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
	if (fd == -1)
		return -2; /* no lock, no cache: go on without them */
	(void)fchmod(fd, 0660);
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    time(NULL) >= until) {
			close(fd);
			return err_set(e, ERR_TEMP,
			    "oauth2: the token cache %s stayed locked for %d s",
			    lock, c->timeout);
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

/* The refresh token: the first line of a private file, and its owner. */
static int
refresh_read(const char *path, char **out, struct stat *st, struct err *e)
{
	if (cred_file(path, "oauth2_refresh_token_file", out, e) == -1)
		return -1;
	if (stat(path, st) == -1) {
		oauth2_free(*out);
		*out = NULL;
		return err_sys(e, ERR_CONFIG, "oauth2_refresh_token_file %s",
		    path);
	}
	return 0;
}

/*
 * Before a request that may rotate the refresh token: the new one must
 * have somewhere to go, or it would be lost with the old one revoked.
 */
static int
refresh_writable(const char *path, struct err *e)
{
	char dir[CACHE_PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return err_set(e, ERR_CONFIG,
		    "oauth2_refresh_token_file: "
		    "path too long");
	if (faccessat(AT_FDCWD, dirname(dir), W_OK, AT_EACCESS) == -1)
		return err_sys(e, ERR_CONFIG,
		    "oauth2_refresh_token_file %s: a rotated refresh token "
		    "could not be written back to %s",
		    path, dir);
	return 0;
}

static int
refresh_write(const struct oauth2_client *c, const char *rt,
    const struct stat *st, struct err *e)
{
	struct buf b;
	int rc;

	buf_init(&b, OAUTH2_TOKEN_MAX + 2);
	rc = buf_printf(&b, "%s\n", rt) == 0 &&
		replace_file(c->refresh_token_file, buf_str(&b),
		    st->st_mode & 07777, st, 1) == 0
	    ? 0
	    : err_sys(e, ERR_CONFIG,
		  "oauth2_refresh_token_file %s: the rotated refresh token "
		  "was not written",
		  c->refresh_token_file);
	buf_wipe(&b);
	if (rc == 0)
		oauth2_trace(c, "oauth2: rotated refresh token written to %s",
		    c->refresh_token_file);
	return rc;
}

/* Ask the endpoint; write back a rotated refresh token; cache. */
static int
fetch(const struct oauth2_client *c, const char *path, char **token,
    struct err *e)
{
	char *rt = NULL, *nrt = NULL;
	struct stat st;
	long exp;
	int rc;

	if (c->refresh_token_file != NULL &&
	    (refresh_read(c->refresh_token_file, &rt, &st, e) == -1 ||
		refresh_writable(c->refresh_token_file, e) == -1)) {
		oauth2_free(rt);
		return -1;
	}
	rc = oauth2_fetch(c, rt, token, &exp, &nrt, e);
	if (rc == 0 && nrt != NULL && rt != NULL && strcmp(nrt, rt) != 0)
		rc = refresh_write(c, nrt, &st, e);
	if (rc == 0 && path != NULL)
		cache_write(c, path, *token, exp);
	if (rc == -1) {
		oauth2_free(*token);
		*token = NULL;
	}
	oauth2_free(rt);
	oauth2_free(nrt);
	return rc;
}

int
oauth2_token(const struct oauth2_client *c, int fresh, const char *reject,
    char **token, struct err *e)
{
	char path[CACHE_PATH_MAX];
	long left = 0;
	int fd = -2, rc;

	*token = NULL;
	if (cache_path(c, path, sizeof(path)) == -1) {
		oauth2_trace(c, "oauth2: no token cache (%s)",
		    c->cache_dir ? "cannot use [queue] dir" : "no [queue] dir");
		return fetch(c, NULL, token, e);
	}
	if (!fresh && (*token = cache_read(path, NULL, &left)) != NULL) {
		oauth2_trace(c, "oauth2: token from the cache, %ld s left",
		    left);
		return 0;
	}
	if ((fd = cache_lock(c, path, e)) == -1)
		return -1;
	/* Another run may have fetched one while we waited for the lock. */
	if (fd >= 0 && (!fresh || reject != NULL) &&
	    (*token = cache_read(path, reject, &left)) != NULL) {
		oauth2_trace(c, "oauth2: token from the cache, %ld s left",
		    left);
		close(fd);
		return 0;
	}
	rc = fetch(c, fd >= 0 ? path : NULL, token, e);
	if (fd >= 0)
		close(fd); /* the lock goes with it */
	return rc;
}
