/*
 * libsmbsess - library version.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_VERSION_H
#define SMBSESS_VERSION_H

#include <smbsess/common.h>

SMBSESS_BEGIN_DECLS

/** The version of the headers compiled against. */
#define SMBSESS_VERSION_MAJOR 0
#define SMBSESS_VERSION_MINOR 2
#define SMBSESS_VERSION_PATCH 0

/**
 * The version of the library loaded at run time, as "MAJOR.MINOR.PATCH".
 * Static string: do not free it.
 */
SMBSESS_API const char *smbsess_version(void);

SMBSESS_END_DECLS

#endif /* SMBSESS_VERSION_H */
