/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_config.c: the ini reader (defaults, every key, every error with its
 * line number) and the log module it configures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postern/config.h"
#include "postern/err.h"
#include "postern/log.h"
#include "t.h"

static char ini_path[64];

/* Write text to a fresh temporary file; its name stays in ini_path. */
static const char *
write_tmp(const char *text)
{
	int fd;
	size_t len = strlen(text);

	snprintf(ini_path, sizeof(ini_path), "/tmp/t_config.XXXXXX");
	if ((fd = mkstemp(ini_path)) == -1) {
		perror("mkstemp");
		exit(1);
	}
	if (write(fd, text, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
	close(fd);
	return ini_path;
}

static int
load(const char *text, struct config *cfg, struct err *e)
{
	int rc;

	err_clear(e);
	rc = config_load(write_tmp(text), cfg, e);
	unlink(ini_path);
	return rc;
}

/* The ini must fail with ERR_CONFIG and "PATH" + want. */
static void
want_err(const char *text, const char *want, const char *name)
{
	struct config cfg;
	struct err e;
	size_t n;

	T_OK(load(text, &cfg, &e) == -1, name);
	T_OK(e.class == ERR_CONFIG, name);
	n = strlen(ini_path);
	T_OK(strncmp(e.text, ini_path, n) == 0, name);
	T_STR(e.text + (strncmp(e.text, ini_path, n) == 0 ? n : 0), want, name);
	/* A failed load leaves nothing to free, but freeing is harmless. */
	config_free(&cfg);
}

static void
test_defaults(void)
{
	struct config cfg;

	config_defaults(&cfg);
	T_OK(cfg.delivery == CONFIG_REMOTE, "default mode remote");
	T_OK(cfg.partial_delivery == 0, "default partial_delivery no");
	T_OK(cfg.local.nhosts == 1, "default local host count");
	T_STR(cfg.local.hosts[0].host, "127.0.0.1", "default local host");
	T_STR(cfg.local.hosts[0].port, "25", "default local host port");
	T_STR(cfg.local.port, "25", "default local port");
	T_OK(cfg.local.timeout == 60, "default local timeout");
	T_OK(cfg.local.helo == NULL, "default local helo");
	T_OK(cfg.remote.nhosts == 0, "default remote has no host");
	T_STR(cfg.remote.port, "25", "default remote port");
	T_OK(cfg.remote.timeout == 60, "default remote timeout");
	T_OK(cfg.sender_address == NULL && cfg.sender_spec == NULL,
	    "default no sender address");
	T_OK(cfg.send_as_user == 0, "default send_as_user no");
	T_STR(cfg.domain, "mail.example.org", "default domain from mailname");
	T_OK(cfg.naliases == 0 && cfg.alias_default == NULL,
	    "default no aliases");
	T_OK(cfg.log_file == NULL, "default no log file");
	T_OK(cfg.log_syslog == 1, "default syslog yes");
	T_OK(config_server(&cfg) == &cfg.remote, "config_server remote");
	config_free(&cfg);
	T_OK(cfg.local.hosts == NULL && cfg.domain == NULL,
	    "config_free clears");
}

static void
test_minimal(void)
{
	struct config cfg;
	struct err e;

	T_OK(load("[remote]\nhost = smtp.example.com\n", &cfg, &e) == 0,
	    "minimal file loads");
	T_STR(cfg.path, ini_path, "path kept");
	T_OK(cfg.remote.nhosts == 1, "one remote host");
	T_STR(cfg.remote.hosts[0].host, "smtp.example.com", "remote host");
	T_STR(cfg.remote.hosts[0].port, "25", "remote host default port");
	T_STR(cfg.domain, "mail.example.org", "domain from mailname");
	config_free(&cfg);
}

static const char full_ini[] = "; every key\n"
			       "[delivery]\n"
			       "mode = local\n"
			       "partial_delivery = yes\n"
			       "[local]\n"
			       "host = ::1, localhost:2525\n"
			       "port = 10025\n"
			       "timeout = 5\n"
			       "helo = web1.example.com\n"
			       "[remote]\n"
			       "host = relay.example.com\n"
			       "port = submission\n"
			       "timeout = 3600\n"
			       "helo = [192.0.2.7]\n"
			       "[sender]\n"
			       "address = \"Web Site\" <web@example.com>\n"
			       "send_as_user = On\n"
			       "domain = example.net\n"
			       "[aliases]\n"
			       "root = ops@example.com\n"
			       "Logwatch = <logs@example.com>\n"
			       "default = catchall@example.com\n"
			       "[log]\n"
			       "file = /var/log/postern.log\n"
			       "syslog = false\n";

static void
test_every_key(void)
{
	struct config cfg;
	struct addr_rewrite rw;
	struct err e;

	T_OK(load(full_ini, &cfg, &e) == 0, "full file loads");
	T_OK(cfg.delivery == CONFIG_LOCAL, "mode local");
	T_OK(cfg.partial_delivery == 1, "partial_delivery yes");
	T_OK(config_server(&cfg) == &cfg.local, "config_server local");
	T_OK(cfg.local.nhosts == 2, "local host list");
	T_STR(cfg.local.hosts[0].host, "::1", "bare IPv6 literal");
	T_STR(cfg.local.hosts[0].port, "10025", "bare IPv6 gets list port");
	T_STR(cfg.local.hosts[1].host, "localhost", "local second host");
	T_STR(cfg.local.hosts[1].port, "2525", "local second host port");
	T_OK(cfg.local.timeout == 5, "local timeout");
	T_STR(cfg.local.helo, "web1.example.com", "local helo");
	T_STR(cfg.remote.port, "submission", "service name port");
	T_STR(cfg.remote.hosts[0].port, "submission", "host gets service");
	T_OK(cfg.remote.timeout == 3600, "timeout upper bound");
	T_STR(cfg.remote.helo, "[192.0.2.7]", "helo address literal");
	T_STR(cfg.sender_address, "\"Web Site\" <web@example.com>",
	    "sender address as written");
	T_STR(cfg.sender_name, "Web Site", "sender display name");
	T_STR(cfg.sender_spec, "web@example.com", "sender addr-spec");
	T_OK(cfg.send_as_user == 1, "send_as_user On");
	T_STR(cfg.domain, "example.net", "domain from ini");
	T_OK(cfg.naliases == 2, "two aliases");
	T_STR(cfg.aliases[0].name, "root", "alias name");
	T_STR(cfg.aliases[0].addr, "ops@example.com", "alias address");
	T_STR(cfg.aliases[1].name, "Logwatch", "alias name case kept");
	T_STR(cfg.aliases[1].addr, "logs@example.com", "alias angle address");
	T_STR(cfg.alias_default, "catchall@example.com", "alias default");
	T_STR(cfg.log_file, "/var/log/postern.log", "log file");
	T_OK(cfg.log_syslog == 0, "syslog false");
	config_rewrite(&cfg, &rw);
	T_OK(rw.domain == cfg.domain && rw.aliases == cfg.aliases &&
		rw.naliases == 2 && rw.alias_default == cfg.alias_default,
	    "config_rewrite");
	config_free(&cfg);
}

static void
test_hosts(void)
{
	struct config cfg;
	struct err e;

	T_OK(load("[remote]\nport = 2526\nhost = a.example.com, "
		  "b.example.com:2525, [2001:db8::1]:587, 192.0.2.1, "
		  "[2001:db8::2], ,\n",
		 &cfg, &e) == 0,
	    "host list loads");
	T_OK(cfg.remote.nhosts == 5, "host list count (empty skipped)");
	T_STR(cfg.remote.hosts[0].host, "a.example.com", "host 1");
	T_STR(cfg.remote.hosts[0].port, "2526", "host 1 port from port");
	T_STR(cfg.remote.hosts[1].port, "2525", "host 2 own port");
	T_STR(cfg.remote.hosts[2].host, "2001:db8::1", "IPv6 unbracketed");
	T_STR(cfg.remote.hosts[2].port, "587", "IPv6 port");
	T_STR(cfg.remote.hosts[3].host, "192.0.2.1", "IPv4");
	T_STR(cfg.remote.hosts[3].port, "2526", "IPv4 default port");
	T_STR(cfg.remote.hosts[4].host, "2001:db8::2", "IPv6 no port");
	T_STR(cfg.remote.hosts[4].port, "2526", "IPv6 default port");
	config_free(&cfg);

	want_err("[remote]\nhost = a.example.com b.example.com\n",
	    ":2: [remote] host: \"a.example.com b.example.com\" has a space "
	    "(separate hosts with commas)",
	    "host list without comma");
	want_err("[remote]\nhost = [2001:db8::1\n",
	    ":2: [remote] host: \"[2001:db8::1\" lacks ']'", "missing ]");
	want_err("[remote]\nhost = [2001:db8::1]587\n",
	    ":2: [remote] host: \"[2001:db8::1]587\": expected :port after "
	    "']'",
	    "junk after ]");
	want_err("[remote]\nhost = [example.com]\n",
	    ":2: [remote] host: \"example.com\" is not an IPv6 address",
	    "brackets around a name");
	want_err("[remote]\nhost = a.example.com:99999\n",
	    ":2: [remote] host: \"99999\" is not a port (1-65535 or a "
	    "service name)",
	    "host port out of range");
	want_err("[remote]\nhost = a.example.com:\n",
	    ":2: [remote] host: \"\" is not a port (1-65535 or a service "
	    "name)",
	    "host empty port");
	want_err("[remote]\nhost = a/b\n",
	    ":2: [remote] host: \"a/b\" is not a host name", "bad host name");
	want_err("[remote]\nhost = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
	    ":2: [remote] host: more than 16 hosts", "too many hosts");
}

static void
test_errors(void)
{
	char want[256];

	want_err("[delivery]\nmode = remote\n[remtoe]\nhost = x\n",
	    ":3: unknown section [remtoe] (did you mean [remote]?)",
	    "unknown section with hint");
	want_err("[remote]\nhost = x\n\n[smtp]\n", ":4: unknown section [smtp]",
	    "empty unknown section");
	want_err("[remote]\nhost = x\n\n\nprot = 25\n",
	    ":5: unknown key \"prot\" in [remote] (did you mean \"port\"?)",
	    "unknown key with hint");
	want_err("[remote]\nhost = x\ntls = ssl\n",
	    ":3: [remote] tls: \"ssl\" is not one of off, starttls, implicit",
	    "bad tls mode");
	want_err("[remote]\nhost = x\nauth = kerberos\n",
	    ":3: [remote] auth: \"kerberos\" is not one of anonymous, basic, "
	    "ntlm, xoauth2, gssapi",
	    "bad auth mode");
	want_err("[remote]\nhost = x\nuser = bob\n",
	    ": [remote] user is set but auth = anonymous (set auth = basic, "
	    "ntlm, xoauth2 or gssapi, or remove it)",
	    "user without auth");
	want_err("[remote]\nhost = x\npassword_file = /p\n",
	    ": [remote] a password is set but auth = anonymous (set auth = "
	    "basic, ntlm or xoauth2, or remove it)",
	    "password without auth: the modes that take one");
	want_err("[remote]\nhost = x\npassword = a ;b\n",
	    ":3: [remote] password: \" ;\" starts a comment in the ini, which "
	    "would cut the value (put it in password_file)",
	    "password cut by an inline comment");
	want_err("[queue]\nspool = /tmp\n",
	    ":2: unknown key \"spool\" in [queue]", "unknown [queue] key");
	want_err("[remote]\nhost = x\n[delivery]\nmode = local\n\n\n"
		 "mode = smtp\n",
	    ":7: duplicate key \"mode\" in [delivery] (first set on line 4)",
	    "duplicate key");
	want_err("[delivery]\nmode = smtp\n",
	    ":2: [delivery] mode: \"smtp\" is not one of remote, local",
	    "bad enum");
	want_err("[delivery]\npartial_delivery = maybe\n",
	    ":2: [delivery] partial_delivery: \"maybe\" is not yes or no (or "
	    "true/false, on/off, 1/0)",
	    "bad boolean");
	want_err("[log]\nsyslog =\n",
	    ":2: [log] syslog: \"\" is not yes or no (or true/false, on/off, "
	    "1/0)",
	    "empty boolean");
	want_err("[remote]\ntimeout = 0\n",
	    ":2: [remote] timeout: \"0\" is not a number from 1 to 3600",
	    "timeout zero");
	want_err("[local]\ntimeout = 3601\n",
	    ":2: [local] timeout: \"3601\" is not a number from 1 to 3600",
	    "timeout too big");
	want_err("[local]\ntimeout = 10s\n",
	    ":2: [local] timeout: \"10s\" is not a number from 1 to 3600",
	    "timeout with unit");
	want_err("[local]\ntimeout = -5\n",
	    ":2: [local] timeout: \"-5\" is not a number from 1 to 3600",
	    "timeout negative");
	want_err("[remote]\nport = 65536\n",
	    ":2: [remote] port: \"65536\" is not a port (1-65535 or a service "
	    "name)",
	    "port out of range");
	want_err("[queue]\ndir =\n", ":2: [queue] dir: must not be empty",
	    "empty queue dir (it would have no default)");
	want_err("[remote]\nport =\n", ":2: [remote] port: a port is required",
	    "empty port");
	want_err("[remote]\nhelo = bad name\n",
	    ":2: [remote] helo: \"bad name\" is not a host name", "bad helo");
	want_err("[log]\nfile = postern.log\n",
	    ":2: [log] file: \"postern.log\" is not an absolute path",
	    "relative log file");
	want_err("host = x\n[remote]\n",
	    ":1: key \"host\" is outside any section",
	    "key before any section");
	want_err("[remote]\nhost = x\nthis line has no equals sign\n",
	    ":3: syntax error (expected [section] or key = value)",
	    "syntax error");
	want_err("[remote]\nhost = x\n[delivery\n",
	    ":3: syntax error (expected [section] or key = value)",
	    "unclosed section");
	snprintf(want, sizeof(want),
	    ":2: line too long (at most 197 "
	    "characters)");
	{
		char big[400];

		memset(big, 'a', sizeof(big));
		memcpy(big, "[remote]\nhelo = ", 16);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		want_err(big, want, "line too long");
	}

	/* The first error wins, and its line is reported. */
	want_err("[remote]\nhost = x\nfoo = 1\nbar = 2\n",
	    ":3: unknown key \"foo\" in [remote]", "first error reported");
}

/* Errors about the file as a whole: required keys, unreadable files. */
static void
test_errors_file(void)
{
	struct config cfg;
	struct err e;

	want_err("[delivery]\nmode = remote\n",
	    ": [remote] host is required for mode = remote",
	    "remote host required");
	want_err("[remote]\nhost =\n",
	    ": [remote] host is required for mode = remote",
	    "empty remote host is missing");
	want_err("[delivery]\nmode = local\n[local]\nhost =\n",
	    ": [local] host is required for mode = local",
	    "local host required in local mode");
	T_OK(load("[delivery]\nmode = local\n", &cfg, &e) == 0,
	    "local mode needs no remote host");
	config_free(&cfg);

	err_clear(&e);
	T_OK(config_load("/nonexistent/postern.ini", &cfg, &e) == -1,
	    "missing file fails");
	T_OK(e.class == ERR_CONFIG, "missing file is ERR_CONFIG");
	T_STR(e.text,
	    "cannot read /nonexistent/postern.ini: No such file or directory",
	    "missing file message");
	err_clear(&e);
	T_OK(config_load("/tmp", &cfg, &e) == -1, "directory fails");
	T_STR(e.text, "cannot read /tmp: Is a directory", "directory message");
}

static void
test_sender_aliases(void)
{
	struct config cfg;
	struct err e;

	T_OK(load("[remote]\nhost = x\n[sender]\naddress = web@example.com\n",
		 &cfg, &e) == 0,
	    "plain sender address");
	T_OK(cfg.sender_name == NULL, "no display name");
	T_STR(cfg.sender_spec, "web@example.com", "plain sender spec");
	config_free(&cfg);

	want_err("[sender]\naddress = a@example.com, b@example.com\n",
	    ":2: [sender] address: must be exactly one address",
	    "two sender addresses");
	want_err("[sender]\naddress = webmaster\n",
	    ":2: [sender] address: must be an address with a domain "
	    "(user@example.com)",
	    "sender without domain");
	T_OK(load("[sender]\naddress = <>\n", &cfg, &e) == -1,
	    "null sender address refused");
	T_OK(e.class == ERR_CONFIG && strstr(e.text, ":2: [sender] address: "),
	    "null sender address is a config error at its line");
	T_OK(load("[sender]\naddress = \"Web <web@example.com>\n", &cfg, &e) ==
		-1,
	    "broken sender syntax");
	T_OK(e.class == ERR_CONFIG && strstr(e.text, ":2: [sender] address: "),
	    "broken sender syntax is a config error at its line");
	want_err("[sender]\ndomain = not a domain\n",
	    ":2: [sender] domain: \"not a domain\" is not a host name",
	    "bad domain");
	want_err("[sender]\nsend_as_user = sometimes\n",
	    ":2: [sender] send_as_user: \"sometimes\" is not yes or no (or "
	    "true/false, on/off, 1/0)",
	    "bad send_as_user");

	want_err("[aliases]\nroot = ops@example.com\nROOT = x@example.com\n",
	    ":3: duplicate alias \"ROOT\"", "duplicate alias");
	want_err("[aliases]\ndefault = a@example.com\ndefault = "
		 "b@example.com\n",
	    ":3: duplicate alias \"default\"", "duplicate default alias");
	want_err("[aliases]\nroot@x = ops@example.com\n",
	    ":2: [aliases] \"root@x\" is not a local name (no '@', no spaces)",
	    "alias name with @");
	want_err("[aliases]\nroot = ops\n",
	    ":2: [aliases] root: must be one address such as ops@example.com",
	    "alias without domain");
	want_err("[aliases]\nroot = Ops <ops@example.com>\n",
	    ":2: [aliases] root: must be one address such as ops@example.com",
	    "alias with display name");
	want_err("[aliases]\nroot = a@example.com, b@example.com\n",
	    ":2: [aliases] root: must be one address such as ops@example.com",
	    "alias with two addresses");
	/* A good address, then a broken one: under LeakSanitizer (make
	 * check-asan) the parser's array must not leak (issue 10 item 8). */
	want_err("[aliases]\nroot = a@example.com, <b@example.com\n",
	    ":2: [aliases] root: bad address \"<b@example.com\": '<' without "
	    "'>'",
	    "alias, second address broken");
	/* inih splits at LF only: a CR in a value is quoted as a space. */
	want_err("[remote]\nhost = a\rb\n",
	    ":2: [remote] host: \"a b\" is not a host name",
	    "CR in a value: the error shows no CR");
	want_err("[sender]\naddress = a@example.com, <b@example.com\n",
	    ":2: [sender] address: bad address \"<b@example.com\": '<' "
	    "without '>'",
	    "sender address, second one broken");
}

static void
test_syntax_details(void)
{
	struct config cfg;
	struct err e;

	T_OK(load("[Remote]\nHOST = x.example.com\n  port = 2525 ; submission\n"
		  "\n# comment\n[log]\nSysLog = 0\nfile =\n",
		 &cfg, &e) == 0,
	    "case, indentation, comments");
	T_STR(cfg.remote.hosts[0].host, "x.example.com", "case-insensitive");
	T_STR(cfg.remote.port, "2525", "indented key is a key, comment cut");
	T_OK(cfg.log_syslog == 0, "boolean 0");
	T_OK(cfg.log_file == NULL, "empty path is unset");
	config_free(&cfg);
}

/* --check output reads back to the same settings. */
static void
test_print(void)
{
	struct config cfg, again;
	struct err e;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *fp;

	T_OK(load(full_ini, &cfg, &e) == 0, "print: load");
	if ((fp = open_memstream(&out, &len)) == NULL)
		exit(1);
	config_print(&cfg, fp);
	fclose(fp);
	T_OK(strstr(out,
		 "\n[delivery]\nmode = local\npartial_delivery = "
		 "yes\n") != NULL,
	    "print delivery");
	T_OK(strstr(out, "host = [::1]:10025, localhost:2525\n") != NULL,
	    "print host list with ports");
	T_OK(strstr(out, "\n[aliases]\nroot = ops@example.com\n") != NULL,
	    "print aliases");
	T_OK(strstr(out, "default = catchall@example.com\n") != NULL,
	    "print alias default");
	T_OK(strstr(out, "syslog = no\n") != NULL, "print boolean");
	T_OK(load(out, &again, &e) == 0, "printed settings load again");
	if ((fp = open_memstream(&out2, &len2)) == NULL)
		exit(1);
	config_print(&again, fp);
	fclose(fp);
	/* Only the first line (the file name) differs. */
	T_STR(strchr(out2, '\n'), strchr(out, '\n'), "print round trip");
	config_free(&cfg);
	config_free(&again);
	free(out);
	free(out2);

	config_defaults(&cfg);
	out = NULL;
	if ((fp = open_memstream(&out, &len)) == NULL)
		exit(1);
	config_print(&cfg, fp);
	fclose(fp);
	T_OK(strstr(out,
		 "[remote]\nhost =\nport = 25\ntimeout = 60\nhelo =\n") != NULL,
	    "print defaults, unset keys empty");
	config_free(&cfg);
	free(out);
}

static void
test_domain(void)
{
	const char *p;
	char *d, *fallback;

	config_set_mailname_path("/nonexistent/mailname");
	fallback = config_default_domain();
	T_OK(fallback != NULL && *fallback != '\0' &&
		strpbrk(fallback, " \t\n@") == NULL,
	    "domain falls back to the host name");
	p = write_tmp("  \n");
	config_set_mailname_path(p);
	d = config_default_domain();
	T_STR(d, fallback, "blank mailname falls back");
	free(d);
	unlink(p);
	p = write_tmp("bad name here\n");
	config_set_mailname_path(p);
	d = config_default_domain();
	T_STR(d, fallback, "junk mailname falls back");
	free(d);
	unlink(p);
	p = write_tmp("mx.example.com\nsecond.example.com\n");
	config_set_mailname_path(p);
	d = config_default_domain();
	T_STR(d, "mx.example.com", "mailname first line");
	free(d);
	unlink(p);
	free(fallback);
}

static char *
slurp(const char *path)
{
	static char data[8192];
	ssize_t n;
	int fd;

	data[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return data;
	n = read(fd, data, sizeof(data) - 1);
	data[n > 0 ? n : 0] = '\0';
	close(fd);
	return data;
}

static void
test_log(void)
{
	char path[64] = "/tmp/t_log.XXXXXX", want[128], big[3000], *s, *nl;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		exit(1);
	close(fd);
	log_open("t tag", path, 0);
	log_msg(LOG_INFO, "hello %s", "a\r\nb\x1b[0m");
	log_close();
	s = slurp(path);
	snprintf(want, sizeof(want), " t_tag[%ld]: hello a  b?[0m\n",
	    (long)getpid());
	T_OK(strstr(s, want) != NULL, "log line format and control chars");
	T_OK(strchr(s, '\n') == s + strlen(s) - 1, "log: exactly one line");
	T_OK(strlen(s) > 16 && s[3] == ' ' && s[6] == ' ' && s[9] == ':',
	    "log: timestamp Mon DD HH:MM:SS");

	/* Appends; a long message is cut with "...". */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_open(NULL, path, 0);
	log_msg(LOG_INFO, "%s", big);
	log_close();
	s = slurp(path);
	nl = strchr(s, '\n');
	T_OK(nl != NULL && strstr(nl + 1, " postern[") != NULL,
	    "log appends, default tag");
	T_OK(nl != NULL && strlen(nl + 1) < 1024 + 200 &&
		strstr(nl + 1, "xxx...\n") != NULL,
	    "long log line truncated with ...");
	unlink(path);

	/* A log file that cannot be opened does not stop anything. */
	log_open("postern", "/nonexistent/dir/postern.log", 0);
	log_msg(LOG_INFO, "still fine");
	log_close();
	T_OK(access("/nonexistent/dir/postern.log", F_OK) == -1,
	    "unopenable log file is skipped");
}

/* [queue]: defaults, durations with units, their limits. */
static void
test_queue(void)
{
	struct config cfg;
	struct err e;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp;

	config_defaults(&cfg);
	T_STR(cfg.queue_dir, "/var/spool/postern", "default queue dir");
	T_OK(cfg.queue_mode == CONFIG_QUEUE_FALLBACK, "default queue mode");
	T_OK(cfg.queue_max_age == 5 * 86400, "default max_age 5d");
	T_OK(cfg.queue_retry == 300, "default retry 5m");
	T_OK(cfg.queue_retry_max == 4 * 3600, "default retry_max 4h");
	T_OK(cfg.queue_bounce == 1, "default bounce yes");
	T_OK(cfg.queue_connections == 3, "default connections 3");
	config_free(&cfg);
	T_OK(load("[remote]\nhost = x\n[queue]\nconnections = 20\n", &cfg,
		 &e) == 0 &&
		cfg.queue_connections == 20,
	    "connections 20 loads");
	config_free(&cfg);
	T_OK(load("[remote]\nhost = x\n[queue]\nconnections = 21\n", &cfg,
		 &e) == -1 &&
		e.class == ERR_CONFIG &&
		strstr(e.text,
		    ":4: [queue] connections: \"21\" is not a "
		    "number from 1 to 20") != NULL,
	    "connections 21 refused, with the range");
	T_OK(load("[remote]\nhost = x\n[queue]\nconnections = 0\n", &cfg, &e) ==
		    -1 &&
		e.class == ERR_CONFIG,
	    "connections 0 refused");

	T_OK(load("[remote]\nhost = x\n[queue]\ndir = /srv/q\nmode = Always\n"
		  "max_age = 2w\nretry = 90\nretry_max = 1d\nbounce = no\n",
		 &cfg, &e) == 0,
	    "[queue] every key loads");
	T_STR(cfg.queue_dir, "/srv/q", "queue dir");
	T_OK(cfg.queue_mode == CONFIG_QUEUE_ALWAYS, "queue mode always");
	T_OK(cfg.queue_max_age == 14 * 86400, "max_age 2w");
	T_OK(cfg.queue_retry == 90, "retry 90 (seconds)");
	T_OK(cfg.queue_retry_max == 86400, "retry_max 1d");
	T_OK(cfg.queue_bounce == 0, "bounce no");
	if ((fp = open_memstream(&out, &outlen)) != NULL) {
		config_print(&cfg, fp);
		fclose(fp);
	}
	T_OK(out != NULL &&
		strstr(out,
		    "[queue]\ndir = /srv/q\nmode = always\n"
		    "max_age = 2w\nretry = 90s\n"
		    "retry_max = 1d\nbounce = no\n") != NULL,
	    "--check prints [queue] as it reads back");
	free(out);
	config_free(&cfg);

	T_OK(load("[remote]\nhost = x\n[queue]\nmode = never\nmax_age = 0s\n",
		 &cfg, &e) == 0 &&
		cfg.queue_mode == CONFIG_QUEUE_NEVER && cfg.queue_max_age == 0,
	    "mode never, max_age 0s");
	config_free(&cfg);

	want_err("[queue]\nmax_age = 5x\n",
	    ":2: [queue] max_age: \"5x\" is not a duration from 0s to "
	    "31536000s (a number "
	    "with s, m, h, d or w)",
	    "duration with a bad unit");
	want_err("[queue]\nretry = 0\n",
	    ":2: [queue] retry: \"0\" is not a duration from 1s to 604800s (a "
	    "number with s, "
	    "m, h, d or w)",
	    "retry of zero");
	want_err("[queue]\nretry = 2w\n",
	    ":2: [queue] retry: \"2w\" is not a duration from 1s to 604800s (a "
	    "number with "
	    "s, m, h, d or w)",
	    "retry over a week");
	want_err("[queue]\nmax_age = -1d\n",
	    ":2: [queue] max_age: \"-1d\" is not a duration from 0s to "
	    "31536000s (a number "
	    "with s, m, h, d or w)",
	    "negative duration");
	want_err("[queue]\nmax_age = 99999999999999999999s\n",
	    ":2: [queue] max_age: \"99999999999999999999s\" is not a duration "
	    "from 0s to "
	    "31536000s (a number with s, m, h, d or w)",
	    "duration overflow");
	want_err("[queue]\nmode = later\n",
	    ":2: [queue] mode: \"later\" is not one of fallback, always, never",
	    "queue mode unknown");
	want_err("[queue]\ndir = spool\n",
	    ":2: [queue] dir: \"spool\" is not an absolute path",
	    "queue dir relative");
}

/* The TLS keys of [remote] and [local]: defaults, values, checks. */
static void
test_tls(void)
{
	struct config cfg;
	struct err e;

	T_OK(load("[remote]\nhost = a\n[queue]\ndir = /q\n", &cfg, &e) == 0,
	    "tls defaults load");
	T_OK(cfg.remote.tls == CONFIG_TLS_OFF, "tls default off");
	T_OK(cfg.remote.tls_verify == 1, "tls_verify default yes");
	T_OK(cfg.remote.tls_min_version == 0, "tls_min_version default 1.2");
	T_OK(cfg.remote.tls_ca_file == NULL && cfg.remote.tls_pin == NULL,
	    "no CA file, no pins");
	T_STR(cfg.remote.tls_session_cache, "/q/tls",
	    "session cache under the spool");
	T_STR(cfg.local.tls_session_cache, "/q/tls", "[local] cache too");
	config_free(&cfg);

	T_OK(load("[remote]\nhost = a\ntls = implicit\n", &cfg, &e) == 0,
	    "implicit loads");
	T_STR(cfg.remote.hosts[0].port, "465", "implicit: port 465");
	config_free(&cfg);
	T_OK(load("[remote]\nhost = a\ntls = implicit\nport = 2465\n", &cfg,
		 &e) == 0,
	    "implicit with a port loads");
	T_STR(cfg.remote.hosts[0].port, "2465", "implicit: the port given");
	config_free(&cfg);
	/* mode = local: [remote]'s files need not exist (cfg_ready). */
	T_OK(load("[delivery]\nmode = local\n"
		  "[remote]\nhost = a\ntls = STARTTLS\ntls_verify = no\n"
		  "tls_ca_file = /etc/ca.pem\ntls_ca_dir = /etc/ssl/certs\n"
		  "tls_min_version = 1.3\ntls_client_cert = /c.pem\n"
		  "tls_client_key = /c.key\ntls_ciphers = "
		  "TLS_AES_128_GCM_SHA256\n"
		  "tls_session_cache = /var/cache/postern\n"
		  "tls_pin = "
		  "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "[local]\ntls = implicit\n",
		 &cfg, &e) == 0,
	    "every tls key loads");
	T_OK(cfg.remote.tls == CONFIG_TLS_STARTTLS, "tls starttls");
	T_OK(cfg.remote.tls_verify == 0, "tls_verify no");
	T_OK(cfg.remote.tls_min_version == 1, "tls_min_version 1.3");
	T_STR(cfg.remote.tls_ca_file, "/etc/ca.pem", "tls_ca_file");
	T_STR(cfg.remote.tls_ca_dir, "/etc/ssl/certs", "tls_ca_dir");
	T_STR(cfg.remote.tls_client_cert, "/c.pem", "tls_client_cert");
	T_STR(cfg.remote.tls_client_key, "/c.key", "tls_client_key");
	T_STR(cfg.remote.tls_ciphers, "TLS_AES_128_GCM_SHA256", "tls_ciphers");
	T_STR(cfg.remote.tls_session_cache, "/var/cache/postern",
	    "tls_session_cache");
	T_OK(cfg.local.tls == CONFIG_TLS_IMPLICIT, "[local] tls");
	T_STR(cfg.local.hosts[0].port, "465", "[local] implicit: port 465");
	config_free(&cfg);

	want_err("[remote]\nhost = a\n\ntls_pin = sha256/short\n",
	    ":4: [remote] tls_pin: \"sha256/short\" is not sha256/ followed "
	    "by 44 base64 characters",
	    "bad pin");
	want_err("[remote]\nhost = a\ntls_client_key = /k\n",
	    ":3: [remote] tls_client_key needs tls_client_cert",
	    "key without cert");
	want_err("[remote]\nhost = a\ntls_min_version = 1.1\n",
	    ":3: [remote] tls_min_version: \"1.1\" is not one of 1.2, 1.3",
	    "tls 1.1 refused");
	want_err("[remote]\nhost = a\ntls_ca_file = ca.pem\n",
	    ":3: [remote] tls_ca_file: \"ca.pem\" is not an absolute path",
	    "relative CA file");
	want_err("[remote]\nhost = a\ntsl = starttls\n",
	    ":3: unknown key \"tsl\" in [remote] (did you mean \"tls\"?)",
	    "misspelt tls");
}

/* What every delivery would refuse is refused at load, with its line. */
static void
test_ready(void)
{
	struct config cfg;
	struct err e;

	want_err("[remote]\nhost = a\ntls = starttls\ntls_ca_file = "
		 "/nonexistent\n",
	    ":4: [remote] tls_ca_file: cannot read /nonexistent: No such "
	    "file or directory",
	    "missing CA file");
	want_err("[remote]\nhost = a\ntls = implicit\ntls_ca_file = /tmp\n",
	    ":4: [remote] tls_ca_file: cannot read /tmp: Is a directory",
	    "CA file is a directory");
	want_err("[remote]\nhost = a\ntls = starttls\ntls_ca_dir = "
		 "/nonexistent\n",
	    ":4: [remote] tls_ca_dir: cannot read /nonexistent: No such "
	    "file or directory",
	    "missing CA dir");
	want_err("[remote]\nhost = a\ntls = starttls\ntls_ca_dir = "
		 "/etc/passwd\n",
	    ":4: [remote] tls_ca_dir: cannot read /etc/passwd: Not a "
	    "directory",
	    "CA dir is a file");
	want_err("[remote]\nhost = a\ntls = starttls\n"
		 "tls_client_cert = /nonexistent/c.pem\n",
	    ":4: [remote] tls_client_cert: cannot read /nonexistent/c.pem: "
	    "No such file or directory",
	    "missing client cert");
	want_err("[remote]\nhost = a\ntls = starttls\n"
		 "tls_client_cert = /etc/passwd\ntls_client_key = "
		 "/nonexistent\n",
	    ":5: [remote] tls_client_key: cannot read /nonexistent: No such "
	    "file or directory",
	    "missing client key");
	want_err("[remote]\nhost = a\ntls = starttls\ntls_ciphers = BOGUS\n",
	    ":4: [remote] tls_ciphers: no cipher match", "bad cipher list");
	want_err("[remote]\nhost = a\ntls = starttls\n"
		 "tls_ciphers = TLS_BOGUS\n",
	    ":4: [remote] tls_ciphers: no cipher match", "bad TLS 1.3 suite");
	want_err("[remote]\nhost = a\n\nport = abc\n",
	    ":4: [remote] port: \"abc\" is neither a port number nor a service "
	    "name known to /etc/services",
	    "unknown service as port");
	want_err("[remote]\nhost = a, b:nosuchservice\n",
	    ":2: [remote] host: \"nosuchservice\" is neither a port number nor "
	    "a "
	    "service name known to /etc/services",
	    "unknown service in the host list");
	want_err("[delivery]\nmode = local\n[local]\nport = nope\n",
	    ":4: [local] port: \"nope\" is neither a port number nor a service "
	    "name known to /etc/services",
	    "unknown [local] port");

	T_OK(load("[remote]\nhost = a:smtp\nport = submission\n"
		  "tls = starttls\ntls_ca_file = /etc/passwd\n"
		  "tls_ca_dir = /etc\ntls_ciphers = "
		  "ECDHE-RSA-AES128-GCM-SHA256:"
		  "TLS_AES_128_GCM_SHA256\n",
		 &cfg, &e) == 0,
	    "service names, readable TLS files, a good cipher list load");
	config_free(&cfg);
	/* Not used, so not refused: tls = off, or the other server. */
	T_OK(load("[remote]\nhost = a\ntls = off\ntls_ca_file = /nonexistent\n"
		  "tls_ciphers = BOGUS\n",
		 &cfg, &e) == 0,
	    "tls = off: the TLS files are not opened");
	config_free(&cfg);
	T_OK(load("[delivery]\nmode = local\n[remote]\nport = abc\n"
		  "tls = starttls\ntls_client_cert = /nonexistent\n",
		 &cfg, &e) == 0,
	    "mode = local: [remote] is not checked");
	config_free(&cfg);

	/* The spool's modes need no relay. */
	err_clear(&e);
	T_OK(config_load_admin(write_tmp("[queue]\ndir = /q\n"), &cfg, &e) == 0,
	    "admin load: no [remote] host needed");
	T_STR(cfg.queue_dir, "/q", "admin load: the settings are read");
	config_free(&cfg);
	T_OK(config_load(ini_path, &cfg, &e) == -1 && e.class == ERR_CONFIG &&
		strstr(e.text, "[remote] host is required") != NULL,
	    "the same file: config_load still wants the host");
	err_clear(&e);
	T_OK(config_load_submit(ini_path, &cfg, &e) == 0 &&
		config_no_relay(&cfg),
	    "the same file: a submission loads it, without a relay");
	config_free(&cfg);
	unlink(ini_path);
	err_clear(&e);
	T_OK(config_load_submit(write_tmp("[queue]\nmode = never\n"), &cfg,
		 &e) == -1 &&
		strstr(e.text, "[remote] host is required") != NULL,
	    "submission, mode = never: the host is required");
	unlink(ini_path);
	err_clear(&e);
	T_OK(config_load_submit(write_tmp("[remote]\nhost = a.test\n"), &cfg,
		 &e) == 0 &&
		!config_no_relay(&cfg),
	    "submission with a host: a relay");
	config_free(&cfg);
	unlink(ini_path);
	err_clear(&e);
	T_OK(config_load_admin(write_tmp("[remote]\ntls = implicit\n"
					 "tls_ca_file = /nonexistent\n"
					 "port = abc\n"),
		 &cfg, &e) == 0,
	    "admin load: TLS files and port not checked");
	config_free(&cfg);
	unlink(ini_path);
	err_clear(&e);
	T_OK(config_load_admin(write_tmp("[remote]\nprot = 25\n"), &cfg, &e) ==
		    -1 &&
		strstr(e.text, ":2: unknown key \"prot\"") != NULL,
	    "admin load: a bad key is still an error");
	unlink(ini_path);
}

/* Load text from a file with mode (and owner uid, unless -1). */
static int
load_owned(const char *text, mode_t mode, long uid, struct config *cfg,
    struct err *e)
{
	int rc;

	write_tmp(text);
	if (chmod(ini_path, mode) == -1 ||
	    (uid >= 0 && chown(ini_path, (uid_t)uid, (gid_t)-1) == -1)) {
		perror(ini_path);
		exit(1);
	}
	err_clear(e);
	rc = config_load(ini_path, cfg, e);
	unlink(ini_path);
	return rc;
}

/* load_owned() must fail with ERR_CONFIG: "PATH what (fix PATH)". */
static void
want_owner_err(const char *text, mode_t mode, const char *what, const char *fix,
    const char *name)
{
	struct config cfg;
	struct err e;
	char want[512];

	T_OK(load_owned(text, mode, -1, &cfg, &e) == -1 &&
		e.class == ERR_CONFIG,
	    name);
	snprintf(want, sizeof(want), "%s %s (%s %s)", ini_path, what, fix,
	    ini_path);
	T_STR(e.text, want, name);
}

/* Who may change the ini: nobody but its owner; set-group-ID, root. */
static void
test_owner(void)
{
	static const char ini[] = "[remote]\nhost = a\n";
	struct config cfg;
	struct err e;
	long other = geteuid() == 0 ? 65534 : -1; /* a file not root's */

	want_owner_err(ini, 0666, "is writable by others", "chmod o-w",
	    "0666 without a secret: chmod o-w");
	want_owner_err(ini, 0602, "is writable by others", "chmod o-w",
	    "0602: chmod o-w");
	T_OK(load_owned(ini, 0664, -1, &cfg, &e) == 0, "0664 loads");
	config_free(&cfg);
	T_OK(load_owned(ini, 0644, other, &cfg, &e) == 0,
	    "not set-group-ID: any owner");
	config_free(&cfg);

	config_set_privileged(1);
	if (geteuid() == 0) {
		T_OK(load_owned(ini, 0644, -1, &cfg, &e) == 0,
		    "set-group-ID: root's 0644 loads");
		config_free(&cfg);
		T_OK(load_owned(ini, 0640, -1, &cfg, &e) == 0,
		    "set-group-ID: root's 0640 loads");
		config_free(&cfg);
		want_owner_err(ini, 0664,
		    "is writable by its group and postern runs set-group-ID",
		    "chmod g-w", "set-group-ID: g+w refused");
		want_owner_err(ini, 0666,
		    "is writable by its group and others and postern runs "
		    "set-group-ID",
		    "chmod go-w", "set-group-ID: go+w refused");
		want_owner_err(ini, 0602, "is writable by others", "chmod o-w",
		    "set-group-ID: o+w refused");
	}
	T_OK(load_owned(ini, 0600, other, &cfg, &e) == -1 &&
		e.class == ERR_CONFIG &&
		strstr(e.text,
		    ", not root, and postern runs set-group-ID "
		    "(chown root ") != NULL,
	    "set-group-ID: an ini not owned by root is refused");
	config_set_privileged(0);
	T_OK(load_owned(ini, 0664, other, &cfg, &e) == 0,
	    "forced off: group-writable and not root's loads");
	config_free(&cfg);
	config_set_privileged(-1);
}

/* [listen]: postern -bd's addresses, allow list, limits and user. */
static void
test_listen(void)
{
	struct config cfg;
	struct err e;

	T_OK(load("[remote]\nhost = a\n", &cfg, &e) == 0, "no [listen]");
	T_OK(!cfg.listen.present && cfg.listen.naddrs == 2 &&
		strcmp(cfg.listen.addrs[0].host, "127.0.0.1") == 0 &&
		strcmp(cfg.listen.addrs[1].host, "::1") == 0 &&
		strcmp(cfg.listen.addrs[1].port, "25") == 0,
	    "default: 127.0.0.1:25 and [::1]:25");
	T_OK(cfg.listen.max_sessions == 20 && cfg.listen.allow == NULL &&
		strcmp(cfg.listen.user, "postern") == 0,
	    "default: 20 sessions, no allow, user postern");
	config_free(&cfg);
	T_OK(load("[remote]\nhost = a\n[listen]\n", &cfg, &e) == 0 &&
		cfg.listen.present,
	    "an empty [listen] section is seen");
	config_free(&cfg);
	T_OK(load("[remote]\nhost = a\n[listen]\naddress = 192.0.2.1, "
		  "[2001:db8::1]:2525\nallow = 192.0.2.0/24\n"
		  "max_sessions = 5\nuser = mail\n",
		 &cfg, &e) == 0,
	    "every [listen] key");
	T_OK(cfg.listen.naddrs == 2 &&
		strcmp(cfg.listen.addrs[0].port, "25") == 0 &&
		strcmp(cfg.listen.addrs[1].host, "2001:db8::1") == 0 &&
		strcmp(cfg.listen.addrs[1].port, "2525") == 0 &&
		cfg.listen.max_sessions == 5 &&
		strcmp(cfg.listen.user, "mail") == 0,
	    "... read as written, port 25 by default");
	config_free(&cfg);
	want_err("[remote]\nhost = a\n[listen]\nallow = 10.0.0.1/8\n",
	    ":4: [listen] allow: \"10.0.0.1/8\" has bits set after the "
	    "prefix (write the network's first address)",
	    "a bad allow entry names its line");
	want_err("[remote]\nhost = a\n[listen]\nmax_sessions = 0\n",
	    ":4: [listen] max_sessions: \"0\" is not a number from 1 to 1000",
	    "max_sessions 0");
	want_err("[remote]\nhost = a\n[listen]\nuser =\n",
	    ":4: [listen] user: must not be empty", "an empty user");
}

int
main(void)
{
	const char *mn;
	char mailname[64];

	mn = write_tmp("mail.example.org\n");
	snprintf(mailname, sizeof(mailname), "%s", mn);
	config_set_mailname_path(mailname);
	test_defaults();
	test_minimal();
	test_every_key();
	test_hosts();
	test_errors();
	test_errors_file();
	test_sender_aliases();
	test_syntax_details();
	test_print();
	test_tls();
	test_ready();
	test_owner();
	test_queue();
	test_domain();
	unlink(mailname);
	test_log();
	test_listen();
	return t_done();
}
