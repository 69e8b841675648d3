/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * cred.c: the credentials for SMTP AUTH.
 *
 * Which keys each auth mode needs is the mechanism table's word
 * (auth.h): cred_check applies its rules at load time.  The secret
 * comes from one of three places, fetched when a connection needs it
 * (cred_password):
 *
 *	password		the ini itself (which must then be private)
 *	password_file		the first line of a file (also private)
 *	password_command	the first line the command prints
 *
 * The command runs without a shell: its words are split here (quotes
 * and backslashes as in sh, nothing else), so a value from the ini can
 * never turn into a pipeline by accident; sh -c '...' asks for one.  Its
 * output is bounded and so is its run time (the server's timeout).  When
 * postern runs with a set-group-ID privilege the command gets a fixed
 * PATH and nothing else from the caller's environment, and must be named
 * by an absolute path: the caller must not choose what runs with the
 * postern group.  It runs without that group: real, effective and saved
 * group IDs are the caller's real one before exec (cred_drop).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "postern/auth.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "postern/err.h"

#define CRED_OUTPUT_MAX (1024 * 1024) /* read and dropped past line 1 */
#define CRED_SAFE_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

void
cred_nodump(void)
{
	struct rlimit rl = { 0, 0 };

	/* A core file would hold the secret; so would /proc/PID/mem. */
	(void)setrlimit(RLIMIT_CORE, &rl);
#ifdef PR_SET_DUMPABLE
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

void
cred_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The modes that take a user (which 0) or a password (1), as "basic,
 * ntlm or xoauth2". */
static void
cred_modes(size_t which, char *out, size_t outsz)
{
	const struct auth_mode *m;
	size_t used = 0, count = 0, i;
	int n, j;

	for (j = 0; (m = auth_mode_at(j)) != NULL; j++)
		count += (which ? m->secret : m->user) != AUTH_NEVER;
	out[0] = '\0';
	for (i = 0, j = 0; (m = auth_mode_at(j)) != NULL; j++) {
		if ((which ? m->secret : m->user) == AUTH_NEVER)
			continue;
		n = snprintf(out + used, outsz - used, "%s%s",
		    i == 0               ? ""
			: i + 1 == count ? " or "
					 : ", ",
		    m->name);
		if (n < 0 || (size_t)n >= outsz - used)
			return;
		used += (size_t)n;
		i++;
	}
}

int
cred_check(const struct config_server *srv, char *why, size_t whysz)
{
	const struct auth_mode *m = auth_mode_of(srv);
	int n = (srv->password != NULL) + (srv->password_file != NULL) +
	    (srv->password_command != NULL);
	char modes[128];

	if ((m->user == AUTH_NEVER && srv->user != NULL) ||
	    (m->secret == AUTH_NEVER && n > 0)) {
		cred_modes(m->user == AUTH_NEVER && srv->user != NULL ? 0 : 1,
		    modes, sizeof(modes));
		snprintf(why, whysz,
		    "%s is set but auth = %s (set auth = %s, or remove it)",
		    m->user == AUTH_NEVER && srv->user != NULL ? "user"
							       : "a password",
		    m->name, modes);
		return -1;
	}
	if (srv->oauth2_token_url != NULL && m->fetches == NULL) {
		snprintf(why, whysz,
		    "oauth2_token_url is set but auth = %s (set auth = "
		    "xoauth2, or remove it)",
		    m->name);
		return -1;
	}
	if (m->user == AUTH_NEEDED && srv->user == NULL) {
		snprintf(why, whysz, "auth needs a user");
		return -1;
	}
	if (m->secret == AUTH_NEEDED && n != 1) {
		snprintf(why, whysz,
		    "auth needs %s of password, password_file and "
		    "password_command",
		    n == 0 ? "one" : "only one");
		return -1;
	}
	/* Refused before anything is sent: nothing connects at all. */
	if (m->plaintext && srv->tls == CONFIG_TLS_OFF &&
	    !srv->allow_plaintext_auth) {
		snprintf(why, whysz,
		    "auth = %s with tls = off would send the password in "
		    "clear text (set tls = starttls or implicit, or "
		    "allow_plaintext_auth = yes)",
		    m->name);
		return -1;
	}
	return m->check != NULL ? m->check(srv, why, whysz) : 0;
}

int
cred_check_mode(const char *path, mode_t mode, struct err *e)
{
	int r = (mode & S_IROTH) != 0, w = (mode & (S_IWGRP | S_IWOTH)) != 0;

	if (!r && !w)
		return 0;
	return err_set(e, ERR_CONFIG,
	    "%s holds a secret and is %s by others (chmod %s %s)", path,
	    r && w  ? "readable and writable"
		: r ? "readable"
		    : "writable",
	    r && w  ? "go-w,o-r"
		: r ? "o-r"
		    : "go-w",
	    path);
}

/* The first line of buf (len bytes) as a new string; "" is an error. */
static int
cred_first_line(const char *buf, size_t len, const char *what, char **out,
    struct err *e)
{
	size_t n = 0;

	while (n < len && buf[n] != '\n')
		n++;
	if (n == len && len > CRED_MAX)
		return err_set(e, ERR_CONFIG,
		    "%s: the first line is longer than %d bytes", what,
		    CRED_MAX);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return err_set(e, ERR_CONFIG, "%s: the first line is empty",
		    what);
	if (memchr(buf, '\0', n) != NULL)
		return err_set(e, ERR_CONFIG, "%s: the secret holds a NUL byte",
		    what);
	if ((*out = strndup(buf, n)) == NULL)
		return err_sys(e, ERR_OS, "%s", what);
	return 0;
}

int
cred_file(const char *path, const char *what, char **out, struct err *e)
{
	char buf[CRED_MAX + 2];
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return err_sys(e, ERR_CONFIG, "%s %s", what, path);
	if (fstat(fd, &st) == -1) {
		err_sys(e, ERR_CONFIG, "%s %s", what, path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_CONFIG, "%s %s is not a file", what, path);
		goto out;
	}
	if (cred_check_mode(path, st.st_mode, e) == -1)
		goto out;
	while (len < sizeof(buf) &&
	    (r = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_sys(e, ERR_CONFIG, "%s %s", what, path);
			goto out;
		}
		len += (size_t)r;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	rc = cred_first_line(buf, len, what, out, e);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* One word of cred_split: from *pp into *o, advancing both. */
static int
cred_word(const char **pp, char **o, struct err *e)
{
	const char *p = *pp;
	char q = 0;

	for (; *p != '\0' && (q || (*p != ' ' && *p != '\t')); p++) {
		if (q == '\'' && *p == '\'')
			q = 0;
		else if (q == '\'')
			*(*o)++ = *p;
		else if (*p == '\\' && p[1] != '\0' &&
		    (!q || p[1] == '"' || p[1] == '\\'))
			*(*o)++ = *++p;
		else if (*p == '"')
			q = q ? 0 : '"';
		else if (!q && *p == '\'')
			q = '\'';
		else
			*(*o)++ = *p;
	}
	if (q)
		return err_set(e, ERR_CONFIG,
		    "password_command: unbalanced %c quote", q);
	*(*o)++ = '\0';
	*pp = p;
	return 0;
}

int
cred_split(const char *cmd, char ***argvp, struct err *e)
{
	size_t len = strlen(cmd), argc = 0;
	char **argv, *o;

	*argvp = NULL;
	/* One block: the pointers, then every word (never longer than cmd). */
	argv = malloc((CRED_ARGS_MAX + 1) * sizeof(*argv) + 2 * len + 2);
	if (argv == NULL)
		return err_sys(e, ERR_OS, "password_command");
	o = (char *)(argv + CRED_ARGS_MAX + 1);
	for (;;) {
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (*cmd == '\0')
			break;
		if (argc == CRED_ARGS_MAX) {
			free(argv);
			return err_set(e, ERR_CONFIG,
			    "password_command: more than %d words",
			    CRED_ARGS_MAX);
		}
		argv[argc++] = o;
		if (cred_word(&cmd, &o, e) == -1) {
			free(argv);
			return -1;
		}
	}
	argv[argc] = NULL;
	if (argc == 0) {
		free(argv);
		return err_set(e, ERR_CONFIG, "password_command is empty");
	}
	*argvp = argv;
	return 0;
}

static int
cred_privileged(void)
{
	return getegid() != getgid() || geteuid() != getuid();
}

/*
 * The command is the caller's, not postern's: real, effective and saved
 * IDs all become the caller's real ones, so that nothing it runs (gpg's
 * agent-program, a helper named in the caller's dot files) can regain
 * the postern group.  The supplementary groups already are the caller's:
 * a set-group-ID exec does not touch them.
 */
static int
cred_drop(void)
{
	gid_t gid = getgid(), rg, eg, sg;
	uid_t uid = getuid(), ru, eu, su;

	if (setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		return -1;
	if (getresgid(&rg, &eg, &sg) == -1 || getresuid(&ru, &eu, &su) == -1)
		return -1;
	if (rg != gid || eg != gid || sg != gid || ru != uid || eu != uid ||
	    su != uid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The child: output to the pipe, exec; errno to errfd when exec fails. */
static void
cred_child(char **argv, int outfd, int errfd)
{
	static char *safe_env[] = { CRED_SAFE_PATH, NULL };
	extern char **environ;
	int fd, err;

	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (dup2(outfd, 1) == -1)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	if (cred_privileged()) {
		environ = safe_env;
		if (cred_drop() == -1)
			goto fail;
	}
	execvp(argv[0], argv);
fail:
	err = errno;
	(void)!write(errfd, &err, sizeof(err));
	_exit(127);
}

static long
cred_ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * Read the child's output until EOF (0), the deadline (-1) or
 * CRED_OUTPUT_MAX bytes (1: we stop listening); keep the first cap.
 */
static int
cred_read(int fd, char *buf, size_t cap, size_t *len,
    const struct timespec *deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t total = 0;
	char junk[4096];
	ssize_t r;
	long ms;

	*len = 0;
	for (;;) {
		if ((ms = cred_ms_left(deadline)) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)ms) == -1 && errno != EINTR)
			return -1;
		if (pfd.revents == 0)
			continue;
		if (*len < cap)
			r = read(fd, buf + *len, cap - *len);
		else
			r = read(fd, junk, sizeof(junk));
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -1;
		if (*len < cap)
			*len += (size_t)r;
		if ((total += (size_t)r) > CRED_OUTPUT_MAX)
			return 1; /* enough: what matters is line 1 */
	}
}

/* Wait for the child until the deadline, then kill it. */
static int
cred_reap(pid_t pid, const struct timespec *deadline, int *status)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (cred_ms_left(deadline) <= 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) == -1 && errno == EINTR)
				continue;
			return -1;
		}
		nanosleep(&tick, NULL);
	}
}

/* Run argv; its output in buf.  Errors name the command's argv[0]. */
static int
cred_run(char **argv, int timeout, char *buf, size_t cap, size_t *len,
    struct err *e)
{
	struct timespec deadline;
	int out[2], ep[2], status, cerr = 0, rd;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) == -1)
		return err_sys(e, ERR_OS, "password_command");
	if (pipe2(ep, O_CLOEXEC) == -1) {
		close(out[0]);
		close(out[1]);
		return err_sys(e, ERR_OS, "password_command");
	}
	if ((pid = fork()) == -1) {
		close(out[0]);
		close(out[1]);
		close(ep[0]);
		close(ep[1]);
		return err_sys(e, ERR_OS, "password_command");
	}
	if (pid == 0)
		cred_child(argv, out[1], ep[1]);
	close(out[1]);
	close(ep[1]);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout > 0 ? timeout : 60;
	rd = cred_read(out[0], buf, cap, len, &deadline);
	close(out[0]);
	if (read(ep[0], &cerr, sizeof(cerr)) != sizeof(cerr))
		cerr = 0;
	close(ep[0]);
	if (cred_reap(pid, &deadline, &status) == -1 || rd == -1)
		return err_set(e, ERR_TEMP,
		    "password_command %s did not finish within %d seconds",
		    argv[0], timeout);
	if (cerr != 0)
		return err_set(e, ERR_CONFIG,
		    "password_command: cannot run %s: %s", argv[0],
		    strerror(cerr));
	/* Cut off by us (SIGPIPE): line 1 decides. */
	if (rd == 1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		return 0;
	if (WIFSIGNALED(status))
		return err_set(e, ERR_TEMP,
		    "password_command %s was killed by signal %d", argv[0],
		    WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return err_set(e, ERR_TEMP,
		    "password_command %s exited with status %d", argv[0],
		    WEXITSTATUS(status));
	return 0;
}

static int
cred_from_command(const char *cmd, int timeout, char **out, struct err *e)
{
	char buf[CRED_MAX + 2], **argv;
	size_t len = 0;
	int rc;

	if (cred_split(cmd, &argv, e) == -1)
		return -1;
	if (cred_privileged() && argv[0][0] != '/') {
		free(argv);
		return err_set(e, ERR_CONFIG,
		    "password_command must name the program by its absolute "
		    "path when postern runs set-group-ID");
	}
	rc = cred_run(argv, timeout, buf, sizeof(buf), &len, e);
	if (rc == 0)
		rc = cred_first_line(buf, len, "password_command", out, e);
	explicit_bzero(buf, sizeof(buf));
	free(argv);
	return rc;
}

int
cred_password(const struct config_server *srv, char **out, struct err *e)
{
	*out = NULL;
	cred_nodump();
	if (srv->password != NULL) {
		if ((*out = strdup(srv->password)) == NULL)
			return err_sys(e, ERR_OS, "password");
		return 0;
	}
	if (srv->password_file != NULL)
		return cred_file(srv->password_file, "password_file", out, e);
	if (srv->password_command != NULL)
		return cred_from_command(srv->password_command, srv->timeout,
		    out, e);
	return err_set(e, ERR_CONFIG, "no password configured");
}
