/* Prints every named status code as "DOMAIN NAME 0xCODE", for tests/unit/status_oracle.py. */
#include <inttypes.h>
#include <stdio.h>

#include "util/util.h"

int main(void)
{
	for (uint32_t d = SMBSESS_DOMAIN_LIBRARY; d <= SMBSESS_DOMAIN_KRB5; d++) {
		const char *name;
		uint32_t code;

		for (size_t i = 0; smbsess__status_table_entry(d, i, &name, &code); i++)
			printf("%s %s 0x%08" PRIX32 "\n", smbsess__domain_name(d), name, code);
	}
	return 0;
}
