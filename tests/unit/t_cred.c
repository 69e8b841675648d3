/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_cred.c: the [remote] auth keys as the ini reader takes them, the
 * checks that tie them together, and the secret's three sources:
 * password, password_file (first line, private) and password_command
 * (split without a shell, bounded, timed out).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postern/auth.h"
#include "postern/config.h"
#include "postern/cred.h"
#include "postern/err.h"
#include "postern/ntlm.h"
#include "t.h"

static char tmp_path[64];

/* Write text to a fresh file with mode; its name stays in tmp_path. */
static const char *
write_tmp(const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/t_cred.XXXXXX");
	if ((fd = mkstemp(tmp_path)) == -1 ||
	    write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		perror("tmp file");
		exit(1);
	}
	close(fd);
	return tmp_path;
}

static int
load(const char *text, mode_t mode, struct config *cfg, struct err *e)
{
	int rc;

	err_clear(e);
	rc = config_load(write_tmp(text, mode), cfg, e);
	unlink(tmp_path);
	return rc;
}

static void
test_keys(void)
{
	struct config cfg;
	struct err e;
	char out[4096];
	FILE *fp;
	size_t n;

	T_OK(load("[remote]\nhost = mx\ntls = starttls\nauth = ntlm\n"
		  "user = CORP\\alice\npassword = p a\"s's\\\\w;rd\n"
		  "ntlm_domain = CORP\nntlm_workstation = WEB01\n"
		  "ntlm_version = v2\n",
		 0600, &cfg, &e) == 0,
	    "auth keys load");
	if (e.class != ERR_NONE) {
		printf("# %s\n", e.text);
		return;
	}
	T_OK(cfg.remote.auth == auth_mode_find("ntlm"), "auth = ntlm");
	T_STR(cfg.remote.user, "CORP\\alice", "user kept as written");
	T_STR(cfg.remote.password, "p a\"s's\\\\w;rd",
	    "password: quotes, backslashes, ';' kept");
	T_STR(cfg.remote.ntlm_domain, "CORP", "ntlm_domain");
	T_STR(cfg.remote.ntlm_workstation, "WEB01", "ntlm_workstation");
	T_OK(cfg.remote.ntlm_version == NTLM_V2, "ntlm_version = v2");
	T_OK(cfg.remote.allow_plaintext_auth == 0, "allow_plaintext_auth no");
	T_OK(cfg.local.auth == auth_mode_find("anonymous"), "[local] anonymous");
	fp = fmemopen(out, sizeof(out), "w");
	config_print(&cfg, fp);
	n = ftell(fp);
	fclose(fp);
	out[n < sizeof(out) ? n : sizeof(out) - 1] = '\0';
	T_OK(strstr(out, "password = ********\n") != NULL,
	    "--check masks the password");
	T_OK(strstr(out, "w;rd") == NULL, "--check never shows it");
	T_OK(strstr(out, "ntlm_version = v2\n") != NULL, "--check version");
	config_free(&cfg);

	config_defaults(&cfg);
	T_OK(cfg.remote.auth == auth_mode_find("anonymous"), "default anonymous");
	T_OK(cfg.remote.ntlm_version == NTLM_AUTO, "default ntlm_version");
	config_free(&cfg);
}

static void
want_load_err(const char *text, mode_t mode, const char *want, const char *name)
{
	struct config cfg;
	struct err e;

	T_OK(load(text, mode, &cfg, &e) == -1, name);
	T_OK(e.class == ERR_CONFIG, name);
	T_OK(strstr(e.text, want) != NULL, name);
	if (strstr(e.text, want) == NULL)
		printf("# got: %s\n", e.text);
	T_OK(strstr(e.text, "hunter2") == NULL, name);
}

static void
test_checks(void)
{
	const char *ok = "[remote]\nhost = mx\nauth = basic\nuser = u\n"
			 "allow_plaintext_auth = yes\npassword = hunter2\n";

	want_load_err(ok, 0644, "readable by others (chmod o-r /tmp/t_cred.",
	    "0644 with a password: chmod o-r");
	want_load_err(ok, 0620, "writable by others (chmod go-w ",
	    "0620 with a password: chmod go-w");
	want_load_err(ok, 0666, "(chmod go-w,o-r ",
	    "0666 with a password: both");
	want_load_err("[remote]\nhost = mx\nauth = basic\nuser = u\n"
		      "password = hunter2\n",
	    0600, "would send the password in clear text",
	    "basic with tls = off");
	want_load_err("[remote]\nhost = mx\nauth = xoauth2\nuser = u\n"
		      "password_command = /bin/tok\n",
	    0600, "auth = xoauth2 with tls = off", "xoauth2 with tls = off");
	want_load_err("[remote]\nhost = mx\nauth = ntlm\npassword = hunter2\n",
	    0600, "auth needs a user", "no user");
	want_load_err("[remote]\nhost = mx\nauth = ntlm\nuser = u\n", 0600,
	    "auth needs one of password", "no password");
	want_load_err("[remote]\nhost = mx\nauth = ntlm\nuser = u\n"
		      "password = hunter2\npassword_file = /x\n",
	    0600, "only one of", "two sources");
	want_load_err("[remote]\nhost = mx\npassword_file = /x\n", 0600,
	    "a password is set but auth = anonymous", "password, anonymous");
	want_load_err("[remote]\nhost = mx\nauth = ntlm\nuser = u\n"
		      "password = hunter2\tx ;\n",
	    0600, "starts a comment", "tab before the comment mark");
}

