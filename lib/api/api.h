/*
 * lib/api: the only layer that exports symbols. Every exported function is
 * declared in include/smbsess/ with SMBSESS_API and listed in libsmbsess.map.
 */
#ifndef SMBSESS_LIB_API_H
#define SMBSESS_LIB_API_H

#include <smbsess/smbsess.h>

#include "../util/util.h"

#endif
