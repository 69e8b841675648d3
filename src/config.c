/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * config.c: the ini file, read with libinih into typed settings.
 *
 * Every known key is one row of the table in config_keys.c: its section,
 * name, type, where it lives in struct config and its default as text.
 * Defaults, parsing, --check output and freeing all walk that table, so a
 * new key is one row plus its field.  Anything not in the table is an
 * error: a key that postern does not know must never look accepted.
 *
 * Debian's libinih is built without INI_HANDLER_LINENO, so the handler
 * never learns the line number.  We feed inih through our own reader
 * (one whole line per call) and count lines there; inih counts one line
 * per reader call too, so its own syntax-error numbers agree with ours.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "postern/addr.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "config_int.h"
#include "postern/err.h"
#include "postern/peer.h"
#include "postern/tls.h"

#define CONFIG_LINE_MAX 4096 /* longest line we read before inih */
#define CONFIG_VALUE_SHOWN 64 /* value bytes quoted in an error */

/* State of one config_load() while inih runs. */
struct cfg_ctx {
	struct config *cfg;
	FILE *fp;
	int line; /* lines handed to inih so far */
	int errline; /* line of the first error, 0: none */
	struct err *err;
	const struct cfg_key *keys; /* the table, nkeys rows */
	size_t nkeys;
	int seen[CFG_KEYS_MAX]; /* line each key was set on */
	int nsecret; /* secrets set from the file */
	struct stat st; /* of the open file: no race with a rename */
	char raw[CONFIG_LINE_MAX]; /* the line as read, wiped at the end */
	char io[BUFSIZ]; /* stdio's buffer for the file, wiped likewise */
};

/* Record the first error at the current line; later ones are noise. */
static int cfg_fail(struct cfg_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
cfg_fail(struct cfg_ctx *c, const char *fmt, ...)
{
	char msg[ERR_TEXT_MAX], clean[ERR_TEXT_MAX];
	va_list ap;

	if (c->errline != 0)
		return 0;
	c->errline = c->line;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A value quoted in msg may hold a CR or other control bytes (inih
	 * splits at LF only): the error stays one printable line. */
	err_sanitize(clean, sizeof(clean), msg, strlen(msg));
	err_set(c->err, ERR_CONFIG, "%s:%d: %s", c->cfg->path, c->line, clean);
	return 0;
}

/*
 * Optimal-string-alignment distance (Levenshtein plus transposition of
 * neighbours, so "prot" is one edit from "port"), case-insensitive.
 * Names longer than 32 bytes get no suggestion.
 */
static size_t
cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[33][33], best;

	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int same = tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 1]);

			best = d[i - 1][j - 1] + (same ? 0 : 1);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
				tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
				tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* Keep cand as the suggestion when it is closer than the best so far. */
static void
cfg_nearer(const char *word, const char *cand, const char **best, size_t *bestd)
{
	size_t d = cfg_distance(word, cand);

	/* At most two edits, and never "everything changed" for short words. */
	if (d <= 2 && d < strlen(word) && d < *bestd) {
		*best = cand;
		*bestd = d;
	}
}

static int
cfg_section_known(const char *name)
{
	size_t nkeys;
	const struct cfg_key *keys = cfg_key_table(&nkeys);
	size_t i;

	if (strcasecmp(name, "aliases") == 0)
		return 1;
	for (i = 0; i < nkeys; i++)
		if (strcasecmp(keys[i].section, name) == 0)
			return 1;
	return 0;
}

/* name, cut and made printable for an error line. */
static const char *
cfg_shown(char *dst, size_t dstsz, const char *name)
{
	size_t n = strlen(name);

	if (n > CONFIG_VALUE_SHOWN) {
		err_sanitize(dst, dstsz, name, CONFIG_VALUE_SHOWN);
		if (strlen(dst) + 4 <= dstsz)
			memcpy(dst + strlen(dst), "...", 4);
		return dst;
	}
	return err_sanitize(dst, dstsz, name, n);
}