static void
test_mode(void)
{
	struct err e;

	T_OK(cred_check_mode("/f", 0100600, &e) == 0, "0600 fine");
	T_OK(cred_check_mode("/f", 0100640, &e) == 0, "0640 fine");
	T_OK(cred_check_mode("/f", 0100604, &e) == -1, "0604 refused");
	T_STR(e.text,
	    "/f holds a secret and is readable by others "
	    "(chmod o-r /f)",
	    "0604 hint");
	T_OK(e.class == ERR_CONFIG, "0604 is a config error");
}

static void
want_split(const char *cmd, const char *const *want, const char *name)
{
	struct err e;
	char **argv;
	size_t i;

	T_OK(cred_split(cmd, &argv, &e) == 0, name);
	if (argv == NULL)
		return;
	for (i = 0; want[i] != NULL && argv[i] != NULL; i++)
		T_STR(argv[i], want[i], name);
	T_OK(want[i] == NULL && argv[i] == NULL, name);
	free(argv);
}

static void
test_split(void)
{
	static const char *const w1[] = { "pass", "show", "mail/relay", NULL };
	static const char *const w2[] = { "sh", "-c", "pass show x | head -1",
		NULL };
	static const char *const w3[] = { "a b", "c\"d", "e\\f", "$HOME", "*",
		NULL };
	static const char *const w4[] = { "x", "", "y", NULL };
	struct err e;
	char **argv;

	want_split("  pass\tshow  mail/relay ", w1, "split on blanks");
	want_split("sh -c 'pass show x | head -1'", w2, "sh -c '...'");
	want_split("\"a b\" c\\\"d 'e\\f' $HOME *", w3,
	    "quotes and backslashes, nothing expanded");
	want_split("x \"\" y", w4, "an empty word");
	T_OK(cred_split("a 'b", &argv, &e) == -1 && e.class == ERR_CONFIG,
	    "unbalanced quote");
	T_OK(cred_split("  ", &argv, &e) == -1, "empty command");
}

static void
want_pw(struct config_server *srv, const char *want, const char *name)
{
	struct err e;
	char *pw;

	err_clear(&e);
	T_OK(cred_password(srv, &pw, &e) == 0, name);
	if (pw == NULL) {
		printf("# %s\n", e.text);
		return;
	}
	T_STR(pw, want, name);
	cred_free(pw);
}

static void
want_pw_err(struct config_server *srv, enum err_class class, const char *want,
    const char *name)
{
	struct err e;
	char *pw = NULL;

	err_clear(&e);
	T_OK(cred_password(srv, &pw, &e) == -1 && pw == NULL, name);
	T_OK(e.class == class, name);
	T_OK(strstr(e.text, want) != NULL, name);
	if (strstr(e.text, want) == NULL)
		printf("# got: %s\n", e.text);
}

static void
test_sources(void)
{
	struct config_server srv;
	char big[CRED_MAX + 100];

	memset(&srv, 0, sizeof(srv));
	srv.timeout = 5;
	srv.password = "in the ini";
	want_pw(&srv, "in the ini", "password as set");
	srv.password = NULL;

	srv.password_file = (char *)write_tmp("fi le\r\nsecond\n", 0600);
	want_pw(&srv, "fi le", "password_file: first line, no CRLF");
	chmod(tmp_path, 0644);
	want_pw_err(&srv, ERR_CONFIG, "(chmod o-r /tmp/t_cred.",
	    "password_file 0644");
	unlink(tmp_path);
	srv.password_file = (char *)write_tmp("\nsecond\n", 0600);
	want_pw_err(&srv, ERR_CONFIG, "first line is empty",
	    "password_file empty line");
	unlink(tmp_path);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	srv.password_file = (char *)write_tmp(big, 0600);
	want_pw_err(&srv, ERR_CONFIG, "longer than", "password_file too long");
	unlink(tmp_path);
	want_pw_err(&srv, ERR_CONFIG, "No such file", "password_file missing");
	srv.password_file = NULL;

	srv.password_command = "/bin/echo  from   echo";
	want_pw(&srv, "from echo", "password_command: echo");
	srv.password_command = "printf 'no newline'";
	want_pw(&srv, "no newline", "password_command: PATH, no newline");
	srv.password_command =
	    "sh -c 'head -c 3000000 /dev/zero | tr \"\\0\" x; echo'";
	want_pw_err(&srv, ERR_CONFIG, "longer than",
	    "password_command: a huge line is bounded");
	srv.password_command = "sh -c 'echo ok; exit 3'";
	want_pw_err(&srv, ERR_TEMP, "exited with status 3",
	    "password_command: failure is temporary");
	srv.password_command = "/no/such/program";
	want_pw_err(&srv, ERR_CONFIG, "cannot run /no/such/program",
	    "password_command: missing program");
	srv.password_command = "sleep 10";
	srv.timeout = 1;
	want_pw_err(&srv, ERR_TEMP, "did not finish within 1 seconds",
	    "password_command: timeout");
}

int
main(void)
{
	test_keys();
	test_checks();
	test_mode();
	test_split();
	test_sources();
	return t_done();
}
