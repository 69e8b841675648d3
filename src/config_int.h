/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * config_int.h: what config.c (the ini reader, --check output) and
 * config_set.c (typed values: parse, defaults, free) share.  Not for
 * other modules.
 */
#ifndef POSTERN_CONFIG_INT_H
#define POSTERN_CONFIG_INT_H

#include <stddef.h>

struct config;
struct err;

#define CONFIG_HOSTS_MAX 16 /* entries in a host list */
#define CONFIG_ALIASES_MAX 1024 /* entries in [aliases] */
#define CFG_KEYS_MAX 128 /* rows of the key table (config_keys.c) */

enum cfg_type {
	CFG_STR, /* char *, any text; "" means unset (NULL) */
	CFG_NAME, /* char *, a host name or [literal]; "" means unset */
	CFG_PATH, /* char *, an absolute path; "" means unset */
	CFG_BOOL, /* int, yes/no/true/false/on/off/1/0 */
	CFG_INT, /* int, min..max */
	CFG_ENUM, /* int, index into choices */
	CFG_PORT, /* char *, 1..65535 or a service name */
	CFG_HOSTS, /* struct config_server: its host list */
	CFG_SENDER, /* sender_address, sender_name, sender_spec */
	CFG_DURATION, /* int seconds, "90", "90s", "5m", "4h", "5d", "1w" */
	CFG_LISTEN, /* struct config_listen: its address list */
	CFG_AUTH, /* int, a row of the mechanism table (auth.h) */
};

#define CFG_SECRET 0x01 /* masked by --check, never in errors */
#define CFG_NONEMPTY 0x02 /* "" is an error, not "unset" */

struct cfg_key {
	const char *section;
	const char *name;
	enum cfg_type type;
	size_t off; /* of the field in struct config */
	const char *def; /* default as ini text; NULL: none */
	int min, max; /* CFG_INT */
	const char *const *choices; /* CFG_ENUM, NULL-terminated */
	int flags;
};

/* The field a key describes, typed. */
#define CFG_PTR(cfg, k, type) ((type *)(void *)((char *)(cfg) + (k)->off))

const struct cfg_key *cfg_key_table(size_t *);

/* Choice i of a CFG_ENUM or CFG_AUTH key, NULL past the last. */
const char *cfg_choice(const struct cfg_key *, int i);
/* Parse value into the key's field; -1 with why filled (no file:line). */
int cfg_set(struct config *, const struct cfg_key *, const char *value,
    char *why, size_t whysz);
/* Every table default; -1 on memory. */
int cfg_apply_defaults(struct config *);
/* After parsing: host ports from the list's port, the domain. */
int cfg_finish(struct config *, struct err *);
/* One address with a domain, no display name: for [aliases]. */
int cfg_one_address(const char *, char **spec, struct err *);
/* Append an alias (takes addr); -1 with errno (E2BIG past the cap). */
int cfg_alias_add(struct config *, const char *name, char *addr);

#endif
