/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * cli.h: the sendmail command line.
 *
 * Options parse POSIX-style with glued or separate values; parsing stops at
 * the first operand or at "--".  The remaining operands are recipient
 * address lists.  The program name selects the mode for mailq (-bp) and
 * newaliases (-bi).
 */
#ifndef POSTERN_CLI_H
#define POSTERN_CLI_H

struct err;

enum cli_mode {
	CLI_SEND = 0,		/* -bm, the default */
	CLI_SERVER,		/* -bs */
	CLI_DAEMON,		/* -bd: listen on [listen] address */
	CLI_LISTQ,		/* -bp, mailq */
	CLI_FLUSH,		/* -q: every spooled message now */
	CLI_QUEUE_RUN,		/* --queue-run: the due ones */
	CLI_REMOVE,		/* --remove ID...: delete from the queue */
	CLI_NOOP,		/* -bi, -I, newaliases, -q<interval>: exit 0 */
	CLI_CHECK,		/* --check */
	CLI_SERVERINFO,		/* --serverinfo */
	CLI_VERSION,		/* --version */
	CLI_HELP,		/* --help */
};

struct cli {
	enum cli_mode	 mode;
	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	int		 verbose;	/* -v */
	int		 oauth2_test;	/* --check --oauth2-test */
	int		 relay;		/* -G */
	const char	*sender;	/* -f, -r (raw); NULL if absent */
	const char	*fullname;	/* -F; NULL if absent */
	const char	*notify;	/* -N */
	const char	*ret;		/* -R: "full" or "hdrs" */
	const char	*envid;		/* -V */
	const char	*body;		/* -B: "7BIT" or "8BITMIME" */
	const char	*config;	/* -C; NULL: the default path */
	const char	*log_tag;	/* -L; NULL: "postern" */
	char		**rcpts;	/* operands (address lists; ids) */
	int		 nrcpts;
};

/* Parse argv into *cli; ERR_USAGE with one line of text on error. */
int	 cli_parse(int, char **, struct cli *, struct err *);
/* The usage text for --help. */
const char *cli_usage(void);

#endif
