#include "api.h"

SMBSESS_API const char *smbsess_version(void)
{
	return SMBSESS_VERSION_STRING;
}
