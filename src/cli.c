/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * cli.c: the sendmail command line.
 *
 * POSIX-style, like Postfix's sendmail: options may be clustered ("-ti"),
 * values glued ("-fuser@x", "-oem") or separate ("-f user@x"); the first
 * operand or "--" ends the options and everything after it is a recipient
 * address list.  An unknown letter is a usage error and never takes the
 * next argument with it.  getopt(3) is not used: glibc's permutes argv
 * and its error output cannot be routed through struct err.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "postern/cli.h"
#include "postern/err.h"
#include "postern/smtp.h"

#define ENVID_MAX 100 /* RFC 3461 section 4.4 */

/* Options that take a value; every other known letter is a flag. */
#define CLI_WITH_VALUE "ABCFLNORVXbdefhopr"

static const char usage[] =
    "usage: sendmail [options] [--] [recipient ...]\n"
    "       mailq | newaliases | postern --check | --serverinfo\n"
    "\n"
    "  -t             add recipients from To/Cc/Bcc (or Resent-*)\n"
    "  -i, -oi        a lone '.' line does not end the input\n"
    "  -f addr        envelope sender (-r is the same); <> = null sender\n"
    "  -F name        full name for a From header postern builds\n"
    "  -bm            deliver a message (the default)\n"
    "  -bs            SMTP dialogue on stdin/stdout (or a socket)\n"
    "  -bd            SMTP service on [listen] address, foreground\n"
    "  -bp            list the spool (mailq)\n"
    "  -bi, -I        do nothing (newaliases)\n"
    "  -q             deliver every spooled message now\n"
    "  -q<interval>   accepted, does nothing\n"
    "  -v             SMTP transcript on stderr\n"
    "  -N dsn         DSN NOTIFY: never, or success,failure,delay\n"
    "  -R full|hdrs   DSN RET\n"
    "  -V envid       DSN ENVID\n"
    "  -B type        7BIT or 8BITMIME\n"
    "  -G             relay submission: do not qualify or add headers\n"
    "  -C file        use another ini file\n"
    "  -L tag         syslog tag\n"
    "  -o x, -O x=y, -X f, -h n, -A x, -p x, -e x, -d x,\n"
    "  -m, -n, -c, -x, -U   accepted and ignored\n"
    "  --check        validate the ini, print the effective settings\n"
    "  --check --oauth2-test  ... and fetch an OAuth 2.0 token now\n"
    "  --serverinfo   show what the configured server offers\n"
    "  --queue-run    deliver the spooled messages that are due\n"
    "  --remove ID... delete messages from the queue (see mailq)\n"
    "  --version, --help\n";

const char *
cli_usage(void)
{
	return usage;
}

static int
has_newline(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* "-x" for an error line; a byte that cannot be printed as itself is hex. */
static const char *
optname(int c)
{
	static char name[8];

	if (isprint((unsigned char)c))
		(void)snprintf(name, sizeof(name), "-%c", c);
	else
		(void)snprintf(name, sizeof(name), "-\\x%02x",
		    (unsigned char)c);
	return name;
}

/* ENVID goes on the wire as xtext (a space as +20); keep it printable
 * ASCII and short (RFC 3461 section 4.4). */
static int
valid_envid(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > ENVID_MAX)
		return 0;
	for (; *v != '\0'; v++)
		if (*v < 0x20 || *v > 0x7e)
			return 0;
	return 1;
}

static int
set_mode(struct cli *cli, const char *v, struct err *err)
{
	char safe[33];

	if (v[0] != '\0' && v[1] == '\0') {
		switch (v[0]) {
		case 'm':
			cli->mode = CLI_SEND;
			return 0;
		case 's':
			cli->mode = CLI_SERVER;
			return 0;
		case 'd':
			cli->mode = CLI_DAEMON;
			return 0;
		case 'p':
			cli->mode = CLI_LISTQ;
			return 0;
		case 'i':
			cli->mode = CLI_NOOP;
			return 0;
		}
	}
	err_sanitize(safe, sizeof(safe), v, strlen(v));
	return err_set(err, ERR_USAGE, "-b%s not supported", safe);
}