/*
 * Section headers are checked as the reader sees them, so that an unknown
 * section is reported on its own line even when it holds no keys.
 */
static void
cfg_scan_section(struct cfg_ctx *c, const char *s)
{
	size_t nkeys;
	const struct cfg_key *keys = cfg_key_table(&nkeys);
	const char *end, *best = NULL;
	char name[128], shown[128];
	size_t i, n, bestd = (size_t)-1;

	while (isspace((unsigned char)*s))
		s++;
	if (*s != '[' || (end = strchr(s + 1, ']')) == NULL)
		return; /* not a header, or a syntax error inih reports */
	n = (size_t)(end - (s + 1));
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (strcasecmp(name, "listen") == 0)
		c->cfg->listen.present = 1; /* --check looks for a loop */
	if (cfg_section_known(name))
		return;
	for (i = 0; i < nkeys; i++)
		cfg_nearer(name, keys[i].section, &best, &bestd);
	cfg_nearer(name, "aliases", &best, &bestd);
	cfg_shown(shown, sizeof(shown), name);
	if (best != NULL)
		cfg_fail(c, "unknown section [%s] (did you mean [%s]?)", shown,
		    best);
	else
		cfg_fail(c, "unknown section [%s]", shown);
}

/*
 * inih's reader: one whole line per call, counted.  A line longer than
 * inih's buffer would otherwise be cut silently and its tail parsed as a
 * line of its own, so it is an error here.
 */
