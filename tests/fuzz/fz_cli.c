/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_cli.c: the sendmail command line (src/cli.c), as any local user may
 * write it to the set-group-ID binary.  The input is argv: its elements
 * separated by NUL octets (argv[0] first), at most 64 of them.
 *
 * Properties: a refusal is ERR_USAGE with one line; an accepted command
 * line has its operands in argv order, its DSN parameters in the syntax
 * an upstream takes, every recipient list parsed (as deliver.c does, the
 * list freed on a refusal too: issue 10 item 8) to addresses a queue file
 * can hold (DESIGN section 12; issue 10 item 2a), the sender too.
 */
#include <stdlib.h>
#include <string.h>

#include "postern/addr.h"
#include "postern/cli.h"
#include "postern/err.h"
#include "fuzz.h"

#define ARGS_MAX 64

static void
check_addrs(const struct cli *c)
{
	struct addr_list l;
	struct err e;
	char *spec;
	size_t j;
	int i;

	for (i = 0; i < c->nrcpts; i++) {
		memset(&l, 0, sizeof(l));
		err_clear(&e);
		if (addr_parse_list(c->rcpts[i], strlen(c->rcpts[i]), &l, &e) ==
		    -1) {
			addr_list_free(&l);
			continue;
		}
		for (j = 0; j < l.n; j++)
			if (!fuzz_spoolable(l.v[j].spec))
				fuzz_fail("recipient <%s> cannot be spooled",
				    l.v[j].spec);
		addr_list_free(&l);
	}
	err_clear(&e);
	if (c->sender != NULL && addr_parse_sender(c->sender, &spec, &e) == 0) {
		if (spec[0] != '\0' && !fuzz_spoolable(spec))
			fuzz_fail("sender <%s> cannot be spooled", spec);
		free(spec);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *argv[ARGS_MAX + 1], *p, *end;
	const char *bad;
	struct cli c;
	struct err e;
	int argc = 0, i;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy, end = copy + size; argc < ARGS_MAX && p <= end;
	     p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (cli_parse(argc, argv, &c, &e) == -1) {
		if (e.class != ERR_USAGE || strpbrk(e.text, "\r\n") != NULL)
			fuzz_fail("refusal class %d: %s", e.class, e.text);
		free(copy);
		return 0;
	}
	if (c.nrcpts < 0 || c.nrcpts > argc)
		fuzz_fail("%d operands of %d arguments", c.nrcpts, argc);
	for (i = 0; i < c.nrcpts; i++)
		if (c.rcpts[i] != argv[argc - c.nrcpts + i])
			fuzz_fail("operand %d is not argv[%d]", i,
			    argc - c.nrcpts + i);
	if ((bad = fuzz_dsn_bad(c.notify, c.ret, c.envid, c.body)) != NULL)
		fuzz_fail("accepted DSN %s the upstream refuses", bad);
	check_addrs(&c);
	free(copy);
	return 0;
}
