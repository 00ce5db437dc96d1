/*
 * libsmbsess - manage the SMB sessions and open files of Windows and Samba
 * file servers.
 *
 * The one header to include. Link with the flags of `pkg-config --libs smbsess`.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_SMBSESS_H
#define SMBSESS_SMBSESS_H

#include <smbsess/common.h>
#include <smbsess/version.h>
#include <smbsess/status.h>
#include <smbsess/client.h>
#include <smbsess/server.h>

#endif /* SMBSESS_SMBSESS_H */
