/*
 * Exported status functions: thin wrappers over lib/util.
 */
#include "api.h"

SMBSESS_API int smbsess_status_is_ok(struct smbsess_status st)
{
	return smbsess__st_ok(st);
}

SMBSESS_API const char *smbsess_status_name(struct smbsess_status st)
{
	return smbsess__status_name(st);
}

SMBSESS_API const char *smbsess_status_message(struct smbsess_status st)
{
	return smbsess__status_message(st);
}

SMBSESS_API const char *smbsess_domain_name(uint32_t domain)
{
	return smbsess__domain_name(domain);
}

SMBSESS_API char *smbsess_status_describe(struct smbsess_status st, char *buf, size_t size)
{
	return smbsess__status_describe(st, buf, size);
}
