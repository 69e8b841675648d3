/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * config.h: the ini file, read with libinih into typed settings.
 *
 * Unknown sections and keys, bad values and missing required keys are
 * ERR_CONFIG with "file:line: ..." (and, for a misspelt key, the nearest
 * valid one).  Defaults are applied for everything not set.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "postern/addr.h"

struct err;

#define CONFIG_PATH "/etc/postern.ini"

enum config_delivery {
	CONFIG_REMOTE = 0,
	CONFIG_LOCAL,
};

/* [queue] mode: when a message goes to the spool. */
enum config_queue_mode {
	CONFIG_QUEUE_FALLBACK =
	    0, /* deliver now; spool on a temporary failure */
	CONFIG_QUEUE_ALWAYS, /* spool, then deliver in a detached child */
	CONFIG_QUEUE_NEVER, /* no spool: a temporary failure is exit 75 */
};

#define CONFIG_QUEUE_DIR "/var/spool/postern"

/* [local]/[remote] tls: how the connection is protected. */
enum config_tls {
	CONFIG_TLS_OFF = 0, /* plain SMTP */
	CONFIG_TLS_STARTTLS, /* STARTTLS, never falling back to clear text */
	CONFIG_TLS_IMPLICIT, /* TLS from the first byte (SMTPS, port 465) */
};

struct config_host {
	char *host; /* name, IPv4 or IPv6 literal (no brackets) */
	char *port; /* service, as text for getaddrinfo */
};

/* [local] and [remote]: where to connect and how. */
struct config_server {
	struct config_host *hosts; /* failover list, in order */
	size_t nhosts;
	char *port; /* default port for the list */
	int timeout; /* seconds, connect and each wait */
	char *helo; /* NULL: the host's FQDN */

	/* TLS (tls.h says what each does) */
	int tls; /* enum config_tls */
	int tls_verify; /* chain and name (default yes) */
	char *tls_ca_file; /* NULL and no tls_ca_dir: system store */
	char *tls_ca_dir;
	char *tls_pin; /* "sha256/B64, ...", or NULL */
	int tls_min_version; /* 0: TLS 1.2, 1: TLS 1.3 */
	char *tls_client_cert;
	char *tls_client_key; /* NULL: in tls_client_cert */
	char *tls_ciphers;
	/* session files, one per host:port; default [queue] dir + "/tls" */
	char *tls_session_cache;

	/* AUTH: set from [remote] only; [local] stays anonymous.  auth is
	 * the row of the mechanism table (auth.h), 0 being anonymous. */
	int auth;
	char *user; /* UTF-8; NTLM: also DOMAIN\user or a UPN */
	char *password; /* a secret: masked, wiped */
	char *password_file; /* first line */
	char *password_command; /* first line of its output */
	char *ntlm_domain;
	char *ntlm_workstation;
	int ntlm_version; /* NTLM_AUTO, NTLM_V1, NTLM_V2 (ntlm.h) */
	int allow_plaintext_auth; /* Basic/XOAUTH2 without TLS */
	char *gssapi_keytab; /* NULL: the caller's credential cache */
	char *gssapi_service; /* NULL: "smtp" */

	/* auth = xoauth2 with a token endpoint (oauth2.h, auth_xoauth2.c) */
	char *oauth2_token_url; /* https://...; NULL: a static token */
	char *oauth2_client_id;
	char *oauth2_client_secret; /* a secret: masked, wiped */
	char *oauth2_client_secret_file; /* first line */
	int oauth2_client_auth; /* a secret: 0 post, 1 basic */
	char *oauth2_client_key; /* private_key_jwt: PEM RSA key, a secret */
	char *oauth2_client_cert; /* ... and its certificate */
	char *oauth2_scope;
	char *oauth2_refresh_token_file; /* refresh_token grant */
	char *oauth2_ca_file; /* NULL: the system's CAs */
	char *oauth2_token_cache; /* default [queue] dir + "/oauth2" */
};

