/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * log.h: one syslog line (facility mail) per message and attempt, and an
 * optional log file with the same lines.  Text from servers must go
 * through err_sanitize() before it reaches here.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <syslog.h>

/* tag: ident (NULL: "postern"); file: NULL for none; use_syslog: 0/1. */
void	 log_open(const char *tag, const char *file, int use_syslog);
void	 log_msg(int prio, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_close(void);
/*
 * Every later line of this process ends in " client=ADDR" (a session of
 * -bd, or -bs on a socket); NULL: no more.
 */
void	 log_set_client(const char *addr);
/*
 * 1 when syslog(3) has somewhere to write: _PATH_LOG (/dev/log) is a
 * socket.  Without one (no syslog daemon, a container) syslog drops every
 * line without a word; --check says so.
 */
int	 log_syslog_present(void);

#endif
