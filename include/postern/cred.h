/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * cred.h: the credentials for SMTP AUTH: checking the [remote] auth keys
 * and fetching the secret from the ini, a file or a command.
 *
 * The secret is fetched only when a connection needs it (never for
 * --check), into a malloc'd string the caller hands back to cred_free,
 * which wipes it.  Fetching it also makes the process undumpable, so no
 * core file or ptrace by another user can show it.
 */
#ifndef POSTERN_CRED_H
#define POSTERN_CRED_H

#include <stddef.h>
#include <sys/types.h>

struct config_server;
struct err;

#define CRED_MAX 8192 /* longest secret: an OAuth2 bearer token fits */
#define CRED_ARGS_MAX 64 /* words in password_command */

/*
 * The auth keys of one server make sense together: a user and exactly
 * one of password, password_file, password_command when auth is not
 * anonymous; none of them when it is.  -1 with why filled.
 */
int cred_check(const struct config_server *, char *why, size_t whysz);
/*
 * A file holding a secret must not be readable by others nor writable by
 * anyone but its owner: -1 with ERR_CONFIG naming the chmod that fixes
 * it ("chmod o-r FILE").
 */
int cred_check_mode(const char *path, mode_t mode, struct err *);
/*
 * The secret of srv: password as set, else the first line of
 * password_file, else the first line of password_command's output (run
 * without a shell, within srv->timeout seconds).  *out is malloc'd.
 * ERR_CONFIG for a missing, unsafe or empty source, ERR_TEMP when the
 * command fails or times out.
 */
int cred_password(const struct config_server *, char **out, struct err *);
/*
 * The first line of the private file path (what: its key, for errors)
 * into *out (malloc'd): ERR_CONFIG when it is missing, unsafe or empty.
 */
int cred_file(const char *path, const char *what, char **out, struct err *);
/* Wipe and free; NULL is fine. */
void cred_free(char *);
/* No core dumps and no ptrace by others from now on. */
void cred_nodump(void);
/*
 * password_command into words: blanks separate, '...' is literal, "..."
 * takes \" and \\, a backslash outside quotes escapes the next character.
 * No variables, globs or pipes: for those write sh -c '...' explicitly.
 * *argv is NULL-terminated and malloc'd as one block (free it).
 */
int cred_split(const char *cmd, char ***argv, struct err *);

#endif