/* One option that takes a value. */
static int
with_value(struct cli *cli, int c, const char *v, struct err *err)
{
	switch (c) {
	case 'b':
		return set_mode(cli, v, err);
	case 'f':
	case 'r':
		cli->sender = v;
		break;
	case 'F':
		cli->fullname = v;
		break;
	case 'o':
		/* -oi is -i; other old sendmail.cf options mean nothing here */
		if (v[0] == 'i')
			cli->ignore_dots = 1;
		break;
	case 'N':
		if (!smtp_notify_ok(v))
			return err_set(err, ERR_USAGE,
			    "-N: expected never or "
			    "success,failure,delay");
		cli->notify = v;
		break;
	case 'R':
		if (strcasecmp(v, "full") == 0)
			cli->ret = "full";
		else if (strcasecmp(v, "hdrs") == 0)
			cli->ret = "hdrs";
		else
			return err_set(err, ERR_USAGE,
			    "-R: expected full or "
			    "hdrs");
		break;
	case 'V':
		if (!valid_envid(v))
			return err_set(err, ERR_USAGE,
			    "-V: envid must be 1 to "
			    "%d printable ASCII characters",
			    ENVID_MAX);
		cli->envid = v;
		break;
	case 'B':
		if (strcasecmp(v, "7BIT") == 0)
			cli->body = "7BIT";
		else if (strcasecmp(v, "8BITMIME") == 0)
			cli->body = "8BITMIME";
		else
			return err_set(err, ERR_USAGE,
			    "-B: expected 7BIT or "
			    "8BITMIME");
		break;
	case 'C':
		cli->config = v;
		break;
	case 'L':
		cli->log_tag = v;
		break;
	default: /* -A -O -X -d -e -h -p: ignored, value and all */
		break;
	}
	return 0;
}

/* One flag; -1 for a letter that is no option at all. */
static int
flag(struct cli *cli, int c, struct err *err)
{
	switch (c) {
	case 't':
		cli->extract = 1;
		break;
	case 'i':
		cli->ignore_dots = 1;
		break;
	case 'v':
		cli->verbose++;
		break;
	case 'G':
		cli->relay = 1;
		break;
	case 'I':
		cli->mode = CLI_NOOP;
		break;
	case 'c': /* ignored */
	case 'm':
	case 'n':
	case 'x':
	case 'U':
		break;
	default:
		return err_set(err, ERR_USAGE, "unknown option %s", optname(c));
	}
	return 0;
}

static int
long_option(struct cli *cli, const char *a, struct err *err)
{
	static const struct {
		const char *name;
		enum cli_mode mode;
	} opts[] = {
		{ "--check", CLI_CHECK },
		{ "--serverinfo", CLI_SERVERINFO },
		{ "--version", CLI_VERSION },
		{ "--help", CLI_HELP },
		{ "--queue-run", CLI_QUEUE_RUN },
		{ "--remove", CLI_REMOVE },
	};
	char safe[65];
	size_t i;

	/* --check --oauth2-test: also fetch a token now (either order). */
	if (strcmp(a, "--oauth2-test") == 0) {
		cli->oauth2_test = 1;
		cli->mode = CLI_CHECK;
		return 0;
	}
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(a, opts[i].name) == 0) {
			cli->mode = opts[i].mode;
			return 0;
		}
	}
	err_sanitize(safe, sizeof(safe), a, strlen(a));
	return err_set(err, ERR_USAGE, "unknown option %s", safe);
}

/*
 * One argument of clustered options.  A letter that takes a value takes
 * the rest of the cluster, or else the next argument (*i moves on).
 * -q takes only a glued value: "-q15m" is an interval, "-q x" is -q and
 * the recipient x.
 */
static int
cluster(struct cli *cli, int argc, char **argv, int *i, struct err *err)
{
	const char *a = argv[*i], *v;
	int c;

	for (a++; (c = (unsigned char)*a) != '\0'; a++) {
		if (c == 'q') {
			cli->mode = a[1] == '\0' ? CLI_FLUSH : CLI_NOOP;
			return 0;
		}
		if (strchr(CLI_WITH_VALUE, c) == NULL) {
			if (flag(cli, c, err) == -1)
				return -1;
			continue;
		}
		if (a[1] != '\0')
			v = a + 1;
		else if (*i + 1 < argc)
			v = argv[++*i];
		else
			return err_set(err, ERR_USAGE,
			    "option %s needs a value", optname(c));
		if (has_newline(v))
			return err_set(err, ERR_USAGE,
			    "line break in the value "
			    "of %s",
			    optname(c));
		return with_value(cli, c, v, err);
	}
	return 0;
}

/* The program's own name, without its directory. */
static const char *
progname(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL)
		return "";
	slash = strrchr(argv0, '/');
	return slash ? slash + 1 : argv0;
}

int
cli_parse(int argc, char **argv, struct cli *cli, struct err *err)
{
	const char *prog = progname(argc > 0 ? argv[0] : NULL);
	int i;

	memset(cli, 0, sizeof(*cli));
	cli->mode = CLI_SEND;
	if (strcmp(prog, "mailq") == 0)
		cli->mode = CLI_LISTQ;
	else if (strcmp(prog, "newaliases") == 0)
		cli->mode = CLI_NOOP;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0') /* "-" is a recipient */
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[1] == '-') {
			if (long_option(cli, a, err) == -1)
				return -1;
		} else if (cluster(cli, argc, argv, &i, err) == -1)
			return -1;
	}
	if (i > argc) /* argc == 0 */
		i = argc;
	cli->rcpts = argv + i;
	cli->nrcpts = argc - i;
	for (; i < argc; i++)
		if (has_newline(argv[i]))
			return err_set(err, ERR_USAGE,
			    "line break in recipient "
			    "argument %d",
			    i);
	return 0;
}
