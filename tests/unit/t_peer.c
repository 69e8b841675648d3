/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * t_peer.c: client addresses, the [listen] allow list and the rule that
 * keeps postern from being an open relay (peer.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "postern/peer.h"
#include "t.h"

static struct sockaddr_storage t_ss;

/* "192.0.2.1" or "2001:db8::1" with a port, as a socket address. */
static const struct sockaddr *
sa(const char *addr, unsigned int port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t_ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t_ss;

	memset(&t_ss, 0, sizeof(t_ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
	}
	return (const struct sockaddr *)&t_ss;
}

static int
parse_fails(const char *list, const char *want)
{
	struct peer_allow a;
	char why[256] = "";

	return peer_allow_parse(list, &a, why, sizeof(why)) == -1 &&
	    strstr(why, want) != NULL;
}

static void
t_parse(void)
{
	struct peer_allow a;
	char why[256];

	T_OK(peer_allow_parse(NULL, &a, why, sizeof(why)) == 0 && a.n == 0,
	    "no allow list: no network");
	T_OK(peer_allow_parse(" 192.0.2.0/24,2001:db8::/32 , 198.51.100.7,", &a,
		 why, sizeof(why)) == 0 &&
		a.n == 3,
	    "a list with spaces and a trailing comma");
	T_OK(a.nets[0].family == AF_INET && a.nets[0].bits == 24,
	    "IPv4 network and prefix");
	T_OK(a.nets[1].family == AF_INET6 && a.nets[1].bits == 32,
	    "IPv6 network and prefix");
	T_OK(a.nets[2].bits == 32, "a bare address is one host");
	T_OK(parse_fails("192.0.2.1/24", "bits set after the prefix"),
	    "host bits below the prefix are refused");
	T_OK(parse_fails("0.0.0.0/0", "never an open relay"), "/0 is refused");
	T_OK(parse_fails("::/0", "never an open relay"), "::/0 is refused");
	T_OK(parse_fails("192.0.2.0/33", "prefix length is 0 to 32"),
	    "a prefix too long");
	T_OK(parse_fails("192.0.2.0/", "prefix length"), "an empty prefix");
	T_OK(parse_fails("example.com", "not an IPv4 or IPv6 address"),
	    "a name is not a network");
	T_OK(parse_fails("192.0.2.0/24 10.0.0.0/8",
		 "separate networks with commas"),
	    "a space is no separator");
}

static void
t_allowed(void)
{
	struct peer_allow a;
	struct sockaddr_un un;
	char why[256];

	peer_allow_parse("192.0.2.0/25, 2001:db8:1::/48, 198.51.100.0/23", &a,
	    why, sizeof(why));
	T_OK(peer_allowed(&a, sa("192.0.2.1", 1)), "inside a /25");
	T_OK(peer_allowed(&a, sa("192.0.2.127", 1)), "last of a /25");
	T_OK(!peer_allowed(&a, sa("192.0.2.128", 1)), "just outside a /25");
	T_OK(peer_allowed(&a, sa("198.51.101.9", 1)), "inside a /23");
	T_OK(!peer_allowed(&a, sa("198.51.102.9", 1)), "outside a /23");
	T_OK(peer_allowed(&a, sa("2001:db8:1:ffff::5", 1)), "inside a /48");
	T_OK(!peer_allowed(&a, sa("2001:db8:2::5", 1)), "outside a /48");
	T_OK(peer_allowed(&a, sa("::ffff:192.0.2.3", 1)),
	    "an IPv4-mapped client matches its IPv4 network");
	T_OK(!peer_allowed(&a, sa("203.0.113.1", 1)), "another network");
	T_OK(peer_allowed(NULL, sa("127.0.0.2", 1)), "127/8 always");
	T_OK(peer_allowed(NULL, sa("::1", 1)), "::1 always");
	T_OK(peer_allowed(NULL, sa("::ffff:127.0.0.1", 1)),
	    "IPv4-mapped loopback always");
	T_OK(!peer_allowed(NULL, sa("192.0.2.1", 1)), "no list: only loopback");
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	T_OK(peer_allowed(NULL, (struct sockaddr *)&un),
	    "a local socket always");
}

static void
t_addresses(void)
{
	struct sockaddr_storage a;
	char buf[PEER_TEXT_MAX];

	peer_format(sa("192.0.2.1", 25), buf, sizeof(buf));
	T_STR(buf, "192.0.2.1:25", "IPv4 as text");
	peer_format(sa("2001:db8::1", 587), buf, sizeof(buf));
	T_STR(buf, "[2001:db8::1]:587", "IPv6 as text");
	peer_format(sa("::ffff:192.0.2.9", 25), buf, sizeof(buf));
	T_STR(buf, "192.0.2.9:25", "IPv4-mapped as IPv4");
	T_OK(peer_is_any(sa("0.0.0.0", 25)) && peer_is_any(sa("::", 25)) &&
		!peer_is_any(sa("127.0.0.1", 25)),
	    "wildcard addresses");
	T_OK(peer_is_loopback(sa("127.255.0.1", 0)) &&
		!peer_is_loopback(sa("128.0.0.1", 0)) &&
		!peer_is_loopback(sa("::2", 0)),
	    "loopback addresses");
	memcpy(&a, sa("127.0.0.1", 25), sizeof(a));
	T_OK(peer_same((struct sockaddr *)&a, sa("::ffff:127.0.0.1", 25)),
	    "the same address and port across families");
	memcpy(&a, sa("127.0.0.1", 25), sizeof(a));
	T_OK(!peer_same((struct sockaddr *)&a, sa("127.0.0.1", 26)),
	    "another port is another address");
	T_OK(peer_port(sa("::1", 2525)) == 2525, "port");
}

int
main(void)
{
	t_parse();
	t_allowed();
	t_addresses();
	return t_done();
}
