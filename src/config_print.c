/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * config_print.c: --check, the effective settings in ini form, every key
 * of the table with its value or default, secrets masked.  What it
 * prints reads back to the same settings.
 */
#include <stdio.h>
#include <string.h>

#include "postern/auth.h"
#include "postern/config.h"
#include "postern/log.h"
#include "config_int.h"

static void
cfg_print_hosts(const struct config_host *hosts, size_t n, const char *port,
    FILE *fp)
{
	const struct config_host *h;
	size_t i;

	for (i = 0; i < n; i++) {
		h = &hosts[i];
		fprintf(fp, "%s%s%s%s:%s", i ? ", " : " ",
		    strchr(h->host, ':') ? "[" : "", h->host,
		    strchr(h->host, ':') ? "]" : "", h->port ? h->port : port);
	}
}

/* A duration in its largest exact unit, as the ini would say it. */
static void
cfg_print_duration(int secs, FILE *fp)
{
	static const struct {
		int n;
		char unit;
	} units[] = { { 7 * 86400, 'w' }, { 86400, 'd' }, { 3600, 'h' },
		{ 60, 'm' } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (secs > 0 && secs % units[i].n == 0) {
			fprintf(fp, " %d%c", secs / units[i].n, units[i].unit);
			return;
		}
	fprintf(fp, " %ds", secs);
}

static void
cfg_print_value(const struct config *cfg, const struct cfg_key *k, FILE *fp)
{
	const struct config_server *srv;
	const char *s;
	int i;

	switch (k->type) {
	case CFG_STR:
	case CFG_NAME:
	case CFG_PATH:
	case CFG_PORT:
		if ((s = *CFG_PTR(cfg, k, char *const)) != NULL)
			fprintf(fp, " %s",
			    (k->flags & CFG_SECRET) ? "********" : s);
		break;
	case CFG_BOOL:
		fprintf(fp, " %s", *CFG_PTR(cfg, k, const int) ? "yes" : "no");
		break;
	case CFG_INT:
		fprintf(fp, " %d", *CFG_PTR(cfg, k, const int));
		break;
	case CFG_DURATION:
		cfg_print_duration(*CFG_PTR(cfg, k, const int), fp);
		break;
	case CFG_ENUM:
	case CFG_AUTH:
		i = *CFG_PTR(cfg, k, const int);
		fprintf(fp, " %s", cfg_choice(k, i));
		break;
	case CFG_HOSTS:
		srv = CFG_PTR(cfg, k, const struct config_server);
		cfg_print_hosts(srv->hosts, srv->nhosts, srv->port, fp);
		break;
	case CFG_LISTEN:
		cfg_print_hosts(cfg->listen.addrs, cfg->listen.naddrs,
		    CONFIG_LISTEN_PORT, fp);
		break;
	case CFG_SENDER:
		if (cfg->sender_address != NULL)
			fprintf(fp, " %s", cfg->sender_address);
		break;
	}
}

void
config_print(const struct config *cfg, FILE *fp)
{
	const struct cfg_key *keys;
	const char *sect = NULL;
	size_t i, n;

	fprintf(fp, "; postern settings read from %s\n",
	    cfg->path ? cfg->path : "(built-in defaults)");
	keys = cfg_key_table(&n);
	for (i = 0; i < n; i++) {
		if (sect == NULL || strcmp(sect, keys[i].section) != 0) {
			sect = keys[i].section;
			if (strcmp(sect, "listen") == 0)
				fprintf(fp,
				    "\n; postern -bd, and postern -bs "
				    "on a socket");
			fprintf(fp, "\n[%s]\n", sect);
		}
		fprintf(fp, "%s =", keys[i].name);
		cfg_print_value(cfg, &keys[i], fp);
		fputc('\n', fp);
		/* The mechanism table's own words, as comments. */
		if (keys[i].type == CFG_AUTH)
			auth_print(&cfg->remote, fp);
	}
	fprintf(fp, "\n[aliases]\n");
	for (i = 0; i < cfg->naliases; i++)
		fprintf(fp, "%s = %s\n", cfg->aliases[i].name,
		    cfg->aliases[i].addr);
	if (cfg->alias_default != NULL)
		fprintf(fp, "default = %s\n", cfg->alias_default);
}

/*
 * What loads but is probably not what the admin wants, said once by
 * --check (a delivery stays quiet): mail that would leave with a domain
 * no other host can answer, and log lines that reach nobody.
 */
int
config_warn(const struct config *cfg, FILE *fp)
{
	int n = 0;

	if (cfg->domain != NULL && strchr(cfg->domain, '.') == NULL) {
		fprintf(fp,
		    "postern: warning: the mail domain \"%s\" is not "
		    "qualified: mail goes out as user@%s (set [sender] domain, "
		    "or write the domain in /etc/mailname)\n",
		    cfg->domain, cfg->domain);
		n++;
	}
	if (cfg->log_file == NULL && !cfg->log_syslog) {
		fprintf(fp,
		    "postern: warning: log lines go nowhere: [log] "
		    "syslog = no and no [log] file\n");
		n++;
	} else if (cfg->log_file == NULL && !log_syslog_present()) {
		fprintf(fp,
		    "postern: warning: log lines go nowhere: no syslog "
		    "socket (%s) and no [log] file (set [log] file, or run a "
		    "syslog daemon)\n",
		    _PATH_LOG);
		n++;
	}
	return n;
}
