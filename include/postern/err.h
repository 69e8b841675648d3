/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * err.h: the error record every module fills in.
 *
 * Functions return 0 on success and -1 on failure; on failure they fill the
 * caller's struct err with a class and one line of text.  Only main.c turns
 * a class into an exit status (sysexits.h).
 */
#ifndef POSTERN_ERR_H
#define POSTERN_ERR_H

#include <stddef.h>

enum err_class {
	ERR_NONE = 0,
	ERR_USAGE,	/* bad flags, no recipients: 64 */
	ERR_DATA,	/* input that cannot be sent: 65 */
	ERR_NOUSER,	/* every recipient refused with 550/551/553: 67 */
	ERR_UNAVAIL,	/* other permanent failure (5xx): 69 */
	ERR_SOFTWARE,	/* internal error: 70 */
	ERR_OS,		/* OS error (fork, memory): 71 */
	ERR_CANTCREAT,	/* spool cannot be written: 73 */
	ERR_IO,		/* I/O error on input: 74 */
	ERR_TEMP,	/* temporary failure: 75 */
	ERR_NOPERM,	/* authentication refused: 77 */
	ERR_CONFIG,	/* bad or unreadable ini: 78 */
};

#define ERR_TEXT_MAX 1024

struct err {
	enum err_class	 class;
	int		 code;		/* SMTP reply code, 0 when none */
	char		 enh[16];	/* enhanced status code, "" when none */
	char		 text[ERR_TEXT_MAX]; /* one line, no "postern: " */
	int		 maybe_sent;	/* lost after the final dot: the one
					 * possible duplicate */
};

void	err_clear(struct err *);
/* Set class and text; always returns -1 so callers can `return err_set()`. */
int	err_set(struct err *, enum err_class, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* As err_set, then ": strerror(errno)" (errno as it was on entry). */
int	err_sys(struct err *, enum err_class, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * Copy src into dst (size dstsz) for a log or an error line: control
 * characters and bytes >= 0x7f become '?', CR/LF become ' ', runs end at
 * dstsz - 1.  Returns dst.
 */
char	*err_sanitize(char *dst, size_t dstsz, const char *src, size_t srclen);

#endif
