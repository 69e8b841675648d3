/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * config_set.c: the typed values behind the ini keys: parsing one value,
 * defaults, the qualifying domain and freeing.  config.c reads the file,
 * calls cfg_set() for each key it finds, and prints (--check).
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "postern/addr.h"
#include "postern/auth.h"
#include "postern/config.h"
#include "postern/err.h"
#include "config_int.h"

#define MAILNAME_PATH "/etc/mailname"
#define CFG_NAME_MAX 253 /* longest DNS name */

/* The enum fields are written through an int pointer. */
_Static_assert(sizeof(enum config_delivery) == sizeof(int),
    "enum config_delivery must be int-sized");
_Static_assert(sizeof(enum config_queue_mode) == sizeof(int),
    "enum config_queue_mode must be int-sized");

static const char *cfg_mailname = MAILNAME_PATH;

void
config_set_mailname_path(const char *path)
{
	cfg_mailname = path != NULL ? path : MAILNAME_PATH;
}

static int cfg_why(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cfg_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

/* The value as an error may show it: quoted and printable, or hidden. */
static const char *
cfg_quoted(char *dst, size_t dstsz, const struct cfg_key *k, const char *v)
{
	char clean[80];
	size_t n = strlen(v);

	if (k->flags & CFG_SECRET) {
		snprintf(dst, dstsz, "the value");
		return dst;
	}
	err_sanitize(clean, sizeof(clean), v, n > 64 ? 64 : n);
	snprintf(dst, dstsz, "\"%s%s\"", clean, n > 64 ? "..." : "");
	return dst;
}

static int
cfg_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
cfg_port_ok(const char *v)
{
	size_t n = strlen(v), i;
	int digits = 1;
	long p;

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)v[i]) && v[i] != '-')
			return 0;
		if (!isdigit((unsigned char)v[i]))
			digits = 0;
	}
	if (!digits)
		return 1; /* a service name, for getaddrinfo */
	if (n > 5)
		return 0;
	p = strtol(v, NULL, 10);
	return p >= 1 && p <= 65535;
}

/* A host name, or an address literal in brackets ("[192.0.2.1]"). */
static int
cfg_name_ok(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n > CFG_NAME_MAX)
		return 0;
	if (v[0] == '[') {
		if (n < 3 || v[n - 1] != ']')
			return 0;
		for (i = 1; i < n - 1; i++)
			if (!isalnum((unsigned char)v[i]) && v[i] != ':' &&
			    v[i] != '.')
				return 0;
		return 1;
	}
	if (v[0] == '.' || v[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) &&
		    strchr("-._", v[i]) == NULL)
			return 0;
	return 1;
}

/* The inside of "[...]" or a bare IPv6 literal, zone id allowed. */
static int
cfg_v6_ok(const char *v)
{
	if (*v == '\0' || strchr(v, ':') == NULL)
		return 0;
	for (; *v != '\0'; v++)
		if (!isxdigit((unsigned char)*v) && *v != ':' && *v != '.' &&
		    *v != '%' && !isalnum((unsigned char)*v))
			return 0;
	return 1;
}

/*
 * One entry of a host list: "name", "name:port", "192.0.2.1",
 * "[2001:db8::1]", "[2001:db8::1]:587" or a bare "2001:db8::1" (more than
 * one colon and no brackets: all address, no port).
 */
static int
cfg_host_entry(char *t, struct config_host *h, char *why, size_t whysz)
{
	char *host = t, *port = NULL, *p;

	if (strpbrk(t, " \t") != NULL)
		return cfg_why(why, whysz,
		    "\"%s\" has a space (separate hosts with commas)", t);
	if (t[0] == '[') {
		if ((p = strchr(t, ']')) == NULL)
			return cfg_why(why, whysz, "\"%s\" lacks ']'", t);
		*p++ = '\0';
		host = t + 1;
		if (*p == ':')
			port = p + 1;
		else if (*p != '\0')
			return cfg_why(why, whysz,
			    "\"%s]%s\": expected :port after ']'", t, p);
		if (!cfg_v6_ok(host))
			return cfg_why(why, whysz,
			    "\"%s\" is not an IPv6 address", host);
	} else if ((p = strchr(t, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		*p = '\0';
		port = p + 1;
	}
	if (host == t && !(strchr(t, ':') ? cfg_v6_ok(t) : cfg_name_ok(t)))
		return cfg_why(why, whysz, "\"%s\" is not a host name", t);
	if (port != NULL && !cfg_port_ok(port))
		return cfg_why(why, whysz,
		    "\"%s\" is not a port (1-65535 or a service name)", port);
	h->host = strdup(host);
	h->port = port != NULL ? strdup(port) : NULL;
	if (h->host == NULL || (port != NULL && h->port == NULL))
		return cfg_why(why, whysz, "%s", strerror(ENOMEM));
	return 0;
}

static void
cfg_hosts_free(struct config_host *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].host);
		free(v[i].port);
	}
	free(v);
}

