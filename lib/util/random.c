/* Randomness for nonces, salts, client challenges and keys: the kernel's. */
#include <errno.h>
#include <sys/random.h>

#include "util.h"

struct smbsess_status smbsess__random_bytes(uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return SMBSESS__ST_ERRNO(errno);
		}
		p += got;
		n -= (size_t)got;
	}
	return SMBSESS__OK;
}
