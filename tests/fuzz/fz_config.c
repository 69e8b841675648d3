/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_config.c: the ini (src/config.c, config_set.c, config_print.c), as
 * an administrator, or with -C any local user, writes it.  The input is
 * the file's text, written to a private file and loaded as a delivery
 * would load it.
 *
 * Properties: a refusal is ERR_CONFIG with one line; a file that loads
 * prints (--check) settings that load again and print the same (what
 * --check shows is what postern runs with); the domain, the queue dir
 * and every alias are set.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postern/config.h"
#include "postern/err.h"
#include "fuzz.h"

static char ini[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/mailname", fuzz_tmpdir());
	if ((fp = fopen(path, "w")) == NULL ||
	    fputs("fuzz.example\n", fp) < 0 || fclose(fp) != 0)
		abort();
	config_set_mailname_path(path);
	config_set_privileged(0);
	snprintf(ini, sizeof(ini), "%s/postern.ini", fuzz_tmpdir());
	return 0;
}

/* Mode 0600: an ini holding a secret must not be readable by others. */
static void
put(const void *p, size_t n)
{
	int fd;

	if ((fd = open(ini, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
		-1 ||
	    (n > 0 && write(fd, p, n) != (ssize_t)n) || close(fd) != 0) {
		perror("fz_config: ini");
		abort();
	}
}

/* --check output of a loaded config, malloc'd; *n its length. */
static char *
print(const struct config *c, size_t *n)
{
	char *s = NULL;
	FILE *fp;

	if ((fp = open_memstream(&s, n)) == NULL)
		abort();
	config_print(c, fp);
	if (fclose(fp) != 0)
		abort();
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct err e;
	char *p1, *p2;
	size_t n1, n2, i;

	put(data, size);
	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (config_load(ini, &c, &e) == -1) {
		if (e.class != ERR_CONFIG || strpbrk(e.text, "\r\n") != NULL)
			fuzz_fail("refusal class %d: %s", e.class, e.text);
		config_free(&c);
		return 0;
	}
	if (c.domain == NULL || c.queue_dir == NULL)
		fuzz_fail("no domain or queue dir");
	for (i = 0; i < c.naliases; i++)
		if (c.aliases[i].name == NULL || c.aliases[i].addr == NULL)
			fuzz_fail("alias %zu incomplete", i);
	p1 = print(&c, &n1);
	config_free(&c);
	put(p1, n1);
	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (config_load(ini, &c, &e) == -1)
		fuzz_fail("--check output does not load: %s", e.text);
	p2 = print(&c, &n2);
	if (n1 != n2 || memcmp(p1, p2, n1) != 0)
		fuzz_fail("--check output loads to other settings");
	config_free(&c);
	free(p1);
	free(p2);
	return 0;
}
