/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * listen_loop.c: the accept loop of -bd.  One child process per session,
 * at most [listen] max_sessions; signals arrive as bytes on a pipe that
 * poll() watches with the listening sockets ("t": stop, "c": a child
 * ended), so no signal is lost between a check and the wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "postern/cli.h"
#include "postern/config.h"
#include "postern/deliver.h"
#include "postern/err.h"
#include "postern/log.h"
#include "postern/peer.h"
#include "listen_int.h"

static int loop_pipe[2] = { -1, -1 };

static void
loop_on_signal(int sig)
{
	char c = sig == SIGCHLD ? 'c' : 't';
	int saved = errno;

	/* A full pipe already holds a wake-up: nothing is lost. */
	if (write(loop_pipe[1], &c, 1) == -1)
		c = 0;
	errno = saved;
}

/* The running sessions: pid per slot, 0 for a free one. */
struct loop {
	const struct cli *cli;
	const struct config *cfg;
	struct listen_addrs *la;
	pid_t *pids;
	int nsessions;
	int stopping;
};

static int
loop_signals(struct err *e)
{
	struct sigaction sa;
	int i;

	if (pipe(loop_pipe) == -1)
		return err_sys(e, ERR_OS, "-bd: pipe");
	for (i = 0; i < 2; i++)
		if (fcntl(loop_pipe[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(loop_pipe[i], F_SETFL, O_NONBLOCK) == -1)
			return err_sys(e, ERR_OS, "-bd: pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGCHLD, &sa, NULL) == -1)
		return err_sys(e, ERR_OS, "-bd: signals");
	return 0;
}

/* Reap the sessions that ended; other children (none) are ignored. */
static void
loop_reap(struct loop *l)
{
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < l->cfg->listen.max_sessions; i++)
			if (l->pids[i] == pid) {
				l->pids[i] = 0;
				l->nsessions--;
				break;
			}
		if (WIFSIGNALED(st))
			log_msg(LOG_ERR,
			    "session process %ld killed by signal %d",
			    (long)pid, WTERMSIG(st));
	}
}

/* The child: one session, then exit; it never returns. */
static void
loop_child(struct loop *l, int fd, const struct sockaddr *peer)
{
	struct sigaction sa;
	struct err e;
	size_t i;
	int flags;

	for (i = 0; i < l->la->n; i++)
		close(l->la->fd[i]);
	close(loop_pipe[0]);
	close(loop_pipe[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	/* ^C reaches the whole process group: the listener stops and tells
	 * each session (SIGTERM), which finishes its transaction first. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	/* Blocking I/O: server.c bounds each wait with poll(). */
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	err_clear(&e);
	if (listen_session(l->cli, l->cfg, fd, fd, peer, &e) == -1)
		log_msg(LOG_ERR, "session: %s", e.text);
	close(fd);
	deliver_kick(l->cli, l->cfg);
	log_close();
	exit(0);
}

/* No session for this client (why): one line, and it is closed. */
static void
loop_full(int fd, const struct sockaddr *peer, const char *why)
{
	static const char busy[] = "421 4.3.2 Too many sessions, try again "
				   "later\r\n";
	char addr[PEER_TEXT_MAX];

	peer_format(peer, addr, sizeof(addr));
	log_msg(LOG_WARNING, "session refused: %s client=%s", why, addr);
	(void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(fd, SHUT_WR);
	close(fd);
}

/* Accept what is waiting on listening socket lfd. */
static void
loop_accept(struct loop *l, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	pid_t pid;
	int fd, slot;

	if ((fd = accept(lfd, (struct sockaddr *)&ss, &len)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		log_msg(LOG_ERR, "accept: %s", strerror(errno));
		/* Out of descriptors: the client stays queued; do not spin. */
		(void)poll(NULL, 0, 100);
		return;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (l->nsessions >= l->cfg->listen.max_sessions) {
		loop_full(fd, (struct sockaddr *)&ss, "max_sessions reached");
		return;
	}
	for (slot = 0; l->pids[slot] != 0; slot++)
		continue;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		loop_full(fd, (struct sockaddr *)&ss, strerror(errno));
		return;
	}
	if (pid == 0)
		loop_child(l, fd, (struct sockaddr *)&ss);
	l->pids[slot] = pid;
	l->nsessions++;
	close(fd);
}

/*
 * SIGTERM: no more clients (the sockets close, so a new client is
 * refused by the kernel, not greeted), each session finishes its
 * transaction and ends (server_drain).
 */
static void
loop_stop(struct loop *l)
{
	int s;

	l->stopping = 1;
	listen_addrs_free(l->la);
	log_msg(LOG_INFO, "stopping: %d session%s open", l->nsessions,
	    l->nsessions == 1 ? "" : "s");
	for (s = 0; s < l->cfg->listen.max_sessions; s++)
		if (l->pids[s] != 0)
			(void)kill(l->pids[s], SIGTERM);
}

/* Drain the signal pipe. */
static void
loop_wake(struct loop *l)
{
	char buf[64];
	ssize_t n, i;

	while ((n = read(loop_pipe[0], buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			if (buf[i] == 't' && !l->stopping)
				loop_stop(l);
	loop_reap(l);
}

int
listen_loop(const struct cli *cli, const struct config *cfg,
    struct listen_addrs *la, struct err *e)
{
	struct pollfd pfd[LISTEN_ADDR_MAX + 1];
	struct loop l;
	size_t i, n;

	memset(&l, 0, sizeof(l));
	l.cli = cli;
	l.cfg = cfg;
	l.la = la;
	if ((l.pids = calloc((size_t)cfg->listen.max_sessions,
		 sizeof(*l.pids))) == NULL)
		return err_sys(e, ERR_OS, "-bd");
	if (loop_signals(e) == -1) {
		free(l.pids);
		return -1;
	}
	for (i = 0; i < la->n; i++)
		log_msg(LOG_INFO, "listening on %s", la->text[i]);
	while (!l.stopping || l.nsessions > 0) {
		pfd[0].fd = loop_pipe[0];
		pfd[0].events = POLLIN;
		n = 1;
		for (i = 0; !l.stopping && i < la->n; i++, n++) {
			pfd[n].fd = la->fd[i];
			pfd[n].events = POLLIN;
		}
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			err_sys(e, ERR_OS, "-bd: poll");
			break;
		}
		if (pfd[0].revents)
			loop_wake(&l);
		for (i = 1; !l.stopping && i < n; i++)
			if (pfd[i].revents & POLLIN)
				loop_accept(&l, pfd[i].fd);
	}
	if (l.stopping && l.nsessions == 0)
		log_msg(LOG_INFO, "stopped");
	free(l.pids);
	close(loop_pipe[0]);
	close(loop_pipe[1]);
	return l.stopping && l.nsessions == 0 ? 0 : -1;
}
