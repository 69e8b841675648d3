/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * main.c: mode dispatch, privileges, and the one table that turns an
 * error class into an exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "postern/auth.h"
#include "postern/cli.h"
#include "postern/config.h"
#include "postern/deliver.h"
#include "postern/err.h"
#include "postern/listen.h"
#include "postern/log.h"
#include "postern/queue.h"
#include "postern/server.h"

/* The exit-code table of postern(8), EXIT STATUS: the only place it lives. */
static int exit_status(enum err_class class)
{
	switch (class) {
	case ERR_NONE:
		return EX_OK;
	case ERR_USAGE:
		return EX_USAGE;
	case ERR_DATA:
		return EX_DATAERR;
	case ERR_NOUSER:
		return EX_NOUSER;
	case ERR_UNAVAIL:
		return EX_UNAVAILABLE;
	case ERR_SOFTWARE:
		return EX_SOFTWARE;
	case ERR_OS:
		return EX_OSERR;
	case ERR_CANTCREAT:
		return EX_CANTCREAT;
	case ERR_IO:
		return EX_IOERR;
	case ERR_TEMP:
		return EX_TEMPFAIL;
	case ERR_NOPERM:
		return EX_NOPERM;
	case ERR_CONFIG:
		return EX_CONFIG;
	}
	return EX_SOFTWARE;
}

static int
fail(const struct err *e)
{
	fprintf(stderr, "postern: %s\n", e->text[0] ? e->text : "failed");
	return exit_status(e->class);
}

/*
 * Another ini than the default may be read only with the caller's own
 * rights: a set-group-ID postern gives the group up for good before it
 * opens a file the caller chose.
 */
static int
drop_setgid(struct err *e)
{
	gid_t gid = getgid();

	if (getegid() == gid)
		return 0;
	if (setresgid(gid, gid, gid) == -1)
		return err_sys(e, ERR_OS, "cannot drop group privileges");
	if (getegid() != gid)
		return err_set(e, ERR_OS, "group privileges still held");
	return 0;
}

/*
 * Set-group-ID: nothing the caller put in the environment may steer
 * postern (TMPDIR, LOCALDOMAIN, HOSTALIASES, RES_OPTIONS, TZDIR ...).
 */
static int
sanitise_env(struct err *e)
{
	const char *tz = getenv("TZ");
	char tzbuf[64] = "";

	if (getegid() == getgid() && geteuid() == getuid())
		return 0;
	/* A plain zone name ("Europe/Paris") keeps the caller's clock. */
	if (tz != NULL && strlen(tz) < sizeof(tzbuf) && tz[0] != '/' &&
	    strstr(tz, "..") == NULL)
		snprintf(tzbuf, sizeof(tzbuf), "%s", tz);
	if (clearenv() != 0 || setenv("PATH", "/usr/bin:/bin", 1) != 0 ||
	    (tzbuf[0] != '\0' && setenv("TZ", tzbuf, 1) != 0))
		return err_sys(e, ERR_OS, "cannot clean the environment");
	return 0;
}

static int
queue_mode(const struct cli *cli, const struct config *cfg, struct err *e)
{
	switch (cli->mode) {
	case CLI_LISTQ:
		return queue_list(cfg, stdout, e);
	case CLI_FLUSH:
		return queue_run(cli, cfg, QUEUE_ALL, NULL, 0, e);
	case CLI_QUEUE_RUN:
		return queue_run(cli, cfg, QUEUE_DUE, NULL, 0, e);
	case CLI_REMOVE:
		return queue_remove(cfg, cli->rcpts, cli->nrcpts, e);
	default:
		return err_set(e, ERR_SOFTWARE, "mode not handled");
	}
}

/*
 * Listing or removing spooled mail needs no relay: mailq works at once
 * after make install, with [remote] host still empty.
 */
static int
load_config(const struct cli *cli, struct config *cfg, struct err *e)
{
	if (cli->mode == CLI_LISTQ || cli->mode == CLI_REMOVE)
		return config_load_admin(cli->config, cfg, e);
	/* Mail sent before the relay is set is spooled, not lost. */
	if (cli->mode == CLI_SEND || cli->mode == CLI_SERVER)
		return config_load_submit(cli->config, cfg, e);
	return config_load(cli->config, cfg, e);
}

static int
run(const struct cli *cli, struct err *e)
{
	struct config cfg;
	int rc;

	if (cli->config != NULL && drop_setgid(e) == -1)
		return -1;
	if (load_config(cli, &cfg, e) == -1) {
		/* An SMTP client learns why before the process goes away. */
		if (cli->mode == CLI_SERVER)
			listen_bs_unavailable(e->text);
		return -1;
	}
	/* --check and --serverinfo only show: they leave no log file. */
	log_open(cli->log_tag,
	    cli->mode == CLI_CHECK || cli->mode == CLI_SERVERINFO
		? NULL
		: cfg.log_file,
	    cfg.log_syslog);
	switch (cli->mode) {
	case CLI_CHECK:
		/* A [listen] section: what -bd would refuse is refused. */
		if (cfg.listen.present && listen_check(&cfg, e) == -1) {
			rc = -1;
			break;
		}
		config_print(&cfg, stdout);
		config_warn(&cfg, stderr);
		rc = 0;
		if (cli->oauth2_test)
			rc = auth_fetch_test(config_server(&cfg), stdout, e);
		if (fflush(stdout) != 0 && rc == 0)
			rc = err_sys(e, ERR_IO, "cannot write the settings");
		break;
	case CLI_SERVERINFO:
		rc = deliver_serverinfo(cli, &cfg, e);
		break;
	case CLI_SEND:
		rc = deliver_submit(cli, &cfg, STDIN_FILENO, e);
		deliver_kick(cli, &cfg);
		break;
	case CLI_SERVER:
		rc = listen_bs(cli, &cfg, e);
		deliver_kick(cli, &cfg);
		break;
	case CLI_DAEMON:
		rc = listen_run(cli, &cfg, e);
		break;
	default:
		rc = queue_mode(cli, &cfg, e);
		break;
	}
	log_close();
	config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli cli;
	struct err e;

	err_clear(&e);
	/* Body files and logs are the caller's mail: nobody else reads them. */
	umask(077);
	/* A closed peer is an error to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	/* systemd's socket, before the environment may be cleaned. */
	listen_take_env();

	if (sanitise_env(&e) == -1 || cli_parse(argc, argv, &cli, &e) == -1)
		return fail(&e);
	switch (cli.mode) {
	case CLI_VERSION:
		printf("postern %s\n", POSTERN_VERSION);
		return EX_OK;
	case CLI_HELP:
		fputs(cli_usage(), stdout);
		return EX_OK;
	case CLI_NOOP:
		return EX_OK;
	default:
		break;
	}
	if (run(&cli, &e) == -1)
		return fail(&e);
	return EX_OK;
}
