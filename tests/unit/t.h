/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t.h: the unit-test harness.  Each check prints "ok - name" or
 * "not ok - name: where"; t_done() prints the count line and returns the
 * exit status.  tests/run counts the "ok"/"not ok" lines of every program.
 */
#ifndef POSTERN_T_H
#define POSTERN_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define T_OK(cond, name)                                                  \
	do {                                                              \
		if (cond) {                                               \
			t_pass++;                                         \
			printf("ok - %s\n", (name));                      \
		} else {                                                  \
			t_fail++;                                         \
			printf("not ok - %s: %s:%d: %s\n", (name),        \
			    __FILE__, __LINE__, #cond);                   \
		}                                                         \
	} while (0)

/* Compare two C strings, printing both on failure. */
#define T_STR(got, want, name)                                            \
	do {                                                              \
		const char *t_g_ = (got), *t_w_ = (want);                 \
		if (t_g_ != NULL && t_w_ != NULL &&                       \
		    strcmp(t_g_, t_w_) == 0) {                            \
			t_pass++;                                         \
			printf("ok - %s\n", (name));                      \
		} else {                                                  \
			t_fail++;                                         \
			printf("not ok - %s: %s:%d: got \"%s\" want "     \
			       "\"%s\"\n",                                \
			    (name), __FILE__, __LINE__,                   \
			    t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)"); \
		}                                                         \
	} while (0)

static inline int
t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