static int
cfg_set_hosts(struct config_host **hosts, size_t *nhosts, const char *v,
    char *why, size_t whysz)
{
	struct config_host *list;
	char tok[300];
	size_t n = 0, len;
	const char *end;

	if ((list = calloc(CONFIG_HOSTS_MAX, sizeof(*list))) == NULL)
		return cfg_why(why, whysz, "%s", strerror(errno));
	for (; *v != '\0'; v = *end ? end + 1 : end) {
		end = v + strcspn(v, ",");
		while (v < end && isspace((unsigned char)*v))
			v++;
		len = (size_t)(end - v);
		while (len > 0 && isspace((unsigned char)v[len - 1]))
			len--;
		if (len == 0)
			continue; /* "a, , b" and a trailing comma */
		if (len >= sizeof(tok) || n == CONFIG_HOSTS_MAX) {
			cfg_hosts_free(list, n);
			if (n == CONFIG_HOSTS_MAX)
				return cfg_why(why, whysz, "more than %d hosts",
				    CONFIG_HOSTS_MAX);
			return cfg_why(why, whysz, "a host entry is too long");
		}
		memcpy(tok, v, len);
		tok[len] = '\0';
		if (cfg_host_entry(tok, &list[n], why, whysz) == -1) {
			cfg_hosts_free(list, n + 1);
			return -1;
		}
		n++;
	}
	cfg_hosts_free(*hosts, *nhosts);
	*hosts = list;
	*nhosts = n;
	return 0;
}

static int
cfg_set_sender(struct config *cfg, const char *v, char *why, size_t whysz)
{
	struct addr_list l = { NULL, 0, 0 };
	struct err e;
	char *addr = NULL, *name = NULL, *spec = NULL;

	if (*v == '\0') {
		free(cfg->sender_address);
		free(cfg->sender_name);
		free(cfg->sender_spec);
		cfg->sender_address = cfg->sender_name = cfg->sender_spec =
		    NULL;
		return 0;
	}
	if (addr_parse_list(v, strlen(v), &l, &e) == -1)
		return cfg_why(why, whysz, "%s", e.text);
	if (l.n != 1 || l.v[0].spec[0] == '\0' || addr_is_local(l.v[0].spec)) {
		cfg_why(why, whysz, "%s",
		    l.n != 1 ? "must be exactly one address"
			     : "must be an address with a domain "
			       "(user@example.com)");
		addr_list_free(&l);
		return -1;
	}
	addr = strdup(v);
	spec = strdup(l.v[0].spec);
	if (l.v[0].name != NULL)
		name = strdup(l.v[0].name);
	if (addr == NULL || spec == NULL || (l.v[0].name && name == NULL)) {
		free(addr);
		free(spec);
		free(name);
		addr_list_free(&l);
		return cfg_why(why, whysz, "%s", strerror(ENOMEM));
	}
	addr_list_free(&l);
	free(cfg->sender_address);
	free(cfg->sender_name);
	free(cfg->sender_spec);
	cfg->sender_address = addr;
	cfg->sender_name = name;
	cfg->sender_spec = spec;
	return 0;
}

int
cfg_one_address(const char *v, char **spec, struct err *e)
{
	struct addr_list l = { NULL, 0, 0 };

	if (addr_parse_list(v, strlen(v), &l, e) == -1) {
		e->class = ERR_CONFIG;
		return -1;
	}
	if (l.n != 1 || l.v[0].name != NULL || l.v[0].spec[0] == '\0' ||
	    addr_is_local(l.v[0].spec)) {
		addr_list_free(&l);
		return err_set(e, ERR_CONFIG,
		    "must be one address such as ops@example.com");
	}
	*spec = strdup(l.v[0].spec);
	addr_list_free(&l);
	if (*spec == NULL)
		return err_sys(e, ERR_OS, "alias");
	return 0;
}

int
cfg_alias_add(struct config *cfg, const char *name, char *addr)
{
	struct addr_alias *v;
	char *n;

	if (cfg->naliases == CONFIG_ALIASES_MAX) {
		errno = E2BIG;
		return -1;
	}
	if ((n = strdup(name)) == NULL)
		return -1;
	v = realloc(cfg->aliases, (cfg->naliases + 1) * sizeof(*v));
	if (v == NULL) {
		free(n);
		return -1;
	}
	cfg->aliases = v;
	v[cfg->naliases].name = n;
	v[cfg->naliases].addr = addr;
	cfg->naliases++;
	return 0;
}

