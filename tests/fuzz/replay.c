/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * replay.c: the driver make check links a fuzz target with instead of
 * libFuzzer.  "fz_TARGET DIR..." runs every file of each DIR through
 * LLVMFuzzerTestOneInput, each in its own child process (a crash or a
 * failed property in one file does not hide the others), and prints one
 * TAP line per file for tests/run: "ok - TARGET FILE" or "not ok - ...".
 * Exit status 1 when any file failed, 2 for a directory that cannot be
 * read or holds no file (a replay that checks nothing must not pass).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fuzz.h"

#define REPLAY_MAX (1024 * 1024) /* a seed file is small */

int LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

/* The file's bytes, malloc'd (at least one byte allocated). */
static uint8_t *
slurp(const char *path, size_t *n)
{
	uint8_t *p;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((p = malloc(REPLAY_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	*n = 0;
	while (*n <= REPLAY_MAX &&
	    (r = read(fd, p + *n, REPLAY_MAX + 1 - *n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(p);
			close(fd);
			return NULL;
		}
		*n += (size_t)r;
	}
	close(fd);
	if (*n > REPLAY_MAX) {
		free(p);
		errno = EFBIG;
		return NULL;
	}
	return p;
}

/* 0 when the input passed, else -1 (said on stdout). */
static int
one(const char *target, const char *path, const char *name)
{
	uint8_t *data;
	size_t n;
	pid_t pid;
	int st;

	if ((data = slurp(path, &n)) == NULL) {
		printf("not ok - %s %s: %s\n", target, name, strerror(errno));
		return -1;
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("not ok - %s %s: fork: %s\n", target, name,
		    strerror(errno));
		free(data);
		return -1;
	}
	if (pid == 0) {
		LLVMFuzzerTestOneInput(data, n);
		free(data);
		/* exit, not _exit: LeakSanitizer checks at exit. */
		exit(0);
	}
	free(data);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			st = -1;
			break;
		}
	if (st == 0) {
		printf("ok - %s %s\n", target, name);
		return 0;
	}
	if (st != -1 && WIFSIGNALED(st))
		printf("not ok - %s %s: signal %d\n", target, name,
		    WTERMSIG(st));
	else
		printf("not ok - %s %s: exit %d\n", target, name,
		    st == -1 ? -1 : WEXITSTATUS(st));
	return -1;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order. */
static int
replay_dir(const char *target, const char *dir, int *files)
{
	char path[4096], *names[1024];
	struct dirent *d;
	struct stat st;
	size_t i, n = 0;
	DIR *dp;
	int rc = 0;

	if ((dp = opendir(dir)) == NULL) {
		printf("not ok - %s %s: %s\n", target, dir, strerror(errno));
		return -1;
	}
	while ((d = readdir(dp)) != NULL && n < 1024)
		if (d->d_name[0] != '.' && (names[n] = strdup(d->d_name)))
			n++;
	closedir(dp);
	qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
			(int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			(*files)++;
			if (one(target, path, names[i]) == -1)
				rc = -1;
		}
		free(names[i]);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const char *target = strrchr(argv[0], '/');
	int i, rc = 0, files = 0;

	target = target ? target + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", target);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (replay_dir(target, argv[i], &files) == -1)
			rc = 1;
	if (files == 0) {
		printf("not ok - %s: no input in the corpus\n", target);
		return 2;
	}
	return rc;
}
