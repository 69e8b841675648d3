/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_cli.c: the sendmail command line as real callers write it.
 */
#include <string.h>

#include "postern/cli.h"
#include "postern/err.h"
#include "t.h"

static struct cli C;
static struct err E;
/* C.rcpts points into this, so it must outlive the ARGV() literal. */
static char *A[64];

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })

/* Parse argv (NULL-terminated); 0 or -1. */
static int
run(char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL && argc < 63) {
		A[argc] = argv[argc];
		argc++;
	}
	A[argc] = NULL;
	err_clear(&E);
	return cli_parse(argc, A, &C, &E);
}

static const char *
s(const char *p)
{
	return p ? p : "(null)";
}

static void
usage_error(char **argv, const char *text, const char *t)
{
	int rc = run(argv);

	T_OK(rc == -1 && E.class == ERR_USAGE, t);
	T_OK(strstr(E.text, text) != NULL, t);
	if (strstr(E.text, text) == NULL)
		printf("# got \"%s\"\n", E.text);
}

static void
t_callers(void)
{
	/* PHP mail() with sendmail_path = "sendmail -t -i" and -f */
	T_OK(run(ARGV("sendmail", "-t", "-i", "-fbounce@x")) == 0, "php");
	T_OK(C.mode == CLI_SEND && C.extract && C.ignore_dots, "php flags");
	T_STR(s(C.sender), "bounce@x", "php sender glued");
	T_OK(C.nrcpts == 0, "php no rcpts");

	/* Debian cron */
	T_OK(run(ARGV("/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME",
		 "-oem", "root")) == 0,
	    "cron");
	T_STR(s(C.fullname), "CronDaemon", "cron fullname");
	T_STR(s(C.body), "8BITMIME", "cron body");
	T_OK(C.ignore_dots && !C.extract, "cron flags");
	T_OK(C.nrcpts == 1, "cron rcpt count");
	if (C.nrcpts == 1)
		T_STR(C.rcpts[0], "root", "cron rcpt");

	/* mutt */
	T_OK(run(ARGV("sendmail", "-oem", "-oi", "-f", "me@x", "-N",
		 "failure,delay", "-R", "hdrs", "--", "a@x", "bcc@x")) == 0,
	    "mutt");
	T_OK(C.ignore_dots, "mutt -oi");
	T_STR(s(C.sender), "me@x", "mutt sender");
	T_STR(s(C.notify), "failure,delay", "mutt notify");
	T_STR(s(C.ret), "hdrs", "mutt ret");
	T_OK(C.nrcpts == 2, "mutt rcpts after --");
	if (C.nrcpts == 2)
		T_STR(C.rcpts[1], "bcc@x", "mutt second rcpt");

	/* git send-email */
	T_OK(run(ARGV("sendmail", "-f", "env@x", "-i", "a@x", "b@x")) == 0,
	    "git");
	T_OK(C.nrcpts == 2 && strcmp(C.rcpts[0], "a@x") == 0, "git rcpts");
	T_STR(s(C.sender), "env@x", "git sender");

	/* bsd-mailx, sudo */
	T_OK(run(ARGV("sendmail", "-i", "-t")) == 0 && C.extract &&
		C.ignore_dots,
	    "mailx -i -t");
	T_OK(run(ARGV("sendmail", "-t")) == 0 && C.extract && !C.ignore_dots,
	    "sudo -t");

	/* Symfony/Laravel */
	T_OK(run(ARGV("sendmail", "-bs", "-i")) == 0 && C.mode == CLI_SERVER,
	    "laravel -bs");
	T_OK(run(ARGV("sendmail", "-b", "s")) == 0 && C.mode == CLI_SERVER,
	    "-b s separate");
}

static void
t_clusters(void)
{
	T_OK(run(ARGV("sendmail", "-ti")) == 0 && C.extract && C.ignore_dots,
	    "-ti");
	T_OK(run(ARGV("sendmail", "-it")) == 0 && C.extract && C.ignore_dots,
	    "-it");
	T_OK(run(ARGV("sendmail", "-tifme@x", "a@x")) == 0 && C.extract &&
		C.sender && strcmp(C.sender, "me@x") == 0 && C.nrcpts == 1,
	    "flags then glued value");
	T_OK(run(ARGV("sendmail", "-tf", "me@x", "a@x")) == 0 && C.sender &&
		strcmp(C.sender, "me@x") == 0 && C.nrcpts == 1,
	    "flags then separate value");
	T_OK(run(ARGV("sendmail", "-vvv")) == 0 && C.verbose == 3, "-vvv");
	T_OK(run(ARGV("sendmail", "-v", "-v")) == 0 && C.verbose == 2, "-v -v");
	T_OK(run(ARGV("sendmail", "-fi")) == 0 && C.sender &&
		strcmp(C.sender, "i") == 0 && !C.ignore_dots,
	    "value letter takes the rest");
	T_OK(run(ARGV("sendmail", "-r", "", "a@x")) == 0 && C.sender &&
		C.sender[0] == '\0',
	    "-r empty value");
	T_OK(run(ARGV("sendmail", "-f", "<>")) == 0 && C.sender &&
		strcmp(C.sender, "<>") == 0,
	    "-f <> kept raw");
	T_OK(run(ARGV("sendmail", "-F", "Cron Daemon", "root")) == 0 &&
		strcmp(s(C.fullname), "Cron Daemon") == 0 && C.nrcpts == 1,
	    "-F separate with space");
}

