/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * msg.h: the message as it is read from a caller and sent on the wire.
 *
 * msg_read() reads the whole input once: the header block into memory
 * (bounded), the body into an unlinked temporary file already in wire form
 * (CRLF line ends, dot-stuffed), so memory stays bounded whatever the size
 * and the size, 8-bitness and long lines are known before the first byte
 * goes to a server.  It applies every rule of postern(8), THE MESSAGE: line
 * endings, the lone dot, the mbox "From " line, Bcc and friends removed,
 * Date/Message-ID/From added, local names qualified and aliased, the
 * [sender] policy, lines over 998 octets, NUL bytes.
 */
#ifndef POSTERN_MSG_H
#define POSTERN_MSG_H

#include <stddef.h>
#include <sys/types.h>

#include "postern/addr.h"
#include "postern/buf.h"

struct err;
struct conn;
struct config;

#define MSG_HEADER_MAX	 (1024 * 1024)	/* the whole header block */
#define MSG_LINE_MAX	 998		/* octets per line on the wire */
#define MSG_RCPT_MAX	 10000		/* recipients taken by -t */

struct msg_opts {
	int			 ignore_dots;	/* -i: a lone "." is data */
	int			 extract;	/* -t */
	int			 relay;		/* -G */
	const char		*sender;	/* -f/-r as given, or NULL */
	const char		*fullname;	/* -F, or NULL */
	const char		*user;		/* login name of the caller */
	const char		*tmpdir;	/* for the body file */
	const struct config	*cfg;
};

struct msg {
	char		*sender;	/* envelope sender, "" for <> */
	char		**rcpts;	/* from headers under -t, rewritten */
	size_t		 nrcpts;
	char		*msgid;		/* Message-ID value, for the log */
	int		 eightbit;	/* 8-bit octets in headers or body */
	int		 utf8_addrs;	/* non-ASCII address in the envelope */
	int		 reencoded;	/* body turned quoted-printable */
	int		 folded;	/* long lines were folded */
	struct buf	 head;		/* final header block + empty line */
	int		 body_fd;	/* body, wire form, unlinked file */
	off_t		 body_len;
	unsigned long long size;	/* head.len + body_len */
};

/*
 * Read one message from fd.  ERR_DATA for NUL bytes, broken address
 * syntax or an oversized header block; ERR_IO for read errors; ERR_OS
 * for the temporary file.
 */
int	 msg_read(int fd, const struct msg_opts *, struct msg *, struct err *);
/* smtp_data_fn: write header block and body to the connection. */
int	 msg_emit(void *msg, struct conn *, struct err *);
void	 msg_free(struct msg *);

#endif