static char *
cfg_reader(char *str, int num, void *arg)
{
	struct cfg_ctx *c = arg;
	char line[CONFIG_LINE_MAX];
	size_t n, body;
	int ch, cut = 0;

	if (fgets(line, sizeof(line), c->fp) == NULL)
		return NULL;
	c->line++;
	n = strlen(line);
	if (n > 0 && line[n - 1] != '\n' && !feof(c->fp)) {
		cut = 1;
		while ((ch = getc(c->fp)) != EOF && ch != '\n')
			continue;
	}
	body = n;
	while (body > 0 && (line[body - 1] == '\n' || line[body - 1] == '\r'))
		body--;
	/* inih needs room for CR, LF and NUL after the text. */
	if (num < 4 || cut || body > (size_t)num - 3) {
		cfg_fail(c, "line too long (at most %d characters)",
		    num < 4 ? 0 : num - 3);
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	memcpy(str, line, n + 1);
	memcpy(c->raw, line, n + 1);
	explicit_bzero(line, sizeof(line));
	cfg_scan_section(c, str);
	return str;
}

static int
cfg_alias_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-/?^_`{|}~.", *s) == NULL)
			return 0;
	return 1;
}

/* [aliases]: any local name, one address with a domain. */
static int
cfg_alias(struct cfg_ctx *c, const char *name, const char *value)
{
	struct config *cfg = c->cfg;
	char shown[128], *addr;
	struct err ae;
	size_t i;

	cfg_shown(shown, sizeof(shown), name);
	if (!cfg_alias_name_ok(name))
		return cfg_fail(c,
		    "[aliases] \"%s\" is not a local name (no '@', no spaces)",
		    shown);
	for (i = 0; i < cfg->naliases; i++)
		if (strcasecmp(cfg->aliases[i].name, name) == 0)
			return cfg_fail(c, "duplicate alias \"%s\"", shown);
	if (strcasecmp(name, "default") == 0 && cfg->alias_default != NULL)
		return cfg_fail(c, "duplicate alias \"%s\"", shown);
	if (cfg_one_address(value, &addr, &ae) == -1)
		return cfg_fail(c, "[aliases] %s: %s", shown, ae.text);
	if (strcasecmp(name, "default") == 0) {
		cfg->alias_default = addr;
		return 1;
	}
	if (cfg_alias_add(cfg, name, addr) == -1) {
		free(addr);
		return cfg_fail(c, "[aliases] %s: %s", shown,
		    errno == E2BIG ? "too many aliases" : strerror(errno));
	}
	return 1;
}

static const struct cfg_key *
cfg_find(struct cfg_ctx *c, const char *section, const char *name)
{
	size_t nkeys;
	const struct cfg_key *keys = cfg_key_table(&nkeys);
	const char *best = NULL;
	char shown[128];
	size_t i, bestd = (size_t)-1;

	for (i = 0; i < nkeys; i++)
		if (strcasecmp(keys[i].section, section) == 0 &&
		    strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	for (i = 0; i < nkeys; i++)
		if (strcasecmp(keys[i].section, section) == 0)
			cfg_nearer(name, keys[i].name, &best, &bestd);
	cfg_shown(shown, sizeof(shown), name);
	if (best != NULL)
		cfg_fail(c, "unknown key \"%s\" in [%s] (did you mean \"%s\"?)",
		    shown, section, best);
	else
		cfg_fail(c, "unknown key \"%s\" in [%s]", shown, section);
	return NULL;
}

static int
cfg_handler(void *arg, const char *section, const char *name, const char *value)
{
	size_t nkeys;
	const struct cfg_key *keys = cfg_key_table(&nkeys);
	struct cfg_ctx *c = arg;
	const struct cfg_key *k;
	char why[512], shown[128];
	size_t idx;

	if (c->errline != 0)
		return 1; /* only the first error is reported */
	if (*section == '\0')
		return cfg_fail(c, "key \"%s\" is outside any section",
		    cfg_shown(shown, sizeof(shown), name));
	if (!cfg_section_known(section))
		return 0; /* cfg_scan_section() reported it */
	if (strcasecmp(section, "aliases") == 0)
		return cfg_alias(c, name, value);
	if ((k = cfg_find(c, section, name)) == NULL)
		return 0;
	idx = (size_t)(k - keys);
	if (c->seen[idx] != 0)
		return cfg_fail(c,
		    "duplicate key \"%s\" in [%s] (first set on line %d)",
		    k->name, k->section, c->seen[idx]);
	c->seen[idx] = c->line;
	/* inih ends a value at " ;": a secret must not be cut silently. */
	if ((k->flags & CFG_SECRET) &&
	    (strstr(c->raw, " ;") != NULL || strstr(c->raw, "\t;") != NULL))
		return cfg_fail(c,
		    "[%s] %s: \" ;\" starts a comment in the ini, which "
		    "would cut the value%s",
		    k->section, k->name,
		    strcmp(k->name, "password") == 0
			? " (put it in password_file)"
			: "");
	if (cfg_set(c->cfg, k, value, why, sizeof(why)) == -1)
		return cfg_fail(c, "[%s] %s: %s", k->section, k->name, why);
	if (k->flags & CFG_SECRET)
		c->nsecret++;
	return 1;
}

/* The line key section.name was set on, 0 if not set. */
static int
cfg_seen(const struct cfg_ctx *c, const char *section, const char *name)
{
	size_t nkeys;
	const struct cfg_key *keys = cfg_key_table(&nkeys);
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return c->seen[i];
	return 0;
}

/*
 * TLS settings that depend on others: SMTPS's port, the pins' syntax, a
 * key without its certificate, the session cache under the spool.
 */
static int
cfg_tls(struct cfg_ctx *c, const char *sect, struct config_server *srv,
    struct err *e)
{
	struct config *cfg = c->cfg;
	struct err pe;
	size_t n;

	if (srv->tls == CONFIG_TLS_IMPLICIT && !cfg_seen(c, sect, "port")) {
		free(srv->port);
		if ((srv->port = strdup("465")) == NULL)
			return err_sys(e, ERR_OS, "configuration");
	}
	if (srv->tls_pin != NULL && tls_check_pins(srv->tls_pin, &pe) == -1)
		return err_set(e, ERR_CONFIG, "%s:%d: [%s] %s", cfg->path,
		    cfg_seen(c, sect, "tls_pin"), sect, pe.text);
	if (srv->tls_client_key != NULL && srv->tls_client_cert == NULL)
		return err_set(e, ERR_CONFIG,
		    "%s:%d: [%s] tls_client_key needs tls_client_cert",
		    cfg->path, cfg_seen(c, sect, "tls_client_key"), sect);
	if (srv->tls_session_cache == NULL && cfg->queue_dir != NULL) {
		n = strlen(cfg->queue_dir) + sizeof("/tls");
		if ((srv->tls_session_cache = malloc(n)) == NULL)
			return err_sys(e, ERR_OS, "configuration");
		snprintf(srv->tls_session_cache, n, "%s/tls", cfg->queue_dir);
	}
	/* [remote] only: [local] never authenticates, and has no such key. */
	if (srv == &cfg->remote && srv->oauth2_token_cache == NULL &&
	    cfg->queue_dir != NULL) {
		n = strlen(cfg->queue_dir) + sizeof("/oauth2");
		if ((srv->oauth2_token_cache = malloc(n)) == NULL)
			return err_sys(e, ERR_OS, "configuration");
		snprintf(srv->oauth2_token_cache, n, "%s/oauth2",
		    cfg->queue_dir);
	}
	return 0;
}

/* [listen] allow: networks peer.c can match, found with their line. */
static int
cfg_allow(struct cfg_ctx *c, struct err *e)
{
	struct peer_allow a;
	char why[256];

	if (peer_allow_parse(c->cfg->listen.allow, &a, why, sizeof(why)) == -1)
		return err_set(e, ERR_CONFIG, "%s:%d: [listen] allow: %s",
		    c->cfg->path, cfg_seen(c, "listen", "allow"), why);
	return 0;
}

/* -1: ask the OS; 0 or 1: what config_set_privileged() said. */
static int cfg_priv_forced = -1;

void
config_set_privileged(int on)
{
	cfg_priv_forced = on < 0 ? -1 : on != 0;
}

/* Set-group-ID (or set-user-ID): the ini steers a privilege. */
static int
cfg_privileged(void)
{
	if (cfg_priv_forced >= 0)
		return cfg_priv_forced;
	return getegid() != getgid() || geteuid() != getuid();
}

/*
 * Who may change the ini decides where all mail goes and which
 * password_command runs.  Nobody but its owner, ever; and when postern
 * runs set-group-ID (the ini then steers the postern group), only root.
 */
static int
cfg_check_owner(const char *path, const struct stat *st, struct err *e)
{
	int priv = cfg_privileged();

	if (priv && st->st_uid != 0)
		return err_set(e, ERR_CONFIG,
		    "%s is owned by uid %lu, not root, and postern runs "
		    "set-group-ID (chown root %s)",
		    path, (unsigned long)st->st_uid, path);
	if (priv && (st->st_mode & S_IWGRP))
		return err_set(e, ERR_CONFIG,
		    "%s is writable by %s and postern runs set-group-ID "
		    "(chmod %s %s)",
		    path,
		    (st->st_mode & S_IWOTH) ? "its group and others"
					    : "its group",
		    (st->st_mode & S_IWOTH) ? "go-w" : "g-w", path);
	if (st->st_mode & S_IWOTH)
		return err_set(e, ERR_CONFIG,
		    "%s is writable by others (chmod o-w %s)", path, path);
	return 0;
}

/* Checks that need the whole file: the auth keys, who may change it. */
static int
cfg_check(struct cfg_ctx *c, struct err *e)
{
	struct config *cfg = c->cfg;
	char why[512];

	if (cred_check(&cfg->remote, why, sizeof(why)) == -1)
		return err_set(e, ERR_CONFIG, "%s: [remote] %s", cfg->path,
		    why);
	if (c->nsecret > 0) {
		cred_nodump();
		if (cred_check_mode(cfg->path, c->st.st_mode, e) == -1)
			return -1;
	}
	return cfg_check_owner(cfg->path, &c->st, e);
}

/*
 * A TLS file key names something postern can open now, with the rights
 * it will read it with when it delivers (the same process, the same
 * group).  O_NONBLOCK: a FIFO must not hang the load.
 */
static int
cfg_tls_file(struct cfg_ctx *c, const char *sect, const char *key,
    const char *path, struct err *e)
{
	int dir = strcmp(key, "tls_ca_dir") == 0, fd, saved;
	struct stat st;

	if (path == NULL)
		return 0;
	fd = open(path,
	    O_RDONLY | O_CLOEXEC | O_NONBLOCK | (dir ? O_DIRECTORY : 0));
	if (fd != -1 && !dir && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EISDIR;
	}
	if (fd == -1) {
		saved = errno;
		return err_set(e, ERR_CONFIG,
		    "%s:%d: [%s] %s: cannot read %s: %s", c->cfg->path,
		    cfg_seen(c, sect, key), sect, key, path, strerror(saved));
	}
	close(fd);
	return 0;
}

/* A port is a number or a service /etc/services knows. */
static int
cfg_port_known(struct cfg_ctx *c, const char *sect, const char *key,
    const char *port, struct err *e)
{
	if (port[strspn(port, "0123456789")] == '\0' ||
	    getservbyname(port, "tcp") != NULL)
		return 0;
	return err_set(e, ERR_CONFIG,
	    "%s:%d: [%s] %s: \"%s\" is neither a port number nor a "
	    "service name known to /etc/services",
	    c->cfg->path, cfg_seen(c, sect, key), sect, key, port);
}

/*
 * What every delivery through the server that mode selects would refuse,
 * found now so that --check reports it with its line: no host, a port
 * that is no service, a TLS file that cannot be read, a cipher list
 * OpenSSL rejects.  The spool's own modes (mailq, --remove) skip this.
 */
static int
cfg_ready(struct cfg_ctx *c, struct err *e)
{
	const struct config_server *srv = config_server(c->cfg);
	const char *sect = srv == &c->cfg->local ? "local" : "remote";
	static const char *const files[] = { "tls_ca_file", "tls_ca_dir",
		"tls_client_cert", "tls_client_key" };
	const char *paths[] = { srv->tls_ca_file, srv->tls_ca_dir,
		srv->tls_client_cert, srv->tls_client_key };
	struct err te;
	size_t i;

	if (srv->nhosts == 0)
		return config_no_relay_err(c->cfg, e);
	for (i = 0; i < srv->nhosts; i++)
		if (cfg_port_known(c, sect,
			strcmp(srv->hosts[i].port, srv->port) == 0 ? "port"
								   : "host",
			srv->hosts[i].port, e) == -1)
			return -1;
	if (srv->tls == CONFIG_TLS_OFF)
		return 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (cfg_tls_file(c, sect, files[i], paths[i], e) == -1)
			return -1;
	if (srv->tls_ciphers != NULL &&
	    tls_check_ciphers(srv->tls_ciphers, &te) == -1)
		return err_set(e, te.class, "%s:%d: [%s] %s", c->cfg->path,
		    cfg_seen(c, sect, "tls_ciphers"), sect, te.text);
	return 0;
}

/* The file, and its mode and owner as opened (st), for cfg_check. */
static int
cfg_open(const char *path, FILE **fpp, struct stat *st, struct err *e)
{
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return err_sys(e, ERR_CONFIG, "cannot read %s", path);
	if (fstat(fileno(fp), st) == -1) {
		err_sys(e, ERR_CONFIG, "cannot read %s", path);
		fclose(fp);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		fclose(fp);
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return err_sys(e, ERR_CONFIG, "cannot read %s", path);
	}
	*fpp = fp;
	return 0;
}

static int
cfg_parse(struct cfg_ctx *c, struct err *e)
{
	int rc;

	/*
	 * An indented line is a key of its own, not the continuation of the
	 * previous value: "  port = 2525" must never end up inside a host.
	 */
	ini_allow_multiline = 0;
	rc = ini_parse_stream(cfg_reader, c, cfg_handler, c);
	if (ferror(c->fp))
		return err_sys(e, ERR_CONFIG, "cannot read %s", c->cfg->path);
	if (rc == -2)
		return err_set(e, ERR_OS, "%s: out of memory", c->cfg->path);
	if (rc > 0 && (c->errline == 0 || rc < c->errline))
		return err_set(e, ERR_CONFIG,
		    "%s:%d: syntax error (expected [section] or key = value)",
		    c->cfg->path, rc);
	if (c->errline != 0 || rc != 0)
		return -1; /* e already says why */
	return 0;
}

static void
cfg_close(struct cfg_ctx *c)
{
	fclose(c->fp);
	explicit_bzero(c->raw, sizeof(c->raw));
	explicit_bzero(c->io, sizeof(c->io));
}

/* ready: also what only a delivery needs (cfg_ready); CFG_SUBMIT: the
 * same, except that a missing host is allowed when the spool keeps the
 * mail (config_load_submit). */
#define CFG_SUBMIT 2
static int
cfg_load(const char *path, int ready, struct config *cfg, struct err *e)
{
	struct cfg_ctx c;

	if (path == NULL)
		path = CONFIG_PATH;
	memset(&c, 0, sizeof(c));
	memset(cfg, 0, sizeof(*cfg));
	if (cfg_apply_defaults(cfg) == -1 ||
	    (cfg->path = strdup(path)) == NULL) {
		config_free(cfg);
		return err_sys(e, ERR_OS, "cannot load %s", path);
	}
	if (cfg_open(path, &c.fp, &c.st, e) == -1) {
		config_free(cfg);
		return -1;
	}
	/* Our buffer, not one stdio frees unwiped: it holds the password. */
	setvbuf(c.fp, c.io, _IOFBF, sizeof(c.io));
	c.cfg = cfg;
	c.err = e;
	/* cfg_check trusts the file before cfg_ready opens what it names. */
	if (cfg_parse(&c, e) == -1 ||
	    cfg_tls(&c, "local", &cfg->local, e) == -1 ||
	    cfg_tls(&c, "remote", &cfg->remote, e) == -1 ||
	    cfg_allow(&c, e) == -1 || cfg_finish(cfg, e) == -1 ||
	    cfg_check(&c, e) == -1 ||
	    (ready && !(ready == CFG_SUBMIT && config_no_relay(cfg)) &&
		cfg_ready(&c, e) == -1)) {
		cfg_close(&c);
		config_free(cfg);
		return -1;
	}
	cfg_close(&c);
	return 0;
}

int
config_load(const char *path, struct config *cfg, struct err *e)
{
	return cfg_load(path, 1, cfg, e);
}

int
config_load_admin(const char *path, struct config *cfg, struct err *e)
{
	return cfg_load(path, 0, cfg, e);
}

int
config_load_submit(const char *path, struct config *cfg, struct err *e)
{
	return cfg_load(path, CFG_SUBMIT, cfg, e);
}

int
config_no_relay(const struct config *cfg)
{
	return config_server(cfg)->nhosts == 0 &&
	    cfg->queue_mode != CONFIG_QUEUE_NEVER;
}

int
config_no_relay_err(const struct config *cfg, struct err *e)
{
	const char *sect = cfg->delivery == CONFIG_LOCAL ? "local" : "remote";

	return err_set(e, ERR_CONFIG, "%s: [%s] host is required for mode = %s",
	    cfg->path ? cfg->path : CONFIG_PATH, sect, sect);
}

void
config_defaults(struct config *cfg)
{
	struct err e;

	memset(cfg, 0, sizeof(*cfg));
	/* Only memory can fail here; what was set stays usable. */
	if (cfg_apply_defaults(cfg) == 0)
		cfg_finish(cfg, &e);
}

const struct config_server *
config_server(const struct config *cfg)
{
	return cfg->delivery == CONFIG_LOCAL ? &cfg->local : &cfg->remote;
}

void
config_rewrite(const struct config *cfg, struct addr_rewrite *rw)
{
	rw->domain = cfg->domain;
	rw->aliases = cfg->aliases;
	rw->naliases = cfg->naliases;
	rw->alias_default = cfg->alias_default;
}
