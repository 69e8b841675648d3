/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fuzz.c: helpers shared by the fuzz targets (fuzz.h says what each does).
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "postern/buf.h"
#include "postern/err.h"
#include "postern/spool.h"
#include "../../src/spool_int.h"
#include "fuzz.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: property failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int
fuzz_fd(const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;
	int fd;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) == -1) {
		perror("fuzz: memfd_create");
		abort();
	}
	while (n > 0) {
		if ((w = write(fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			perror("fuzz: write");
			abort();
		}
		s += w;
		n -= (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		perror("fuzz: lseek");
		abort();
	}
	return fd;
}

int
fuzz_slurp(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t r;
	off_t off = 0;

	buf_reset(b);
	for (;;) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			return 0;
		if (buf_add(b, chunk, (size_t)r) == -1)
			return -1;
		off += r;
	}
}

int
fuzz_spoolable(const char *s)
{
	static const char id[] = "0123456789ABCDEF0123";
	struct spool_env env, back;
	struct spool_rcpt rc;
	struct spool_rd rd;
	struct buf b;
	struct err e;
	size_t at;
	int fd, ok;

	memset(&env, 0, sizeof(env));
	memset(&rc, 0, sizeof(rc));
	memcpy(env.id, id, sizeof(id));
	env.sender = (char *)s;
	env.msgid = "";
	rc.addr = (char *)s;
	env.rcpts = &rc;
	env.nrcpts = 1;
	buf_init(&b, 4 * SPOOL_LINE_MAX);
	if (spool_env_format(&env, &b, &at) == -1) {
		buf_free(&b);
		return 0;
	}
	fd = fuzz_fd(b.data, b.len);
	buf_free(&b);
	memset(&back, 0, sizeof(back));
	memcpy(back.id, id, sizeof(id));
	spool_rd_init(&rd, fd);
	err_clear(&e);
	ok = spool_env_parse(&rd, &back, &e) == 0 && back.nrcpts == 1 &&
	    strcmp(back.sender, s) == 0 && strcmp(back.rcpts[0].addr, s) == 0;
	close(fd);
	spool_env_free(&back);
	return ok;
}

static int
notify_ok(const char *v)
{
	static const char *const kw[] = { "SUCCESS", "FAILURE", "DELAY" };
	size_t i, n;

	if (strcasecmp(v, "NEVER") == 0)
		return 1;
	for (;;) {
		n = strcspn(v, ",");
		for (i = 0; i < 3; i++)
			if (strlen(kw[i]) == n && strncasecmp(v, kw[i], n) == 0)
				break;
		if (i == 3)
			return 0;
		if (v[n] == '\0')
			return 1;
		v += n + 1;
	}
}

const char *
fuzz_dsn_bad(const char *notify, const char *ret, const char *envid,
    const char *body)
{
	size_t n;

	if (notify != NULL && !notify_ok(notify))
		return "NOTIFY";
	if (ret != NULL && strcasecmp(ret, "FULL") != 0 &&
	    strcasecmp(ret, "HDRS") != 0)
		return "RET";
	if (envid != NULL) {
		n = strlen(envid);
		if (n == 0 || n > 100)
			return "ENVID";
		for (; *envid != '\0'; envid++)
			if (*envid < 0x20 || *envid > 0x7e)
				return "ENVID";
	}
	if (body != NULL && strcasecmp(body, "7BIT") != 0 &&
	    strcasecmp(body, "8BITMIME") != 0)
		return "BODY";
	return NULL;
}

static char tmp_dir[64];
static pid_t tmp_owner;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == -1 ? -1 : 0;
}

/* Only the process that made it removes it (not the replay's children). */
static void
tmp_remove(void)
{
	if (getpid() == tmp_owner)
		(void)nftw(tmp_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_tmpdir(void)
{
	if (tmp_dir[0] == '\0') {
		snprintf(tmp_dir, sizeof(tmp_dir), "%s",
		    "/tmp/postern-fuzz.XXXXXX");
		if (mkdtemp(tmp_dir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
		tmp_owner = getpid();
		atexit(tmp_remove);
	}
	return tmp_dir;
}

void
fuzz_check_wire(const char *what, const char *s, size_t n, size_t max)
{
	size_t i, start = 0;

	if (n > 0 && (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n'))
		fuzz_fail("%s does not end in CRLF", what);
	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			fuzz_fail("%s: NUL at octet %zu", what, i);
		if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
			fuzz_fail("%s: bare CR at octet %zu", what, i);
		if (s[i] == '\n') {
			if (i == 0 || s[i - 1] != '\r')
				fuzz_fail("%s: bare LF at octet %zu", what, i);
			if (i - 1 - start > max)
				fuzz_fail("%s: line of %zu octets at %zu (max "
					  "%zu)",
				    what, i - 1 - start, start, max);
			start = i + 1;
		}
	}
}
