/*
 * libsmbsess - common definitions shared by every public header.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_COMMON_H
#define SMBSESS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(SMBSESS_BUILDING_LIBRARY) && defined(__GNUC__)
/* Marks a function that is part of the exported ABI. */
#define SMBSESS_API __attribute__((visibility("default")))
#else
#define SMBSESS_API
#endif

#ifdef __cplusplus
#define SMBSESS_BEGIN_DECLS extern "C" {
#define SMBSESS_END_DECLS }
#else
#define SMBSESS_BEGIN_DECLS
#define SMBSESS_END_DECLS
#endif

#endif /* SMBSESS_COMMON_H */