static void
t_modes(void)
{
	T_OK(run(ARGV("sendmail")) == 0 && C.mode == CLI_SEND &&
		C.nrcpts == 0 && C.sender == NULL && C.config == NULL,
	    "defaults");
	T_OK(run(ARGV("sendmail", "-bm", "a@x")) == 0 && C.mode == CLI_SEND,
	    "-bm");
	T_OK(run(ARGV("sendmail", "-bp")) == 0 && C.mode == CLI_LISTQ, "-bp");
	T_OK(run(ARGV("sendmail", "-bi")) == 0 && C.mode == CLI_NOOP, "-bi");
	T_OK(run(ARGV("sendmail", "-I")) == 0 && C.mode == CLI_NOOP, "-I");
	T_OK(run(ARGV("sendmail", "-q")) == 0 && C.mode == CLI_FLUSH, "-q");
	T_OK(run(ARGV("sendmail", "-q15m")) == 0 && C.mode == CLI_NOOP,
	    "-q15m");
	T_OK(run(ARGV("sendmail", "-qRexample.com")) == 0 && C.mode == CLI_NOOP,
	    "-qRsite");
	T_OK(run(ARGV("sendmail", "-vq")) == 0 && C.mode == CLI_FLUSH &&
		C.verbose == 1,
	    "-vq");
	T_OK(run(ARGV("sendmail", "-q", "x")) == 0 && C.mode == CLI_FLUSH &&
		C.nrcpts == 1,
	    "-q takes no separate value");
	T_OK(run(ARGV("sendmail", "--queue-run")) == 0 &&
		C.mode == CLI_QUEUE_RUN,
	    "--queue-run");
	T_OK(run(ARGV("postern", "--remove", "0123456789ABCDEF01",
		 "0123456789ABCDEF02")) == 0 &&
		C.mode == CLI_REMOVE && C.nrcpts == 2 &&
		strcmp(C.rcpts[1], "0123456789ABCDEF02") == 0,
	    "--remove takes the queue ids as operands");
	T_OK(run(ARGV("postern", "-C", "/x.ini", "--remove", "ID")) == 0 &&
		C.mode == CLI_REMOVE && C.nrcpts == 1 &&
		strcmp(C.config, "/x.ini") == 0,
	    "--remove after -C");
	T_OK(run(ARGV("postern", "--check")) == 0 && C.mode == CLI_CHECK,
	    "--check");
	T_OK(run(ARGV("postern", "--serverinfo", "-v")) == 0 &&
		C.mode == CLI_SERVERINFO && C.verbose,
	    "--serverinfo -v");
	T_OK(run(ARGV("postern", "--version")) == 0 && C.mode == CLI_VERSION,
	    "--version");
	T_OK(run(ARGV("postern", "--help")) == 0 && C.mode == CLI_HELP,
	    "--help");
	T_OK(run(ARGV("/usr/bin/mailq")) == 0 && C.mode == CLI_LISTQ,
	    "mailq by argv[0]");
	T_OK(run(ARGV("mailq", "-v")) == 0 && C.mode == CLI_LISTQ, "mailq -v");
	T_OK(run(ARGV("/usr/bin/newaliases")) == 0 && C.mode == CLI_NOOP,
	    "newaliases by argv[0]");
	T_OK(run(ARGV("/usr/lib/sendmail", "a@x")) == 0 && C.mode == CLI_SEND,
	    "/usr/lib/sendmail");
	T_OK(cli_parse(0, ARGV(NULL), &C, &E) == 0 && C.nrcpts == 0, "argc 0");
	T_OK(run(ARGV("sendmail", "-bd")) == 0 && C.mode == CLI_DAEMON, "-bd");
	usage_error(ARGV("sendmail", "-bdx"), "-bdx not supported", "-bdx");
	usage_error(ARGV("sendmail", "-bt"), "-bt not supported", "-bt");
	usage_error(ARGV("sendmail", "-bv", "a@x"), "-bv not supported", "-bv");
	usage_error(ARGV("sendmail", "-bsx"), "-bsx not supported", "-bsx");
	usage_error(ARGV("sendmail", "--frobnicate"),
	    "unknown option --frobnicate", "unknown long option");
}

