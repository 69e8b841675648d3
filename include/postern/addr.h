/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * addr.h: RFC 5322 address lists, as found in argv, -f and headers.
 *
 * A list is parsed into its mailboxes (groups are flattened; the empty
 * group "undisclosed-recipients:;" yields nothing).  Each mailbox keeps its
 * display name, its addr-spec and where that addr-spec stands in the source
 * text, so that a header can be rewritten by splicing only the address and
 * leaving the author's names, comments and spacing alone.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stddef.h>

struct err;

#define ADDR_SPEC_MAX	 998	/* longest addr-spec accepted */
#define ADDR_LIST_MAX	 10000	/* most mailboxes in one list */

struct addr {
	char	*name;		/* display name, unquoted; NULL if none */
	char	*spec;		/* "local@domain", bare "local", or "" for <> */
	size_t	 off;		/* offset of the addr-spec in the source */
	size_t	 len;		/* its length there (0 for <>) */
	int	 angle;		/* written as <...> */
};

struct addr_list {
	struct addr	*v;
	size_t		 n;
	size_t		 cap;
};

/*
 * Parse an address list: "a@x, Name <b@y>, c@z (comment), root,".  Empty
 * elements (a trailing comma, ", ,") are skipped.  Quoted local parts,
 * domain literals and comments are understood; unbalanced quotes, angle
 * brackets or parentheses, an addr-spec longer than ADDR_SPEC_MAX, a
 * control byte in a quoted string, a domain literal or a comment, or a
 * TAB in an addr-spec (a TAB elsewhere is white space), fail with
 * ERR_DATA.  Appends to out (which must be zeroed or already used).
 * On failure out is left as it was given (ERR_DATA text: bad address
 * "<the element>": <why>).  Folding (CRLF or LF then white space) is white
 * space, and a line end at the very end of the text is ignored; any other
 * CR or LF is an error.  "<>" is an error here (only a sender may be
 * null).  An obsolete route "<@r1,@r2:a@x>" is dropped from spec; off/len
 * then cover the route too, so a splice replaces the whole inside of <>.
 * A group without its final ';' at the end of the text is accepted.
 */
int	 addr_parse_list(const char *, size_t, struct addr_list *, struct err *);
/*
 * Parse an envelope sender as given to -f/-r: the first mailbox of a list;
 * "<>" or "" gives the null sender "".  *spec is malloc'd.
 */
int	 addr_parse_sender(const char *, char **spec, struct err *);
void	 addr_list_free(struct addr_list *);

/* 1 when spec has no '@' (a bare local name such as "root"). */
int	 addr_is_local(const char *spec);
/*
 * 0 when the addr-spec (n octets) can travel in an SMTP path and be
 * written to and read back from a queue file: at most ADDR_SPEC_MAX
 * octets, no control byte (0x00-0x1f, 0x7f).  The parser refuses what
 * fails it, and the spool writer checks it again, so that nothing is
 * accepted that cannot be delivered.
 */
int	 addr_spec_ok(const char *spec, size_t n);
/* 1 when spec contains a byte >= 0x80 (needs SMTPUTF8 in the envelope). */
int	 addr_is_8bit(const char *spec);

struct addr_alias {
	char	*name;		/* local name, compared case-insensitively */
	char	*addr;		/* replacement addr-spec */
};

struct addr_rewrite {
	const char		*domain;	/* qualifying domain */
	const struct addr_alias	*aliases;
	size_t			 naliases;
	const char		*alias_default;	/* NULL: none */
};

/*
 * Rewrite one addr-spec: a bare local name is looked up in the aliases
 * (then alias_default), else qualified as name@domain; an address with a
 * domain, or the null sender "", is returned unchanged.  Returns a malloc'd
 * string, or NULL with errno set.
 */
char	*addr_rewrite(const char *spec, const struct addr_rewrite *);

#endif
