/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * listen.c: postern as the local SMTP service (-bd), and -bs on a socket.
 *
 * -bd checks everything it can before it binds (the allow rule, a loop
 * back into itself, the user to run as), binds every [listen] address,
 * gives up root for good, and then only accepts: each client is served
 * by a child process running the same session code as -bs (server.c),
 * so one session's crash or hang cannot touch another.  Beyond
 * max_sessions a client gets 421 and is closed at once.  Signals reach
 * the accept loop through a pipe (poll() wakes on it); SIGTERM closes the
 * listening sockets, asks each session to finish its transaction, and
 * waits for them: nothing a client was told 250 for is cut short.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "postern/cli.h"
#include "postern/config.h"
#include "postern/err.h"
#include "postern/fdio.h"
#include "postern/listen.h"
#include "postern/log.h"
#include "postern/peer.h"
#include "postern/server.h"
#include "listen_int.h"

/* The socket systemd passed (LISTEN_FDS), -1 when none. */
static int listen_inherited = -1;

void
listen_take_env(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long p, n;

	if (pid != NULL && fds != NULL) {
		p = strtol(pid, &end, 10);
		if (*end == '\0' && p == (long)getpid()) {
			n = strtol(fds, &end, 10);
			/* SD_LISTEN_FDS_START: the first passed fd is 3. */
			if (*end == '\0' && n >= 1)
				listen_inherited = 3;
		}
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

void
listen_bs_unavailable(const char *why)
{
	char line[ERR_TEXT_MAX + 32];
	int n;

	n = snprintf(line, sizeof(line), "421 4.3.5 postern: %s\r\n", why);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		memcpy(line + n - 2, "\r\n", 2);
	}
	if (listen_inherited >= 0)
		(void)fdio_write_all(listen_inherited, line, (size_t)n);
	else
		fputs(line, stdout);
}

/* -bd sessions and -bs on a socket: SIGTERM finishes, never cuts. */
static void
listen_on_term(int sig)
{
	(void)sig;
	server_drain();
}

int
listen_session(const struct cli *cli, const struct config *cfg, int in, int out,
    const struct sockaddr *peer, struct err *e)
{
	struct server_client client;
	struct peer_allow allow;
	struct sigaction sa;
	char why[256];
	struct cli c = *cli;

	memset(&client, 0, sizeof(client));
	peer_format(peer, client.addr, sizeof(client.addr));
	log_set_client(client.addr);
	/* config_load checked the syntax: this cannot fail after it. */
	if (peer_allow_parse(cfg->listen.allow, &allow, why, sizeof(why)) == -1)
		return err_set(e, ERR_CONFIG, "[listen] allow: %s", why);
	client.refused = !peer_allowed(&allow, peer);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = listen_on_term;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	c.mode = CLI_SERVER; /* a session is -bs, whoever started it */
	return server_run(&c, cfg, in, out, &client, e);
}

int
listen_bs(const struct cli *cli, const struct config *cfg, struct err *e)
{
	struct sockaddr_storage ss;
	int fd = listen_inherited >= 0 ? listen_inherited : STDIN_FILENO;
	int r;

	r = peer_of_fd(fd, &ss);
	if (r == -1)
		return err_sys(e, ERR_CONFIG,
		    "-bs: fd %d is a socket without a client (a listening "
		    "socket? the unit needs Accept=yes)",
		    fd);
	if (r == 0 || ss.ss_family == AF_UNIX) {
		/* A pipe or a local socket: the caller is on this host. */
		if (fd != STDIN_FILENO)
			return server_run(cli, cfg, fd, fd, NULL, e);
		return server_run(cli, cfg, STDIN_FILENO, STDOUT_FILENO, NULL,
		    e);
	}
	return listen_session(cli, cfg, fd,
	    fd == STDIN_FILENO ? STDOUT_FILENO : fd, (struct sockaddr *)&ss, e);
}

int
listen_check(const struct config *cfg, struct err *e)
{
	struct listen_addrs la;
	int rc;

	if (listen_resolve(cfg, &la, e) == -1)
		return -1;
	rc = listen_check_loop(cfg, &la, e);
	listen_addrs_free(&la);
	return rc;
}

/* A user to run as: never root, never group root. */
static int
listen_user(const struct config *cfg, uid_t *uid, gid_t *gid, struct err *e)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(cfg->listen.user)) == NULL)
		return err_set(e, ERR_CONFIG,
		    "%s: [listen] user \"%s\" does not exist (create it, "
		    "or name another)",
		    cfg->path, cfg->listen.user);
	*uid = pw->pw_uid;
	/* The spool is 2770 root:postern: the group is what writes it. */
	*gid = (gr = getgrnam("postern")) != NULL ? gr->gr_gid : pw->pw_gid;
	if (*uid == 0 || *gid == 0)
		return err_set(e, ERR_CONFIG,
		    "%s: [listen] user \"%s\" is %s: postern -bd never "
		    "serves clients as root",
		    cfg->path, cfg->listen.user,
		    *uid == 0 ? "root" : "in group root");
	return 0;
}

/* Root gives up every ID for good; anyone else must not be root. */
static int
listen_drop(const struct config *cfg, uid_t uid, gid_t gid, struct err *e)
{
	if (geteuid() == 0) {
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			return err_sys(e, ERR_OS, "cannot run as %s",
			    cfg->listen.user);
		if (setuid(0) != -1)
			return err_set(e, ERR_OS,
			    "could become root again after dropping it");
	}
	if (getuid() == 0 || geteuid() == 0 || getgid() == 0 || getegid() == 0)
		return err_set(e, ERR_CONFIG,
		    "postern -bd will not serve clients with group root "
		    "(start it as root, or as another user with "
		    "CAP_NET_BIND_SERVICE)");
	return 0;
}

int
listen_run(const struct cli *cli, const struct config *cfg, struct err *e)
{
	struct listen_addrs la;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = -1;

	if (listen_resolve(cfg, &la, e) == -1)
		return -1;
	if (listen_check_loop(cfg, &la, e) == -1 ||
	    (geteuid() == 0 && listen_user(cfg, &uid, &gid, e) == -1) ||
	    listen_bind(&la, e) == -1 || listen_drop(cfg, uid, gid, e) == -1)
		goto out;
	rc = listen_loop(cli, cfg, &la, e);
out:
	listen_addrs_free(&la);
	return rc;
}