static void
t_values(void)
{
	T_OK(run(ARGV("sendmail", "-N", "never")) == 0, "-N never");
	T_OK(run(ARGV("sendmail", "-NSUCCESS,Failure,delay")) == 0,
	    "-N glued, any case");
	usage_error(ARGV("sendmail", "-N", "sometimes"), "-N", "-N bad");
	usage_error(ARGV("sendmail", "-N", "never,failure"), "-N",
	    "-N never with others");
	usage_error(ARGV("sendmail", "-N", "failure,"), "-N",
	    "-N trailing comma");
	usage_error(ARGV("sendmail", "-N", ""), "-N", "-N empty");
	T_OK(run(ARGV("sendmail", "-R", "FULL")) == 0 &&
		strcmp(s(C.ret), "full") == 0,
	    "-R FULL canonical");
	usage_error(ARGV("sendmail", "-R", "body"), "-R", "-R bad");
	T_OK(run(ARGV("sendmail", "-B", "7bit")) == 0 &&
		strcmp(s(C.body), "7BIT") == 0,
	    "-B 7bit canonical");
	usage_error(ARGV("sendmail", "-B", "binarymime"), "-B", "-B bad");
	T_OK(run(ARGV("sendmail", "-V", "abc.123")) == 0 &&
		strcmp(s(C.envid), "abc.123") == 0,
	    "-V");
	T_OK(run(ARGV("sendmail", "-V", "a b")) == 0 &&
		strcmp(s(C.envid), "a b") == 0,
	    "-V with a space (xtext carries it)");
	usage_error(ARGV("sendmail", "-V", "a\001b"), "-V", "-V with a control");
	usage_error(ARGV("sendmail", "-V", ""), "-V", "-V empty");
	T_OK(run(ARGV("sendmail", "-C", "/tmp/x.ini", "-L", "cms", "-G")) ==
		    0 &&
		strcmp(s(C.config), "/tmp/x.ini") == 0 &&
		strcmp(s(C.log_tag), "cms") == 0 && C.relay,
	    "-C -L -G");
	T_OK(run(ARGV("sendmail", "-odb", "-oQ/var/q", "-o", "Xyz", "-oem",
		 "a@x")) == 0 &&
		!C.ignore_dots && C.nrcpts == 1,
	    "-o others ignored");
	T_OK(run(ARGV("sendmail", "-o", "i")) == 0 && C.ignore_dots,
	    "-o i separate");
	T_OK(run(ARGV("sendmail", "-O", "DeliveryMode=b", "-X", "/tmp/log",
		 "-h", "17", "-A", "m", "-p", "smtp:host", "-e", "m", "-d",
		 "0.1", "-m", "-n", "-c", "-x", "-U", "a@x")) == 0 &&
		C.nrcpts == 1 && strcmp(C.rcpts[0], "a@x") == 0,
	    "ignored options with arity");
	T_OK(run(ARGV("sendmail", "-Am", "-d0.1", "-h17", "a@x")) == 0 &&
		C.nrcpts == 1,
	    "ignored options glued");
}

static void
t_errors(void)
{
	usage_error(ARGV("sendmail", "-k", "a@x"), "unknown option -k",
	    "unknown letter");
	T_OK(run(ARGV("sendmail", "-k", "a@x")) == -1, "unknown letter fails");
	usage_error(ARGV("sendmail", "-tk"), "unknown option -k",
	    "unknown letter in cluster");
	usage_error(ARGV("sendmail", "-\x01"), "unknown option -\\x01",
	    "unprintable letter");
	usage_error(ARGV("sendmail", "-i", "-f"), "-f needs a value",
	    "missing value at the end");
	usage_error(ARGV("sendmail", "-N"), "-N needs a value", "-N last");
	usage_error(ARGV("sendmail", "-b"), "-b needs a value", "-b last");
	usage_error(ARGV("sendmail", "-o"), "-o needs a value", "-o last");
	usage_error(ARGV("sendmail", "a@x\r\nRCPT TO:<evil@x>"),
	    "line break in recipient", "CRLF in recipient");
	usage_error(ARGV("sendmail", "--", "a@x", "b\n@x"),
	    "line break in recipient argument 3", "LF in recipient after --");
	usage_error(ARGV("sendmail", "-f", "a@x\r\nX: y"),
	    "line break in the value of -f", "CRLF in -f");
	usage_error(ARGV("sendmail", "-FName\n"), "line break", "LF in -F");
	usage_error(ARGV("sendmail", "-V", "a\rb"), "line break", "CR in -V");
}

static void
t_operands(void)
{
	T_OK(run(ARGV("sendmail", "a@x", "-t")) == 0 && !C.extract &&
		C.nrcpts == 2,
	    "options stop at the first operand");
	T_OK(run(ARGV("sendmail", "-", "a@x")) == 0 && C.nrcpts == 2 &&
		strcmp(C.rcpts[0], "-") == 0,
	    "- is an operand");
	T_OK(run(ARGV("sendmail", "-i", "--", "-t")) == 0 && !C.extract &&
		C.nrcpts == 1 && strcmp(C.rcpts[0], "-t") == 0,
	    "-- then -t");
	T_OK(run(ARGV("sendmail", "--")) == 0 && C.nrcpts == 0, "-- alone");
	T_OK(run(ARGV("sendmail", "root,", "a@x, Name <b@y>")) == 0 &&
		C.nrcpts == 2,
	    "address lists as operands");
	T_OK(strstr(cli_usage(), "-t") != NULL &&
		strstr(cli_usage(), "--queue-run") != NULL,
	    "usage text");
}

int
main(void)
{
	t_callers();
	t_clusters();
	t_modes();
	t_values();
	t_errors();
	t_operands();
	return t_done();
}
