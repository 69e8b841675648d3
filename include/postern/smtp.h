/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * smtp.h: the SMTP client (RFC 5321) and its reply parser.
 *
 * smtp_open() connects to the first host of a failover list that answers,
 * reads the greeting and sends EHLO (HELO when EHLO is refused).
 * smtp_send() runs one transaction: MAIL, RCPT..., DATA pipelined when the
 * server offers PIPELINING, then the data from a callback, then the dot;
 * or, with CHUNKING, MAIL, RCPT..., BDAT n LAST and the data in one group
 * (smtp_tx.c says when).  Several transactions may run on one session.
 */
#ifndef POSTERN_SMTP_H
#define POSTERN_SMTP_H

#include <stddef.h>
#include <stdio.h>

struct err;
struct conn;
struct config_server;

#define SMTP_LINE_MAX	 2048	/* longest reply line accepted */
#define SMTP_REPLY_LINES 100	/* most lines in one reply */
#define SMTP_TEXT_MAX	 4096	/* joined reply text kept */

/* One reply, possibly multi-line; text lines joined by "\n". */
struct smtp_reply {
	int	 code;			/* 3 digits */
	char	 enh[16];		/* "5.1.1" when present, else "" */
	char	 text[SMTP_TEXT_MAX];	/* without code and separators */
	size_t	 nlines;
	int	 done;			/* the last line has been seen */
};

/*
 * Reply parser: feed one line at a time (without CRLF).  Returns 0 and
 * sets r->done on the last line; -1 with ERR_TEMP for a malformed line,
 * a code that changes between lines, or more than SMTP_REPLY_LINES lines.
 */
void	 smtp_reply_init(struct smtp_reply *);
int	 smtp_reply_feed(struct smtp_reply *, const char *, size_t,
	    struct err *);

/* Server capabilities from the EHLO reply. */
struct smtp_caps {
	int			 esmtp;		/* EHLO accepted */
	int			 pipelining;
	int			 eightbitmime;
	int			 smtputf8;
	int			 dsn;
	int			 size;		/* SIZE offered */
	unsigned long long	 size_max;	/* 0: no limit given */
	int			 starttls;
	int			 enhancedstatuscodes;
	int			 chunking;	/* BDAT (RFC 3030) */
	char			 auth[256];	/* mechanisms, space-separated */
};
/* Parse the EHLO reply's text (lines after the first) into caps. */
void	 smtp_caps_parse(struct smtp_caps *, const struct smtp_reply *);
/* 1 when mech (e.g. "PLAIN") is among caps->auth, case-insensitively. */
int	 smtp_caps_has_auth(const struct smtp_caps *, const char *mech);

struct smtp_envelope {
	const char		*sender;	/* "" for the null sender */
	char			**rcpts;
	size_t			 nrcpts;
	const char		*notify;	/* DSN NOTIFY=, or NULL */
	const char		*ret;		/* DSN RET=, or NULL */
	const char		*envid;		/* DSN ENVID=, or NULL */
	int			 eightbit;	/* BODY=8BITMIME if offered */
	int			 sevenbit;	/* -B 7BIT: BODY=7BIT if offered */
	int			 smtputf8;	/* addresses need SMTPUTF8 */
	unsigned long long	 size;		/* SIZE= estimate, octets */
};

/*
 * 1 when v is a DSN NOTIFY value (RFC 3461 4.1): NEVER alone, or a
 * comma list of SUCCESS, FAILURE and DELAY, any case, with no empty
 * item.  The one check for -N, -bs RCPT ... NOTIFY=, the spool and the
 * RCPT line postern sends.
 */
int	 smtp_notify_ok(const char *v);

/* What one recipient got. */
struct smtp_rcpt {
	int	 code;		/* RCPT reply; 0 if never sent */
	char	 enh[16];
	char	 text[256];	/* sanitised */
};

struct smtp_opts {
	const char	*helo;		/* EHLO name */
	int		 timeout;	/* seconds */
	int		 verbose;	/* transcript to stderr */
	int		 partial;	/* deliver to the accepted recipients */
	int		 no_auth;	/* --serverinfo: skip AUTH */
};

/*
 * Writes the message data (CRLF lines, dot-stuffed, no final dot).  It
 * may be called twice for one transaction (BDAT renders the data in
 * memory first, and falls back to DATA when it does not fit), so it must
 * write the same bytes each time.
 */
typedef int smtp_data_fn(void *arg, struct conn *, struct err *);

struct smtp_session;

int	 smtp_open(struct smtp_session **, const struct config_server *,
	    const struct smtp_opts *, struct err *);
/*
 * One transaction.  rcpt receives one entry per envelope recipient.
 * Returns 0 when the server accepted the data for at least the recipients
 * marked 2xx (all of them unless opts->partial).  On failure the class
 * says why: ERR_TEMP for 4xx, timeouts and lost connections; ERR_NOUSER
 * when every recipient was refused with 550, 551 or 553; ERR_UNAVAIL for
 * any other permanent refusal; err->code/enh carry the server's reply.
 * Every RCPT is sent and recorded even after a refusal.  Any 4xx among
 * the refusals gives ERR_TEMP (also in all-or-nothing mode, where one
 * refused recipient of several aborts the transaction: ERR_UNAVAIL when
 * the refusals are permanent).  When DATA was already answered 354
 * (pipelining) and the transaction must abort, the connection is dropped
 * without the final dot, which makes the server discard it, and the
 * session is dead (smtp_alive() == 0).
 * ERR_TEMP "... the message may have been delivered" (err->maybe_sent):
 * the connection was lost after the final dot, or after the BDAT group,
 * before the reply; the only case where the message may have been
 * delivered although an error is returned.
 */
int	 smtp_send(struct smtp_session *, const struct smtp_envelope *,
	    struct smtp_rcpt *, smtp_data_fn *, void *, struct err *);
/*
 * 1 while the session can run another transaction; 0 after the connection
 * was lost or dropped on purpose (then open a new session).
 */
int	 smtp_alive(const struct smtp_session *);
/* QUIT and close, without waiting for the 221 (NULL: nothing). */
void	 smtp_close(struct smtp_session *);
/* "host[address]:port" of the connected server. */
const char *smtp_relay(const struct smtp_session *);
/*
 * For the log's tls= field: "TLSv1.3/TLS_AES_256_GCM_SHA384", with
 * "/resumed" when the session came from the cache; "no" without TLS.
 */
const char *smtp_tls(const struct smtp_session *);
const struct smtp_caps *smtp_caps(const struct smtp_session *);
/* The SASL mechanism used ("plain", "ntlmv2", ...), "none" without AUTH. */
const char *smtp_auth_used(const struct smtp_session *);

/*
 * For the STARTTLS and AUTH steps (tls.c, auth.c): send one command line
 * (without CRLF; it must not contain CR or LF) and read its reply into
 * s's last reply, returned through *r.  secret: the transcript shows the
 * line redacted.  The connection underneath, and re-reading the
 * capabilities after a second EHLO, are also available.
 */
int	 smtp_command(struct smtp_session *, const char *line, int secret,
	    const struct smtp_reply **r, struct err *);
struct conn *smtp_conn(struct smtp_session *);
int	 smtp_ehlo(struct smtp_session *, struct err *);

/* --serverinfo: connect, print greeting and capabilities, QUIT. */
int	 smtp_serverinfo(const struct config_server *,
	    const struct smtp_opts *, FILE *, struct err *);

#endif
