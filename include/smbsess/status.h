/*
 * libsmbsess - the status type.
 *
 * Every function of the library that can fail reports a struct smbsess_status.
 * A status keeps the domain its code comes from, so that an NTSTATUS from the
 * SMB server, a WERROR from the srvsvc service, a DCE/RPC fault, an errno from
 * the operating system and a Kerberos error stay distinguishable, and every
 * status has a name and a message.
 *
 * SPDX-License-Identifier: LGPL-3.0-or-later
 */
#ifndef SMBSESS_STATUS_H
#define SMBSESS_STATUS_H

#include <smbsess/common.h>

SMBSESS_BEGIN_DECLS

/** Where a status code comes from. Values are never renumbered. */
enum smbsess_domain {
	SMBSESS_DOMAIN_OK = 0,       /**< success; code is 0 */
	SMBSESS_DOMAIN_LIBRARY = 1,  /**< libsmbsess itself: enum smbsess_lib_code */
	SMBSESS_DOMAIN_ERRNO = 2,    /**< an errno value from the operating system */
	SMBSESS_DOMAIN_NTSTATUS = 3, /**< an NTSTATUS from the SMB server */
	SMBSESS_DOMAIN_WERROR = 4,   /**< a Win32/NERR error from the RPC service */
	SMBSESS_DOMAIN_NDR = 5,      /**< malformed NDR data: enum smbsess_ndr_code */
	SMBSESS_DOMAIN_RPC = 6,      /**< a DCE/RPC fault or reject status */
	SMBSESS_DOMAIN_GSS = 7,      /**< a GSS-API major status */
	SMBSESS_DOMAIN_KRB5 = 8      /**< a Kerberos (krb5/com_err) error code */
};

/** Codes of SMBSESS_DOMAIN_LIBRARY. Values are never renumbered or reused. */
enum smbsess_lib_code {
	SMBSESS_E_NOMEM = 1,            /**< out of memory */
	SMBSESS_E_INVALID_ARGUMENT = 2, /**< a caller passed an invalid argument */
	SMBSESS_E_PROTOCOL = 3,         /**< the peer broke the protocol */
	SMBSESS_E_TIMEOUT = 4,          /**< the operation timed out */
	SMBSESS_E_CANCELLED = 5,        /**< the operation was cancelled */
	SMBSESS_E_NOT_SUPPORTED = 6,    /**< the peer or library lacks a feature */
	SMBSESS_E_LIMIT = 7,            /**< a configured limit was exceeded */
	SMBSESS_E_DISCONNECTED = 8,     /**< the connection is closed */
	SMBSESS_E_BAD_SIGNATURE = 9,    /**< a message failed its integrity check */
	SMBSESS_E_INTERNAL = 10,        /**< an internal invariant failed (a bug) */
	SMBSESS_E_AUTH = 11,            /**< authentication could not be completed */
	SMBSESS_E_NO_PROGRESS = 12,     /**< a peer's paging never advanced */
	SMBSESS_E_HOST_NOT_FOUND = 13,  /**< the server's name could not be resolved */
	SMBSESS_E_BIND_REJECTED = 14,   /**< the RPC server refused to bind the interface */
	SMBSESS_E_KERBEROS_REFUSED = 15 /**< the server will not do Kerberos, and NTLM is forbidden */
};

/** Codes of SMBSESS_DOMAIN_NDR. Values are never renumbered or reused. */
enum smbsess_ndr_code {
	SMBSESS_NDR_E_SHORT = 1,       /**< data ends before the item does */
	SMBSESS_NDR_E_ARRAY_SIZE = 2,  /**< size_is/length_is disagree with the count */
	SMBSESS_NDR_E_SWITCH = 3,      /**< unknown or inconsistent union switch */
	SMBSESS_NDR_E_STRING = 4,      /**< malformed string or invalid character data */
	SMBSESS_NDR_E_TOO_MANY = 5,    /**< a count above the entry limit */
	SMBSESS_NDR_E_ALLOC_LIMIT = 6, /**< decoding would exceed the memory limit */
	SMBSESS_NDR_E_DEPTH = 7,       /**< nesting deeper than the limit */
	SMBSESS_NDR_E_POINTER = 8,     /**< a referent id where none may be, or missing */
	SMBSESS_NDR_E_TRAILING = 9,    /**< bytes left over after the last item */
	SMBSESS_NDR_E_RANGE = 10       /**< a value outside what can be encoded */
};

/**
 * A status: a domain and a code in it. {SMBSESS_DOMAIN_OK, 0} is success.
 * Passed and returned by value; it owns nothing.
 */
struct smbsess_status {
	uint32_t domain; /**< enum smbsess_domain */
	uint32_t code;   /**< the code within the domain */
};

/** Returns non-zero when @p st is success. */
SMBSESS_API int smbsess_status_is_ok(struct smbsess_status st);

/**
 * The symbolic name of a status, such as "STATUS_LOGON_FAILURE",
 * "ERROR_ACCESS_DENIED" or "ECONNREFUSED". Never NULL; for a code the
 * library does not know, a name for its domain such as "NTSTATUS_UNKNOWN".
 * The string is static: do not free it.
 */
SMBSESS_API const char *smbsess_status_name(struct smbsess_status st);

/**
 * A sentence in plain words that says what the status means. Never NULL.
 * The string is static: do not free it.
 */
SMBSESS_API const char *smbsess_status_message(struct smbsess_status st);

/** The name of a domain ("NTSTATUS", "WERROR", ...). Never NULL; static. */
SMBSESS_API const char *smbsess_domain_name(uint32_t domain);

/**
 * Writes "NAME (DOMAIN 0xCODE): message" into @p buf, always NUL-terminated
 * when @p size > 0, truncated if it does not fit. Returns @p buf.
 * The caller owns @p buf.
 */
SMBSESS_API char *smbsess_status_describe(struct smbsess_status st, char *buf, size_t size);

SMBSESS_END_DECLS

#endif /* SMBSESS_STATUS_H */
