/*
 * fdio.c: whole writes to local files.
 */
#include <errno.h>
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