/* Text keys: "" unsets, so --check output reads back as it was. */
static int
cfg_set_text(const struct cfg_key *k, char **field, const char *v, char *why,
    size_t whysz)
{
	char q[100], *s = NULL;

	if (*v != '\0') {
		if ((k->type == CFG_NAME && !cfg_name_ok(v)) ||
		    (k->type == CFG_PORT && !cfg_port_ok(v)))
			return cfg_why(why, whysz, "%s is not a %s",
			    cfg_quoted(q, sizeof(q), k, v),
			    k->type == CFG_NAME
				? "host name"
				: "port (1-65535 or a service name)");
		if (k->type == CFG_PATH && v[0] != '/')
			return cfg_why(why, whysz, "%s is not an absolute path",
			    cfg_quoted(q, sizeof(q), k, v));
		if ((s = strdup(v)) == NULL)
			return cfg_why(why, whysz, "%s", strerror(errno));
	} else if (k->type == CFG_PORT) {
		return cfg_why(why, whysz, "a port is required");
	} else if (k->flags & CFG_NONEMPTY) {
		return cfg_why(why, whysz, "must not be empty");
	}
	if (*field != NULL && (k->flags & CFG_SECRET))
		explicit_bzero(*field, strlen(*field));
	free(*field);
	*field = s;
	return 0;
}

const char *
cfg_choice(const struct cfg_key *k, int i)
{
	const struct auth_mode *m;

	if (k->type == CFG_AUTH)
		return (m = auth_mode_at(i)) != NULL ? m->name : NULL;
	return k->choices[i];
}

