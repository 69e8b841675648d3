/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fz_msg.c: the message reader (src/msg.c, msg_in.c, msg_hdr.c,
 * msg_addr.c, msg_body.c), as a caller pipes a message in.
 *
 * Input layout: octet 0 holds flags (bit 0: -i, bit 1: -t, bit 2: -G,
 * bit 3: -f bob@example.net, bit 4: a [sender] address without
 * send_as_user), the rest is the message as written to stdin.
 *
 * Properties of what msg_read emits, header block and body alike: every
 * line ends in CRLF, no bare CR or LF, no NUL, no line over 998 octets;
 * the header block ends with the empty line; the body is dot-stuffed
 * (no line starts with a lone '.'); no octet over 0x7f unless eightbit
 * is set; the size is the sum of the two; at most MSG_RCPT_MAX
 * recipients, none empty, each (and the sender) fit for a queue file
 * (DESIGN section 12; issue 10 item 2a); a refusal is one line.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postern/buf.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/msg.h"
#include "fuzz.h"

static void
check_text(const char *what, const char *s, size_t n, int eightbit)
{
	size_t i;

	fuzz_check_wire(what, s, n, MSG_LINE_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] > 0x7f && !eightbit)
			fuzz_fail("%s: 8-bit octet at %zu, eightbit not set",
			    what, i);
}

static void
check_msg(const struct msg *m)
{
	struct buf body;
	size_t i;

	if (m->head.len < 2 || m->head.data == NULL ||
	    (m->head.len > 2 &&
		memcmp(m->head.data + m->head.len - 4, "\r\n\r\n", 4) != 0))
		fuzz_fail("header block does not end with an empty line");
	check_text("header block", m->head.data, m->head.len, m->eightbit);
	buf_init(&body, (size_t)m->body_len + 1);
	if (fuzz_slurp(m->body_fd, &body) == -1 ||
	    body.len != (size_t)m->body_len)
		fuzz_fail("body of %zu octets, said %lld", body.len,
		    (long long)m->body_len);
	check_text("body", body.data, body.len, m->eightbit);
	for (i = 0; i < body.len; i++)
		if ((i == 0 || body.data[i - 1] == '\n') &&
		    body.data[i] == '.' &&
		    (i + 1 >= body.len || body.data[i + 1] != '.'))
			fuzz_fail("body line at %zu not dot-stuffed", i);
	buf_free(&body);
	if (m->size != m->head.len + (unsigned long long)m->body_len)
		fuzz_fail("size %llu for %zu + %lld", m->size, m->head.len,
		    (long long)m->body_len);
	if (m->nrcpts > MSG_RCPT_MAX)
		fuzz_fail("%zu recipients", m->nrcpts);
	for (i = 0; i < m->nrcpts; i++) {
		if (m->rcpts[i][0] == '\0')
			fuzz_fail("empty recipient");
		if (!fuzz_spoolable(m->rcpts[i]))
			fuzz_fail("recipient <%s> cannot be spooled",
			    m->rcpts[i]);
	}
	if (m->sender == NULL)
		fuzz_fail("no envelope sender");
	if (m->sender[0] != '\0' && !fuzz_spoolable(m->sender))
		fuzz_fail("sender <%s> cannot be spooled", m->sender);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct addr_alias aliases[] = { { "postmaster",
	    "ops@example.com" } };
	struct config cfg;
	struct msg_opts o;
	struct msg m;
	struct err e;
	int fd;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.domain = "example.org";
	cfg.send_as_user = (data[0] & 16) == 0;
	cfg.aliases = aliases;
	cfg.naliases = 1;
	if (data[0] & 16) {
		cfg.sender_address = "Ops <ops@example.org>";
		cfg.sender_name = "Ops";
		cfg.sender_spec = "ops@example.org";
	}
	memset(&o, 0, sizeof(o));
	o.ignore_dots = data[0] & 1;
	o.extract = (data[0] & 2) != 0;
	o.relay = (data[0] & 4) != 0;
	o.sender = (data[0] & 8) ? "bob@example.net" : NULL;
	o.user = "alice";
	o.tmpdir = fuzz_tmpdir();
	o.cfg = &cfg;
	fd = fuzz_fd(data + 1, size - 1);
	memset(&m, 0, sizeof(m));
	err_clear(&e);
	if (msg_read(fd, &o, &m, &e) == 0) {
		check_msg(&m);
		msg_free(&m);
	} else if (e.class == ERR_NONE || strpbrk(e.text, "\r\n") != NULL) {
		fuzz_fail("refusal class %d: %s", e.class, e.text);
	}
	close(fd);
	return 0;
}
