/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * log.c: syslog (facility mail) and an optional log file with the same
 * lines.
 *
 * The log file is a convenience, never a reason to fail a delivery: when
 * it cannot be opened or written, that is said once to syslog and the
 * file is forgotten.  Each line leaves in one write() on an O_APPEND
 * descriptor, so lines of concurrent postern processes do not interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "postern/log.h"

#define LOG_LINE_MAX 1024 /* the message text, truncated with "..." */
#define LOG_TAG_MAX 64

static char log_tag[LOG_TAG_MAX] = "postern";
static char log_path[512]; /* for the one warning; cut if longer */
static int log_fd = -1;
static int log_syslog_on;
static int log_opened; /* openlog() called: closelog() at the end */
static char log_client[80]; /* " client=ADDR", or "" */

/* The file failed: tell syslog once, then carry on without it. */
static void
log_file_failed(const char *what, int errnum)
{
	syslog(LOG_MAIL | LOG_WARNING, "cannot %s log file %s: %s", what,
	    log_path, strerror(errnum));
}

static void
log_set_tag(const char *tag)
{
	size_t i;
	int n;

	n = snprintf(log_tag, sizeof(log_tag), "%s",
	    tag != NULL && *tag != '\0' ? tag : "postern");
	if (n < 0)
		snprintf(log_tag, sizeof(log_tag), "postern");
	/* The tag comes from -L: it must not break the line format. */
	for (i = 0; log_tag[i] != '\0'; i++)
		if ((unsigned char)log_tag[i] <= ' ' ||
		    (unsigned char)log_tag[i] >= 0x7f || log_tag[i] == '[' ||
		    log_tag[i] == ':')
			log_tag[i] = '_';
}

void
log_open(const char *tag, const char *file, int use_syslog)
{
	log_close();
	log_set_tag(tag);
	log_syslog_on = use_syslog;
	/* openlog keeps the pointer: log_tag is static for that reason. */
	openlog(log_tag, LOG_PID, LOG_MAIL);
	log_opened = 1;
	if (file == NULL)
		return;
	snprintf(log_path, sizeof(log_path), "%s", file);
	/* A file that exists is the admin's: its mode stays.  One we make
	 * is 0640 whatever the umask (postern's is 077). */
	log_fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC |
		O_NOCTTY, 0640);
	if (log_fd != -1)
		(void)fchmod(log_fd, 0640);
	else if (errno == EEXIST)
		log_fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	if (log_fd == -1)
		log_file_failed("open", errno);
}

/* Control bytes (CR, LF, escape sequences) must not reach a log line. */
static void
log_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = (*s == '\r' || *s == '\n' || *s == '\t') ? ' '
								      : '?';
}

/*
 * The file's line, syslog's traditional layout:
 * "Mon DD HH:MM:SS host tag[pid]: text\n".
 */
static void
log_to_file(const char *text)
{
	char line[LOG_LINE_MAX + 512], stamp[32], host[256], *dot;
	struct tm tm;
	time_t now = time(NULL);
	ssize_t w;
	size_t len, off = 0;
	int n;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "-");
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if ((dot = strchr(host, '.')) != NULL)
		*dot = '\0';
	n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n", stamp, host,
	    log_tag, (long)getpid(), text);
	if (n < 0)
		return;
	len = (size_t)n;
	if (len >= sizeof(line)) { /* cannot happen with the sizes above */
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	while (off < len) {
		w = write(log_fd, line + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_file_failed("write", w == 0 ? EIO : errno);
			close(log_fd);
			log_fd = -1;
			return;
		}
		off += (size_t)w;
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	char text[LOG_LINE_MAX];
	va_list ap;
	int n;

	size_t room = sizeof(text) - strlen(log_client);

	va_start(ap, fmt);
	n = vsnprintf(text, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room)
		memcpy(text + room - 4, "...", 4);
	/* room was kept for it: the client is never cut off. */
	memcpy(text + strlen(text), log_client, strlen(log_client) + 1);
	log_clean(text);
	if (log_syslog_on)
		syslog(prio, "%s", text);
	if (log_fd != -1)
		log_to_file(text);
}

int
log_syslog_present(void)
{
	struct stat st;

	return stat(_PATH_LOG, &st) == 0 && S_ISSOCK(st.st_mode);
}

void
log_close(void)
{
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	if (log_opened)
		closelog();
	log_opened = 0;
}

void
log_set_client(const char *addr)
{
	if (addr == NULL || *addr == '\0')
		log_client[0] = '\0';
	else
		snprintf(log_client, sizeof(log_client), " client=%s", addr);
}