static int
cfg_set_choice(const struct cfg_key *k, int *field, const char *v, char *why,
    size_t whysz)
{
	char q[100], list[200] = "";
	const char *c;
	size_t used = 0;
	int i, n;

	for (i = 0; (c = cfg_choice(k, i)) != NULL; i++) {
		if (strcasecmp(v, c) == 0) {
			*field = i;
			return 0;
		}
		n = snprintf(list + used, sizeof(list) - used, "%s%s",
		    i ? ", " : "", c);
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	return cfg_why(why, whysz, "%s is not one of %s",
	    cfg_quoted(q, sizeof(q), k, v), list);
}

/* "90", "90s", "5m", "4h", "5d", "1w": seconds within min..max. */
static int
cfg_set_duration(const struct cfg_key *k, int *field, const char *v, char *why,
    size_t whysz)
{
	static const char units[] = "smhdw";
	static const long mult[] = { 1, 60, 3600, 86400, 7 * 86400 };
	const char *u;
	char q[100], *end;
	long l, m = 1;

	errno = 0;
	l = strtol(v, &end, 10);
	if (*end != '\0' && end[1] == '\0' && (u = strchr(units, *end)) != NULL)
		m = mult[u - units];
	else if (*end != '\0')
		l = -1;
	if (!isdigit((unsigned char)*v) || errno || l < 0 || l > k->max / m ||
	    l * m < k->min)
		return cfg_why(why, whysz,
		    "%s is not a duration from %ds to %ds "
		    "(a number with s, m, h, d or w)",
		    cfg_quoted(q, sizeof(q), k, v), k->min, k->max);
	*field = (int)(l * m);
	return 0;
}

int
cfg_set(struct config *cfg, const struct cfg_key *k, const char *v, char *why,
    size_t whysz)
{
	struct config_server *srv;
	char q[100], *end;
	long l;

	switch (k->type) {
	case CFG_STR:
	case CFG_NAME:
	case CFG_PATH:
	case CFG_PORT:
		return cfg_set_text(k, CFG_PTR(cfg, k, char *), v, why, whysz);
	case CFG_BOOL:
		if (cfg_bool(v, CFG_PTR(cfg, k, int)) == -1)
			return cfg_why(why, whysz,
			    "%s is not yes or no (or true/false, on/off, 1/0)",
			    cfg_quoted(q, sizeof(q), k, v));
		return 0;
	case CFG_INT:
		errno = 0;
		l = strtol(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '\0' || errno ||
		    l < k->min || l > k->max)
			return cfg_why(why, whysz,
			    "%s is not a number from %d to %d",
			    cfg_quoted(q, sizeof(q), k, v), k->min, k->max);
		*CFG_PTR(cfg, k, int) = (int)l;
		return 0;
	case CFG_ENUM:
	case CFG_AUTH:
		return cfg_set_choice(k, CFG_PTR(cfg, k, int), v, why, whysz);
	case CFG_HOSTS:
		srv = CFG_PTR(cfg, k, struct config_server);
		return cfg_set_hosts(&srv->hosts, &srv->nhosts, v, why, whysz);
	case CFG_LISTEN:
		return cfg_set_hosts(&cfg->listen.addrs, &cfg->listen.naddrs, v,
		    why, whysz);
	case CFG_SENDER:
		return cfg_set_sender(cfg, v, why, whysz);
	case CFG_DURATION:
		return cfg_set_duration(k, CFG_PTR(cfg, k, int), v, why, whysz);
	}
	return cfg_why(why, whysz, "key of unknown type");
}

int
cfg_apply_defaults(struct config *cfg)
{
	const struct cfg_key *keys;
	char why[256];
	size_t i, n;

	keys = cfg_key_table(&n);
	for (i = 0; i < n; i++)
		if (keys[i].def != NULL &&
		    cfg_set(cfg, &keys[i], keys[i].def, why, sizeof(why)) == -1)
			return -1; /* only memory: the table's text is valid */
	return 0;
}

/* /etc/mailname's first line, when it holds a usable name. */
static char *
cfg_mailname_domain(void)
{
	char line[CFG_NAME_MAX + 3];
	FILE *fp;
	size_t n;

	if ((fp = fopen(cfg_mailname, "re")) == NULL)
		return NULL;
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	n = strlen(line);
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (!cfg_name_ok(line) || line[0] == '[')
		return NULL;
	return strdup(line);
}

char *
config_default_domain(void)
{
	struct addrinfo hints, *res;
	char host[256], *d;

	if ((d = cfg_mailname_domain()) != NULL)
		return d;
	if (gethostname(host, sizeof(host)) == -1)
		return strdup("localhost");
	host[sizeof(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0) {
		d = NULL;
		if (res->ai_canonname != NULL &&
		    strchr(res->ai_canonname, '.') != NULL)
			d = strdup(res->ai_canonname);
		freeaddrinfo(res);
		if (d != NULL)
			return d;
	}
	return strdup(host[0] != '\0' ? host : "localhost");
}

static int
cfg_finish_server(struct config_server *srv)
{
	size_t i;

	for (i = 0; i < srv->nhosts; i++)
		if (srv->hosts[i].port == NULL &&
		    (srv->hosts[i].port = strdup(srv->port)) == NULL)
			return -1;
	return 0;
}

int
cfg_finish(struct config *cfg, struct err *e)
{
	size_t i;

	if (cfg_finish_server(&cfg->local) == -1 ||
	    cfg_finish_server(&cfg->remote) == -1)
		return err_sys(e, ERR_OS, "configuration");
	for (i = 0; i < cfg->listen.naddrs; i++)
		if (cfg->listen.addrs[i].port == NULL &&
		    (cfg->listen.addrs[i].port = strdup(CONFIG_LISTEN_PORT)) ==
			NULL)
			return err_sys(e, ERR_OS, "configuration");
	if (cfg->domain == NULL &&
	    (cfg->domain = config_default_domain()) == NULL)
		return err_sys(e, ERR_OS, "configuration");
	return 0;
}

void
config_free(struct config *cfg)
{
	const struct cfg_key *keys, *k;
	char **s;
	size_t i, n;

	keys = cfg_key_table(&n);
	for (i = 0; i < n; i++) {
		k = &keys[i];
		switch (k->type) {
		case CFG_STR:
		case CFG_NAME:
		case CFG_PATH:
		case CFG_PORT:
			s = CFG_PTR(cfg, k, char *);
			if (*s != NULL && (k->flags & CFG_SECRET))
				explicit_bzero(*s, strlen(*s));
			free(*s);
			break;
		case CFG_HOSTS:
			cfg_hosts_free(CFG_PTR(cfg, k, struct config_server)
					   ->hosts,
			    CFG_PTR(cfg, k, struct config_server)->nhosts);
			break;
		case CFG_LISTEN:
			cfg_hosts_free(cfg->listen.addrs, cfg->listen.naddrs);
			break;
		case CFG_SENDER:
			free(cfg->sender_address);
			free(cfg->sender_name);
			free(cfg->sender_spec);
			break;
		default:
			break;
		}
	}
	for (i = 0; i < cfg->naliases; i++) {
		free(cfg->aliases[i].name);
		free(cfg->aliases[i].addr);
	}
	free(cfg->aliases);
	free(cfg->alias_default);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
