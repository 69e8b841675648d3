/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_buf.c: bounded buffers (buf.c) and the error record (err.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "postern/buf.h"
#include "postern/err.h"
#include "t.h"

static void
test_buf_basic(void)
{
	struct buf b;
	char *p;

	buf_init(&b, 100);
	T_STR(buf_str(&b), "", "empty buffer reads as \"\"");
	T_OK(buf_add(&b, "", 0) == 0 && b.len == 0, "add nothing to empty");
	T_OK(buf_adds(&b, "abc") == 0, "adds");
	T_OK(buf_addc(&b, 'd') == 0, "addc");
	T_OK(buf_add(&b, "ef\0g", 4) == 0, "add with NUL inside");
	T_OK(b.len == 8 && memcmp(b.data, "abcdef\0g", 8) == 0,
	    "contents and length");
	T_OK(b.data[b.len] == '\0', "always NUL-terminated");
	buf_reset(&b);
	T_OK(b.len == 0 && strcmp(buf_str(&b), "") == 0, "reset empties");
	T_OK(buf_adds(&b, "xyz") == 0, "reuse after reset");
	p = buf_detach(&b);
	T_STR(p, "xyz", "detach hands over the string");
	T_OK(b.data == NULL && b.len == 0 && b.cap == 0, "detach resets");
	free(p);
	p = buf_detach(&b);
	T_STR(p, "", "detach of an empty buffer gives \"\"");
	free(p);
	T_OK(buf_adds(&b, "again") == 0, "usable after detach");
	T_STR(buf_str(&b), "again", "contents after detach");
	buf_free(&b);
	T_OK(b.data == NULL && b.len == 0, "free resets");
}

static void
test_buf_cap(void)
{
	struct buf b;
	char big[300];

	buf_init(&b, 10);
	T_OK(buf_adds(&b, "0123456789") == 0, "fill to the cap exactly");
	errno = 0;
	T_OK(buf_addc(&b, 'x') == -1, "one past the cap fails");
	T_OK(errno == E2BIG, "cap failure is E2BIG");
	T_OK(b.len == 10 && strcmp(b.data, "0123456789") == 0,
	    "buffer unchanged after failure");
	buf_free(&b);

	buf_init(&b, 10);
	T_OK(buf_adds(&b, "abc") == 0, "partial fill");
	errno = 0;
	T_OK(buf_adds(&b, "defghijk") == -1 && errno == E2BIG,
	    "append crossing the cap fails");
	T_STR(buf_str(&b), "abc", "no partial append");
	errno = 0;
	T_OK(buf_printf(&b, "%s", "0123456789") == -1 && errno == E2BIG,
	    "printf past the cap fails");
	T_STR(buf_str(&b), "abc", "printf failure leaves buffer alone");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errno = 0;
	T_OK(buf_printf(&b, "%s", big) == -1 && errno == E2BIG,
	    "long printf past the cap fails");
	T_STR(buf_str(&b), "abc", "long printf failure leaves buffer alone");
	buf_free(&b);

	buf_init(&b, 0);
	T_OK(buf_addc(&b, 'a') == -1 && errno == E2BIG, "zero cap refuses");
	T_OK(buf_add(&b, "", 0) == 0, "zero cap takes nothing");
	buf_free(&b);
}

static void
test_buf_printf(void)
{
	struct buf b;
	char want[1200];
	size_t i;

	buf_init(&b, 4096);
	T_OK(buf_printf(&b, "%d-%s", 42, "x") == 0, "printf small");
	T_STR(buf_str(&b), "42-x", "printf small contents");
	/* Past the 256-byte stack buffer: the second vsnprintf path. */
	for (i = 0; i < 1000; i++)
		want[i] = (char)('a' + i % 26);
	want[1000] = '\0';
	T_OK(buf_printf(&b, "[%s]", want) == 0, "printf over 256 bytes");
	T_OK(b.len == 4 + 1002, "printf long length");
	T_OK(b.data[4] == '[' && memcmp(b.data + 5, want, 1000) == 0 &&
		b.data[1005] == ']' && b.data[1006] == '\0',
	    "printf long contents");
	T_OK(buf_printf(&b, "%s", "") == 0 && b.len == 1006,
	    "printf empty string");
	buf_free(&b);

	/* Exactly 256 bytes: the boundary of the first attempt. */
	buf_init(&b, 256);
	memset(want, 'q', 256);
	want[256] = '\0';
	T_OK(buf_printf(&b, "%s", want) == 0 && b.len == 256,
	    "printf of exactly 256 bytes");
	T_OK(strcmp(buf_str(&b), want) == 0, "printf 256 contents");
	buf_free(&b);
}

static void
test_buf_wipe(void)
{
	struct buf b;

	buf_init(&b, 64);
	T_OK(buf_adds(&b, "secret") == 0, "wipe: fill");
	buf_wipe(&b);
	T_OK(b.data == NULL && b.len == 0 && b.cap == 0, "wipe frees");
	buf_wipe(&b);
	T_OK(b.data == NULL, "wipe of an empty buffer");
}

static void
test_err(void)
{
	struct err e;
	char long_text[2000];

	err_clear(&e);
	T_OK(e.class == ERR_NONE && e.code == 0 && e.enh[0] == '\0' &&
		e.text[0] == '\0',
	    "err_clear");
	T_OK(err_set(&e, ERR_TEMP, "connect %s: %d", "mx", 4) == -1,
	    "err_set returns -1");
	T_OK(e.class == ERR_TEMP, "err_set class");
	T_STR(e.text, "connect mx: 4", "err_set text");

	errno = ENOENT;
	T_OK(err_sys(&e, ERR_CONFIG, "cannot read %s", "/x") == -1,
	    "err_sys returns -1");
	T_OK(e.class == ERR_CONFIG, "err_sys class");
	T_STR(e.text, "cannot read /x: No such file or directory",
	    "err_sys appends strerror");
	T_OK(errno == ENOENT, "err_sys keeps errno");

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	err_set(&e, ERR_DATA, "%s", long_text);
	T_OK(strlen(e.text) == ERR_TEXT_MAX - 1, "err_set truncates");
	errno = EIO;
	err_sys(&e, ERR_IO, "%s", long_text);
	T_OK(strlen(e.text) == ERR_TEXT_MAX - 1, "err_sys truncates");
}

static void
test_sanitize(void)
{
	char dst[32];
	const char src[] = "250 ok\r\n\tx\x01\x7f\xc3\xa9";

	T_STR(err_sanitize(dst, sizeof(dst), src, sizeof(src) - 1),
	    "250 ok   x????", "sanitize CR LF tab, control, DEL, 8-bit");
	T_STR(err_sanitize(dst, 4, "abcdef", 6), "abc", "sanitize truncates");
	T_STR(err_sanitize(dst, sizeof(dst), "a\0b", 3), "a?b",
	    "sanitize NUL inside");
	T_STR(err_sanitize(dst, sizeof(dst), "abc", 0), "", "sanitize empty");
	dst[0] = 'K';
	err_sanitize(dst, 0, "abc", 3);
	T_OK(dst[0] == 'K', "sanitize with zero size writes nothing");
	T_STR(err_sanitize(dst, 1, "abc", 3), "", "sanitize size one");
}

int
main(void)
{
	test_buf_basic();
	test_buf_cap();
	test_buf_printf();
	test_buf_wipe();
	test_err();
	test_sanitize();
	return t_done();
}
