/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * config_keys.c: the table of every ini key postern knows, one row each:
 * section, name, type, where it lives in struct config, its default as
 * text, its limits.  config.c reads, checks and prints through it;
 * config_set.c parses, defaults and frees through it.
 */
#include <stddef.h>

#include "postern/config.h"
#include "config_int.h"

static const char *const cfg_delivery_names[] = { "remote", "local", NULL };
/* Indexed by NTLM_AUTO, NTLM_V1, NTLM_V2. */
static const char *const cfg_ntlm_names[] = { "auto", "v1", "v2", NULL };
static const char *const cfg_oauth2_auth_names[] = { "post", "basic",
	NULL };
static const char *const cfg_queue_names[] = { "fallback", "always", "never",
	NULL };

#define CFG_SRV(s, f)                                                          \
	(offsetof(struct config, s) + offsetof(struct config_server, f))

static const char *const cfg_tls_names[] = { "off", "starttls", "implicit",
	NULL };
static const char *const cfg_tls_versions[] = { "1.2", "1.3", NULL };

/* The TLS keys, the same in [local] and [remote] (tls.h). */
#define CFG_TLS_ROW(s, name, type, def, choices)                               \
	{                                                                      \
#s, #name, type, CFG_SRV(s, name), def, 0, 0, choices, 0       \
	}
#define CFG_TLS_KEYS(s)                                                        \
	CFG_TLS_ROW(s, tls, CFG_ENUM, "off", cfg_tls_names),                   \
	    CFG_TLS_ROW(s, tls_verify, CFG_BOOL, "yes", NULL),                 \
	    CFG_TLS_ROW(s, tls_ca_file, CFG_PATH, NULL, NULL),                 \
	    CFG_TLS_ROW(s, tls_ca_dir, CFG_PATH, NULL, NULL),                  \
	    CFG_TLS_ROW(s, tls_pin, CFG_STR, NULL, NULL),                      \
	    CFG_TLS_ROW(s, tls_min_version, CFG_ENUM, "1.2",                   \
		cfg_tls_versions),                                             \
	    CFG_TLS_ROW(s, tls_client_cert, CFG_PATH, NULL, NULL),             \
	    CFG_TLS_ROW(s, tls_client_key, CFG_PATH, NULL, NULL),              \
	    CFG_TLS_ROW(s, tls_ciphers, CFG_STR, NULL, NULL),                  \
	    CFG_TLS_ROW(s, tls_session_cache, CFG_PATH, NULL, NULL)

