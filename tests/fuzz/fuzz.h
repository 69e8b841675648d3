/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fuzz.h: what the fuzz targets share (tests/fuzz/fz_*.c).
 *
 * Each target is a libFuzzer entry point, LLVMFuzzerTestOneInput(), and
 * checks properties of what the parser it feeds gives back, not only that
 * it does not crash.  A broken property is fuzz_fail(): one line on
 * stderr, then abort(), which libFuzzer records as a finding and the
 * replay driver (replay.c, for make check) as a failed file.
 */
#ifndef POSTERN_FUZZ_H
#define POSTERN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct buf;

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional, once before the first input (libFuzzer's convention). */
int LLVMFuzzerInitialize(int *, char ***);

void fuzz_fail(const char *, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
/* A file descriptor holding the bytes, offset 0, unlinked (memfd). */
int fuzz_fd(const void *, size_t);
/* Read all of fd from offset 0 into b (cap: b's); -1 on error. */
int fuzz_slurp(int fd, struct buf *b);
/*
 * 1 when s can stand in a queue file as written: what postern accepts
 * must be spooled and read back (the envelope of s as sender and as
 * recipient, formatted and parsed back, is s again).
 */
int fuzz_spoolable(const char *s);
/*
 * NULL when the DSN parameters (each may be NULL) are what an upstream
 * takes (RFC 3461: NOTIFY is NEVER alone or a list of SUCCESS, FAILURE,
 * DELAY; RET FULL or HDRS; ENVID printable ASCII, 1 to 100; BODY 7BIT or
 * 8BITMIME), else which one is not.
 */
const char *fuzz_dsn_bad(const char *notify, const char *ret, const char *envid,
    const char *body);
/* A private directory made once per process (mkdtemp). */
const char *fuzz_tmpdir(void);
/*
 * Wire-form text: every line ends in CRLF, no other CR or LF, no NUL,
 * at most max octets before the CRLF.  what: for the failure line.
 */
void fuzz_check_wire(const char *what, const char *s, size_t n, size_t max);

#endif
