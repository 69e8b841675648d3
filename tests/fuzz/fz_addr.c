/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_addr.c: address lists (src/addr.c), as callers write them in argv,
 * -f and headers.  The input is the list's text.
 *
 * Properties: a list that parses re-serialises ("name" <spec>, ...) and
 * re-parses to the same mailboxes; every addr-spec's source range lies
 * inside the text; a failure leaves the list as it was given (nothing
 * allocated: issue 10 item 8) with one line of ERR_DATA; the sender
 * parse agrees with the list parse; rewriting keeps an address with a
 * domain; and every accepted address can be written to a queue file and
 * read back (DESIGN section 12; issue 10 item 2a).
 */
#include <stdlib.h>
#include <string.h>

#include "postern/addr.h"
#include "postern/buf.h"
#include "postern/err.h"
#include "fuzz.h"

/* "Name" <spec>: the display name quoted, '"' and '\' escaped. */
static void
serialise(const struct addr_list *l, struct buf *b)
{
	const char *p;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			buf_adds(b, ", ");
		if (l->v[i].name != NULL) {
			buf_addc(b, '"');
			for (p = l->v[i].name; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					buf_addc(b, '\\');
				buf_addc(b, *p);
			}
			buf_adds(b, "\" ");
		}
		buf_printf(b, "<%s>", l->v[i].spec);
	}
}

static void
check_list(const struct addr_list *l, size_t n)
{
	static const struct addr_alias al[] = { { "root", "ops@example.com" } };
	const struct addr_rewrite rw = { "example.org", al, 1, NULL };
	struct addr_list again = { NULL, 0, 0 };
	struct buf b;
	struct err e;
	size_t i;
	char *r;

	for (i = 0; i < l->n; i++) {
		if (l->v[i].off > n || l->v[i].len > n - l->v[i].off)
			fuzz_fail("mailbox %zu at %zu+%zu in %zu octets", i,
			    l->v[i].off, l->v[i].len, n);
		if (l->v[i].spec[0] == '\0' ||
		    strlen(l->v[i].spec) > ADDR_SPEC_MAX)
			fuzz_fail("addr-spec of %zu octets",
			    strlen(l->v[i].spec));
		if (!fuzz_spoolable(l->v[i].spec))
			fuzz_fail("accepted <%s>, which a queue file cannot "
				  "hold",
			    l->v[i].spec);
		if ((r = addr_rewrite(l->v[i].spec, &rw)) == NULL)
			fuzz_fail("rewrite of <%s> failed", l->v[i].spec);
		if (!addr_is_local(l->v[i].spec) && strcmp(r, l->v[i].spec))
			fuzz_fail("rewrite changed <%s> to <%s>", l->v[i].spec,
			    r);
		free(r);
	}
	buf_init(&b, 64 * 1024 * 1024);
	serialise(l, &b);
	err_clear(&e);
	if (addr_parse_list(b.data ? b.data : "", b.len, &again, &e) == -1)
		fuzz_fail("re-serialised list refused: %s: [%s]", e.text,
		    buf_str(&b));
	if (again.n != l->n)
		fuzz_fail("%zu mailboxes, then %zu", l->n, again.n);
	for (i = 0; i < l->n; i++)
		if (strcmp(again.v[i].spec, l->v[i].spec) != 0 ||
		    (again.v[i].name == NULL) != (l->v[i].name == NULL) ||
		    (l->v[i].name &&
			strcmp(again.v[i].name, l->v[i].name) != 0))
			fuzz_fail("mailbox %zu changed: <%s> to <%s>", i,
			    l->v[i].spec, again.v[i].spec);
	addr_list_free(&again);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l = { NULL, 0, 0 };
	struct err e;
	char *text, *spec = NULL;
	int rc;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err_clear(&e);
	rc = addr_parse_list(text, size, &l, &e);
	if (rc == -1) {
		if (l.v != NULL || l.n != 0 || l.cap != 0)
			fuzz_fail("failed parse left %zu/%zu entries", l.n,
			    l.cap);
		if (e.class != ERR_DATA || strpbrk(e.text, "\r\n"))
			fuzz_fail("error class %d: %s", e.class, e.text);
	} else {
		check_list(&l, size);
	}
	/* The sender parse (-f): the first mailbox of the same text. */
	err_clear(&e);
	if (memchr(data, '\0', size) == NULL &&
	    addr_parse_sender(text, &spec, &e) == 0) {
		/* "" alone is the null sender there, a quoted empty local
		 * name here. */
		if (rc == 0 && l.n > 0 && spec[0] != '\0' &&
		    strcmp(spec, l.v[0].spec) != 0)
			fuzz_fail("sender <%s>, first mailbox <%s>", spec,
			    l.v[0].spec);
		if (spec[0] != '\0' && !fuzz_spoolable(spec))
			fuzz_fail("accepted sender <%s>, which a queue file "
				  "cannot hold",
			    spec);
		free(spec);
	}
	addr_list_free(&l);
	free(text);
	return 0;
}