/* [listen]: postern -bd, and -bs on a socket (listen.h, peer.h). */
struct config_listen {
	struct config_host *addrs; /* where -bd listens; port always set */
	size_t naddrs;
	char *allow; /* "CIDR, ..." that may submit besides loopback */
	int max_sessions; /* sessions at once; the next gets 421 */
	char *user; /* -bd started as root runs as this user */
	int present; /* the file has a [listen] section */
};

#define CONFIG_LISTEN_PORT "25"

struct config {
	char *path;

	/* [delivery] */
	enum config_delivery delivery;
	int partial_delivery;
	int session_timeout; /* -bs: seconds to wait for the client */

	struct config_server local; /* [local] */
	struct config_server remote; /* [remote] */

	/* [sender] */
	char *sender_address; /* as written, or NULL */
	char *sender_name; /* its display name, or NULL */
	char *sender_spec; /* its addr-spec, or NULL */
	int send_as_user;
	char *domain; /* resolved: ini, mailname, FQDN */

	/* [aliases] */
	struct addr_alias *aliases;
	size_t naliases;
	char *alias_default;

	/* [log] */
	char *log_file; /* NULL: none */
	int log_syslog; /* default 1 */

	/* [queue] */
	char *queue_dir; /* the spool, CONFIG_QUEUE_DIR */
	enum config_queue_mode queue_mode;
	int queue_max_age; /* seconds until a message bounces (5d) */
	int queue_retry; /* seconds, first retry (5m), doubling */
	int queue_retry_max; /* seconds, the longest wait (4h) */
	int queue_bounce; /* yes: bounce; no: move to failed/ */
	int queue_connections; /* a queue run's SMTP sessions (3), 1-20 */

	struct config_listen listen; /* [listen] */
};

/*
 * Read path (CONFIG_PATH when NULL) into *cfg, defaults applied.  Also
 * refused: an ini writable by others (and, set-group-ID, one not owned
 * by root or writable by its group), and what every delivery would
 * refuse: no host, a port that is no known service, an unreadable TLS
 * file or a cipher list OpenSSL rejects, for the server mode selects.
 */
int config_load(const char *path, struct config *, struct err *);
/*
 * The same without what only a delivery needs (a host, its port, TLS
 * files and ciphers): for the spool's own modes, mailq and --remove.
 */
int config_load_admin(const char *path, struct config *, struct err *);
/*
 * For a submission (sendmail, -bs): config_load, except that a file that
 * names no host loads when the spool can keep the mail ([queue] mode is
 * not never): config_no_relay() then says so, and the message is spooled
 * until a host is set (postern(8), BEFORE THE RELAY IS SET).
 */
int config_load_submit(const char *path, struct config *, struct err *);
/* 1: the server mode selects has no host, and the spool may be used. */
int config_no_relay(const struct config *);
/* The ERR_CONFIG that --check and the other modes report for it: -1. */
int config_no_relay_err(const struct config *, struct err *);
/* Defaults only, for modes that need no file (e.g. --version). */
void config_defaults(struct config *);
/* The server the delivery mode selects. */
const struct config_server *config_server(const struct config *);
/* The alias/qualification rules, for addr_rewrite(). */
void config_rewrite(const struct config *, struct addr_rewrite *);
/* --check: the effective settings, secrets masked, in ini form. */
void config_print(const struct config *, FILE *);
/*
 * --check's warnings, one "postern: warning: ..." line each: an
 * unqualified mail domain, log lines that go nowhere.  Returns how many.
 */
int config_warn(const struct config *, FILE *);
void config_free(struct config *);

/*
 * The qualifying domain when [sender] domain is not set: the first line of
 * /etc/mailname when it holds a host name, else the host's FQDN
 * (gethostname + getaddrinfo AI_CANONNAME), else its bare name.  Malloc'd;
 * NULL only when memory runs out.
 */
char *config_default_domain(void);
/* Tests only: read this file instead of /etc/mailname (NULL: restore). */
void config_set_mailname_path(const char *);
/* Tests only: act as if set-group-ID (1) or not (0); -1: ask the OS. */
void config_set_privileged(int);

#endif
