/* SPDX-License-Identifier: ISC (see LICENSE) */
/*
 * fdio.c: whole writes to local files; bounded waits on a descriptor.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "postern/fdio.h"

int
fdio_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

long long
fdio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
fdio_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int r;

	do {
		left = deadline - fdio_now_ms();
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left < 0 ? 0 : (int)left);
	} while (r == -1 && errno == EINTR);
	return r > 0 ? 1 : r;
}