/* The keys.  Rows of one section stay together: --check prints in order. */
static const struct cfg_key cfg_keys[] = {
	{ "delivery", "mode", CFG_ENUM, offsetof(struct config, delivery),
	    "remote", 0, 0, cfg_delivery_names, 0 },
	{ "delivery", "partial_delivery", CFG_BOOL,
	    offsetof(struct config, partial_delivery), "no", 0, 0, NULL, 0 },
	{ "delivery", "session_timeout", CFG_DURATION,
	    offsetof(struct config, session_timeout), "5m", 1, 3600, NULL, 0 },

	{ "local", "host", CFG_HOSTS, offsetof(struct config, local),
	    "127.0.0.1", 0, 0, NULL, 0 },
	{ "local", "port", CFG_PORT, CFG_SRV(local, port), "25", 0, 0, NULL,
	    0 },
	{ "local", "timeout", CFG_INT, CFG_SRV(local, timeout), "60", 1, 3600,
	    NULL, 0 },
	{ "local", "helo", CFG_NAME, CFG_SRV(local, helo), NULL, 0, 0, NULL,
	    0 },
	CFG_TLS_KEYS(local),

	{ "remote", "host", CFG_HOSTS, offsetof(struct config, remote), NULL, 0,
	    0, NULL, 0 },
	{ "remote", "port", CFG_PORT, CFG_SRV(remote, port), "25", 0, 0, NULL,
	    0 },
	{ "remote", "timeout", CFG_INT, CFG_SRV(remote, timeout), "60", 1, 3600,
	    NULL, 0 },
	{ "remote", "helo", CFG_NAME, CFG_SRV(remote, helo), NULL, 0, 0, NULL,
	    0 },
	CFG_TLS_KEYS(remote),
	{ "remote", "auth", CFG_AUTH, CFG_SRV(remote, auth), "anonymous", 0, 0,
	    NULL, 0 },
	{ "remote", "user", CFG_STR, CFG_SRV(remote, user), NULL, 0, 0, NULL,
	    0 },
	{ "remote", "password", CFG_STR, CFG_SRV(remote, password), NULL, 0, 0,
	    NULL, CFG_SECRET },
	{ "remote", "password_file", CFG_PATH, CFG_SRV(remote, password_file),
	    NULL, 0, 0, NULL, 0 },
	/* A command often carries a token (curl -u, sh -c 'echo ...'). */
	{ "remote", "password_command", CFG_STR,
	    CFG_SRV(remote, password_command), NULL, 0, 0, NULL, CFG_SECRET },
	{ "remote", "ntlm_domain", CFG_STR, CFG_SRV(remote, ntlm_domain), NULL,
	    0, 0, NULL, 0 },
	{ "remote", "ntlm_workstation", CFG_STR,
	    CFG_SRV(remote, ntlm_workstation), NULL, 0, 0, NULL, 0 },
	{ "remote", "ntlm_version", CFG_ENUM, CFG_SRV(remote, ntlm_version),
	    "auto", 0, 0, cfg_ntlm_names, 0 },
	{ "remote", "allow_plaintext_auth", CFG_BOOL,
	    CFG_SRV(remote, allow_plaintext_auth), "no", 0, 0, NULL, 0 },
	/* auth = gssapi (auth_gssapi.c) */
	{ "remote", "gssapi_keytab", CFG_PATH, CFG_SRV(remote, gssapi_keytab),
	    NULL, 0, 0, NULL, 0 },
	{ "remote", "gssapi_service", CFG_STR, CFG_SRV(remote, gssapi_service),
	    "smtp", 0, 0, NULL, 0 },
	/* auth = xoauth2: the token endpoint (auth_xoauth2.c checks them). */
	{ "remote", "oauth2_token_url", CFG_STR, CFG_SRV(remote, oauth2_token_url),
	    NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_client_id", CFG_STR, CFG_SRV(remote, oauth2_client_id),
	    NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_client_secret", CFG_STR,
	    CFG_SRV(remote, oauth2_client_secret), NULL, 0, 0, NULL, CFG_SECRET },
	{ "remote", "oauth2_client_secret_file", CFG_PATH,
	    CFG_SRV(remote, oauth2_client_secret_file), NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_client_auth", CFG_ENUM,
	    CFG_SRV(remote, oauth2_client_auth), "post", 0, 0,
	    cfg_oauth2_auth_names, 0 },
	{ "remote", "oauth2_client_key", CFG_PATH,
	    CFG_SRV(remote, oauth2_client_key), NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_client_cert", CFG_PATH,
	    CFG_SRV(remote, oauth2_client_cert), NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_scope", CFG_STR, CFG_SRV(remote, oauth2_scope), NULL,
	    0, 0, NULL, 0 },
	{ "remote", "oauth2_refresh_token_file", CFG_PATH,
	    CFG_SRV(remote, oauth2_refresh_token_file), NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_ca_file", CFG_PATH, CFG_SRV(remote, oauth2_ca_file),
	    NULL, 0, 0, NULL, 0 },
	{ "remote", "oauth2_token_cache", CFG_PATH,
	    CFG_SRV(remote, oauth2_token_cache), NULL, 0, 0, NULL, 0 },

	{ "sender", "address", CFG_SENDER, 0, NULL, 0, 0, NULL, 0 },
	{ "sender", "send_as_user", CFG_BOOL,
	    offsetof(struct config, send_as_user), "no", 0, 0, NULL, 0 },
	/* No default text: resolved at load time (mailname, FQDN). */
	{ "sender", "domain", CFG_NAME, offsetof(struct config, domain), NULL,
	    0, 0, NULL, 0 },

	{ "log", "file", CFG_PATH, offsetof(struct config, log_file), NULL, 0,
	    0, NULL, 0 },
	{ "log", "syslog", CFG_BOOL, offsetof(struct config, log_syslog), "yes",
	    0, 0, NULL, 0 },

	{ "queue", "dir", CFG_PATH, offsetof(struct config, queue_dir),
	    CONFIG_QUEUE_DIR, 0, 0, NULL, CFG_NONEMPTY },
	{ "queue", "mode", CFG_ENUM, offsetof(struct config, queue_mode),
	    "fallback", 0, 0, cfg_queue_names, 0 },
	{ "queue", "max_age", CFG_DURATION,
	    offsetof(struct config, queue_max_age), "5d", 0, 365 * 86400, NULL,
	    0 },
	{ "queue", "retry", CFG_DURATION, offsetof(struct config, queue_retry),
	    "5m", 1, 7 * 86400, NULL, 0 },
	{ "queue", "retry_max", CFG_DURATION,
	    offsetof(struct config, queue_retry_max), "4h", 1, 7 * 86400, NULL,
	    0 },
	{ "queue", "bounce", CFG_BOOL, offsetof(struct config, queue_bounce),
	    "yes", 0, 0, NULL, 0 },
	/* Exchange Online takes 3 per mailbox; Postfix's limit is 20. */
	{ "queue", "connections", CFG_INT,
	    offsetof(struct config, queue_connections), "3", 1, 20, NULL, 0 },

	/* postern -bd (listen.c); allow is checked by peer.c. */
	{ "listen", "address", CFG_LISTEN, offsetof(struct config, listen),
	    "127.0.0.1:25, [::1]:25", 0, 0, NULL, 0 },
	{ "listen", "allow", CFG_STR, offsetof(struct config, listen.allow),
	    NULL, 0, 0, NULL, 0 },
	{ "listen", "max_sessions", CFG_INT,
	    offsetof(struct config, listen.max_sessions), "20", 1, 1000, NULL,
	    0 },
	{ "listen", "user", CFG_STR, offsetof(struct config, listen.user),
	    "postern", 0, 0, NULL, CFG_NONEMPTY },
};

_Static_assert(sizeof(cfg_keys) / sizeof(cfg_keys[0]) <= CFG_KEYS_MAX,
    "raise CFG_KEYS_MAX in config_int.h");

const struct cfg_key *
cfg_key_table(size_t *n)
{
	*n = sizeof(cfg_keys) / sizeof(cfg_keys[0]);
	return cfg_keys;
}
