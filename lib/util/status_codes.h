/*
 * The codes the library knows by name, in one list per domain.
 * X(name, value, message). Values are facts from the Windows, DCE/RPC,
 * GSS-API and Kerberos specifications; the messages are ours.
 * tests/unit/status_oracle.py checks NTSTATUS and WERROR values against
 * Samba's tables, test_status checks GSS and Kerberos against their headers.
 */

#define SMBSESS__LIB_CODES(X) \
	X(SMBSESS_E_NOMEM, 1, "out of memory") \
	X(SMBSESS_E_INVALID_ARGUMENT, 2, "invalid argument passed to the library") \
	X(SMBSESS_E_PROTOCOL, 3, "the server's answer breaks the protocol") \
	X(SMBSESS_E_TIMEOUT, 4, "the operation timed out") \
	X(SMBSESS_E_CANCELLED, 5, "the operation was cancelled") \
	X(SMBSESS_E_NOT_SUPPORTED, 6, "not supported by the server or by this library") \
	X(SMBSESS_E_LIMIT, 7, "a configured limit was exceeded") \
	X(SMBSESS_E_DISCONNECTED, 8, "the connection to the server is closed") \
	X(SMBSESS_E_BAD_SIGNATURE, 9, "a message from the server failed its signature or integrity check") \
	X(SMBSESS_E_INTERNAL, 10, "internal error in libsmbsess") \
	X(SMBSESS_E_AUTH, 11, "authentication could not be completed") \
	X(SMBSESS_E_NO_PROGRESS, 12, "the server's paging did not advance") \
	X(SMBSESS_E_HOST_NOT_FOUND, 13, "the server's name could not be resolved") \
	X(SMBSESS_E_BIND_REJECTED, 14, "the RPC server refused to bind the interface (bind_nak)") \
	X(SMBSESS_E_KERBEROS_REFUSED, 15, "the server does not accept Kerberos and the credentials forbid NTLM")

#define SMBSESS__NDR_CODES(X) \
	X(NDR_E_SHORT, 1, "NDR data ends before the item it describes") \
	X(NDR_E_ARRAY_SIZE, 2, "NDR array sizes are inconsistent with their count") \
	X(NDR_E_SWITCH, 3, "NDR union switch value is unknown or inconsistent") \
	X(NDR_E_STRING, 4, "NDR string is malformed or holds invalid characters") \
	X(NDR_E_TOO_MANY, 5, "NDR count exceeds the entry limit") \
	X(NDR_E_ALLOC_LIMIT, 6, "decoding the NDR data would exceed the memory limit") \
	X(NDR_E_DEPTH, 7, "NDR data is nested deeper than the limit") \
	X(NDR_E_POINTER, 8, "NDR pointer is missing or not allowed here") \
	X(NDR_E_TRAILING, 9, "NDR data has bytes left over after its last item") \
	X(NDR_E_RANGE, 10, "value cannot be encoded in NDR")

#define SMBSESS__NTSTATUS_CODES(X) \
	X(STATUS_SUCCESS, 0x00000000, "success") \
	X(STATUS_PENDING, 0x00000103, "the operation is still in progress") \
	X(STATUS_BUFFER_OVERFLOW, 0x80000005, "more data is available than fit in the buffer") \
	X(STATUS_NO_MORE_FILES, 0x80000006, "no more files") \
	X(STATUS_UNSUCCESSFUL, 0xC0000001, "the server reported an unspecified failure") \
	X(STATUS_NOT_IMPLEMENTED, 0xC0000002, "the server does not implement this request") \
	X(STATUS_INVALID_INFO_CLASS, 0xC0000003, "invalid information class") \
	X(STATUS_INFO_LENGTH_MISMATCH, 0xC0000004, "information length mismatch") \
	X(STATUS_ACCESS_VIOLATION, 0xC0000005, "access violation on the server") \
	X(STATUS_INVALID_HANDLE, 0xC0000008, "the file handle is not valid") \
	X(STATUS_INVALID_PARAMETER, 0xC000000D, "the server rejected a parameter as invalid") \
	X(STATUS_NO_SUCH_DEVICE, 0xC000000E, "no such device") \
	X(STATUS_NO_SUCH_FILE, 0xC000000F, "no such file") \
	X(STATUS_INVALID_DEVICE_REQUEST, 0xC0000010, "the request is not valid for this device") \
	X(STATUS_END_OF_FILE, 0xC0000011, "end of file") \
	X(STATUS_MORE_PROCESSING_REQUIRED, 0xC0000016, "authentication needs another round trip") \
	X(STATUS_NO_MEMORY, 0xC0000017, "the server is out of memory") \
	X(STATUS_ACCESS_DENIED, 0xC0000022, "access denied") \
	X(STATUS_BUFFER_TOO_SMALL, 0xC0000023, "the buffer is too small") \
	X(STATUS_OBJECT_NAME_INVALID, 0xC0000033, "the object name is not valid") \
	X(STATUS_OBJECT_NAME_NOT_FOUND, 0xC0000034, "the object name was not found (no such pipe or file)") \
	X(STATUS_OBJECT_NAME_COLLISION, 0xC0000035, "the object name already exists") \
	X(STATUS_OBJECT_PATH_NOT_FOUND, 0xC000003A, "the object path was not found") \
	X(STATUS_SHARING_VIOLATION, 0xC0000043, "sharing violation") \
	X(STATUS_FILE_LOCK_CONFLICT, 0xC0000054, "file lock conflict") \
	X(STATUS_LOCK_NOT_GRANTED, 0xC0000055, "lock not granted") \
	X(STATUS_DELETE_PENDING, 0xC0000056, "delete pending") \
	X(STATUS_NO_LOGON_SERVERS, 0xC000005E, "no logon servers are available") \
	X(STATUS_NO_SUCH_LOGON_SESSION, 0xC000005F, "no such logon session") \
	X(STATUS_PRIVILEGE_NOT_HELD, 0xC0000061, "a required privilege is not held") \
	X(STATUS_NO_SUCH_USER, 0xC0000064, "no such user") \
	X(STATUS_WRONG_PASSWORD, 0xC000006A, "wrong password") \
	X(STATUS_LOGON_FAILURE, 0xC000006D, "logon failure: unknown user name or wrong password") \
	X(STATUS_ACCOUNT_RESTRICTION, 0xC000006E, "logon refused by an account restriction") \
	X(STATUS_INVALID_LOGON_HOURS, 0xC000006F, "logon refused outside the account's logon hours") \
	X(STATUS_INVALID_WORKSTATION, 0xC0000070, "logon refused from this workstation") \
	X(STATUS_PASSWORD_EXPIRED, 0xC0000071, "the password has expired") \
	X(STATUS_ACCOUNT_DISABLED, 0xC0000072, "the account is disabled") \
	X(STATUS_INSUFFICIENT_RESOURCES, 0xC000009A, "the server has insufficient resources") \
	X(STATUS_BAD_IMPERSONATION_LEVEL, 0xC00000A5, "bad impersonation level") \
	X(STATUS_PIPE_NOT_AVAILABLE, 0xC00000AC, "the named pipe is not available") \
	X(STATUS_INVALID_PIPE_STATE, 0xC00000AD, "the named pipe is in an invalid state") \
	X(STATUS_PIPE_BUSY, 0xC00000AE, "the named pipe is busy") \
	X(STATUS_PIPE_DISCONNECTED, 0xC00000B0, "the named pipe was disconnected by the server") \
	X(STATUS_PIPE_CLOSING, 0xC00000B1, "the named pipe is closing") \
	X(STATUS_IO_TIMEOUT, 0xC00000B5, "the server timed out") \
	X(STATUS_FILE_IS_A_DIRECTORY, 0xC00000BA, "the file is a directory") \
	X(STATUS_NOT_SUPPORTED, 0xC00000BB, "the request is not supported by the server") \
	X(STATUS_INVALID_NETWORK_RESPONSE, 0xC00000C3, "invalid network response") \
	X(STATUS_NETWORK_NAME_DELETED, 0xC00000C9, "the network name was deleted") \
	X(STATUS_NETWORK_ACCESS_DENIED, 0xC00000CA, "network access denied") \
	X(STATUS_BAD_NETWORK_NAME, 0xC00000CC, "the share name does not exist on the server") \
	X(STATUS_REQUEST_NOT_ACCEPTED, 0xC00000D0, "the server accepts no more connections") \
	X(STATUS_PIPE_EMPTY, 0xC00000D9, "the named pipe is empty") \
	X(STATUS_INTERNAL_ERROR, 0xC00000E5, "internal error on the server") \
	X(STATUS_NOT_A_DIRECTORY, 0xC0000103, "not a directory") \
	X(STATUS_CANCELLED, 0xC0000120, "the request was cancelled") \
	X(STATUS_FILE_CLOSED, 0xC0000128, "the file handle was closed") \
	X(STATUS_TIME_DIFFERENCE_AT_DC, 0xC0000133, "the clocks of client and domain controller differ too much") \
	X(STATUS_REMOTE_DISCONNECT, 0xC000013C, "the server disconnected") \
	X(STATUS_PIPE_BROKEN, 0xC000014B, "the named pipe is broken") \
	X(STATUS_LOGON_TYPE_NOT_GRANTED, 0xC000015B, "this logon type is not granted to the user") \
	X(STATUS_INVALID_DEVICE_STATE, 0xC0000184, "invalid device state") \
	X(STATUS_TRUSTED_RELATIONSHIP_FAILURE, 0xC000018D, "the trust relationship failed") \
	X(STATUS_USER_SESSION_DELETED, 0xC0000203, "the SMB session was deleted by the server") \
	X(STATUS_CONNECTION_DISCONNECTED, 0xC000020C, "the connection was disconnected") \
	X(STATUS_CONNECTION_RESET, 0xC000020D, "the connection was reset") \
	X(STATUS_PASSWORD_MUST_CHANGE, 0xC0000224, "the password must be changed before logon") \
	X(STATUS_NOT_FOUND, 0xC0000225, "not found") \
	X(STATUS_ACCOUNT_LOCKED_OUT, 0xC0000234, "the account is locked out") \
	X(STATUS_CONNECTION_REFUSED, 0xC0000236, "the connection was refused") \
	X(STATUS_NETWORK_UNREACHABLE, 0xC000023C, "the network is unreachable") \
	X(STATUS_HOST_UNREACHABLE, 0xC000023D, "the host is unreachable") \
	X(STATUS_NETWORK_SESSION_EXPIRED, 0xC000035C, "the SMB session expired; authenticate again") \
	X(STATUS_DOWNGRADE_DETECTED, 0xC0000388, "a protocol downgrade was detected") \
	X(STATUS_INVALID_SIGNATURE, 0xC000A000, "the message signature is not valid") \
	X(STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP, 0xC05D0000, "no common pre-authentication integrity hash")

#define SMBSESS__WERROR_CODES(X) \
	X(ERROR_SUCCESS, 0, "success") \
	X(ERROR_INVALID_FUNCTION, 1, "invalid function") \
	X(ERROR_FILE_NOT_FOUND, 2, "no such file, or no open file with that id") \
	X(ERROR_PATH_NOT_FOUND, 3, "path not found") \
	X(ERROR_ACCESS_DENIED, 5, "access denied: administrative rights on the server are required") \
	X(ERROR_INVALID_HANDLE, 6, "invalid handle") \
	X(ERROR_NOT_ENOUGH_MEMORY, 8, "the server is out of memory") \
	X(ERROR_OUTOFMEMORY, 14, "the server is out of memory") \
	X(ERROR_NOT_SUPPORTED, 50, "the request is not supported") \
	X(ERROR_BAD_NETPATH, 53, "the network path was not found") \
	X(ERROR_NETNAME_DELETED, 64, "the network name is no longer available") \
	X(ERROR_BAD_NET_NAME, 67, "the network name cannot be found") \
	X(ERROR_INVALID_PARAMETER, 87, "the server rejected a parameter as invalid") \
	X(ERROR_CALL_NOT_IMPLEMENTED, 120, "the call is not implemented by the server") \
	X(ERROR_INSUFFICIENT_BUFFER, 122, "the buffer is too small") \
	X(ERROR_INVALID_NAME, 123, "the name is not valid") \
	X(ERROR_INVALID_LEVEL, 124, "the server does not support this information level") \
	X(ERROR_MORE_DATA, 234, "more entries are available") \
	X(ERROR_NO_MORE_ITEMS, 259, "no more entries") \
	X(ERROR_NOT_FOUND, 1168, "element not found") \
	X(ERROR_INVALID_COMPUTERNAME, 1210, "the computer name is not valid") \
	X(NERR_BufTooSmall, 2123, "the buffer is too small for the entries") \
	X(NERR_UserNotFound, 2221, "no such user") \
	X(NERR_NetNameNotFound, 2310, "the share name does not exist") \
	X(NERR_ClientNameNotFound, 2312, "no session exists with that client name") \
	X(NERR_FileIdNotFound, 2314, "there is no open file with that id") \
	X(NERR_InvalidComputer, 2351, "the computer name is not valid") \
	X(RPC_S_SERVER_UNAVAILABLE, 1722, "the RPC server is unavailable")

/* DCE/RPC fault status codes (C706 and MS-RPCE). */
#define SMBSESS__RPC_CODES(X) \
	X(nca_s_fault_access_denied, 0x00000005, "RPC fault: access denied") \
	X(nca_s_fault_ndr, 0x000006F7, "RPC fault: the server could not decode the request") \
	X(nca_s_fault_cant_perform, 0x000006D8, "RPC fault: the server cannot perform the operation") \
	X(nca_s_fault_sec_pkg_error, 0x00000721, "RPC fault: security package error") \
	X(nca_s_comm_failure, 0x1C010001, "RPC reject: communication failure") \
	X(nca_s_op_rng_error, 0x1C010002, "RPC fault: the server does not implement this operation") \
	X(nca_s_unk_if, 0x1C010003, "RPC fault: unknown interface") \
	X(nca_s_wrong_boot_time, 0x1C010006, "RPC reject: wrong boot time") \
	X(nca_s_you_crashed, 0x1C010009, "RPC reject: the call was rejected") \
	X(nca_s_proto_error, 0x1C01000B, "RPC fault: protocol error") \
	X(nca_s_out_args_too_big, 0x1C010013, "RPC fault: the answer is too large") \
	X(nca_s_server_too_busy, 0x1C010014, "RPC fault: the server is too busy") \
	X(nca_s_unsupported_type, 0x1C010017, "RPC fault: unsupported type") \
	X(nca_s_fault_int_div_by_zero, 0x1C000001, "RPC fault: integer division by zero on the server") \
	X(nca_s_fault_addr_error, 0x1C000002, "RPC fault: address error on the server") \
	X(nca_s_fault_invalid_tag, 0x1C000006, "RPC fault: invalid union tag") \
	X(nca_s_fault_invalid_bound, 0x1C000007, "RPC fault: invalid array bound") \
	X(nca_s_fault_context_mismatch, 0x1C00001A, "RPC fault: context handle mismatch") \
	X(nca_s_fault_remote_no_memory, 0x1C00001B, "RPC fault: the server is out of memory") \
	X(nca_s_fault_unspec, 0x1C000012, "RPC fault: unspecified") \
	X(nca_s_fault_cancel, 0x1C00000D, "RPC fault: the call was cancelled") \
	X(nca_s_fault_fp_div_zero, 0x1C000003, "RPC fault: floating-point division by zero on the server") \
	X(nca_s_fault_fp_underflow, 0x1C000004, "RPC fault: floating-point underflow on the server") \
	X(nca_s_fault_fp_overflow, 0x1C000005, "RPC fault: floating-point overflow on the server") \
	X(nca_rpc_version_mismatch, 0x1C000008, "RPC reject: the server does not speak this RPC protocol version") \
	X(nca_unspec_reject, 0x1C000009, "RPC reject: the server rejected the call for an unspecified reason") \
	X(nca_s_bad_actid, 0x1C00000A, "RPC reject: unknown activity id") \
	X(nca_who_are_you_failed, 0x1C00000B, "RPC reject: the server could not verify the client") \
	X(nca_manager_not_entered, 0x1C00000C, "RPC reject: the server did not run the operation") \
	X(nca_s_fault_ill_inst, 0x1C00000E, "RPC fault: illegal instruction on the server") \
	X(nca_s_fault_fp_error, 0x1C00000F, "RPC fault: floating-point error on the server") \
	X(nca_s_fault_int_overflow, 0x1C000010, "RPC fault: integer overflow on the server") \
	X(nca_s_fault_remote_comm_failure, 0x1C000013, "RPC fault: the server failed to reach another server") \
	X(nca_s_fault_pipe_empty, 0x1C000014, "RPC fault: pipe empty") \
	X(nca_s_fault_pipe_closed, 0x1C000015, "RPC fault: pipe closed") \
	X(nca_s_fault_pipe_order, 0x1C000016, "RPC fault: pipe used out of order") \
	X(nca_s_fault_pipe_discipline, 0x1C000017, "RPC fault: pipe discipline error") \
	X(nca_s_fault_pipe_comm_error, 0x1C000018, "RPC fault: pipe communication error") \
	X(nca_s_fault_pipe_memory, 0x1C000019, "RPC fault: pipe out of memory") \
	X(nca_invalid_pres_context_id, 0x1C00001C, "RPC reject: the presentation context is not bound") \
	X(nca_unsupported_authn_level, 0x1C00001D, "RPC reject: the authentication level is not supported") \
	X(nca_invalid_checksum, 0x1C00001F, "RPC reject: invalid checksum") \
	X(nca_invalid_crc, 0x1C000020, "RPC reject: invalid CRC") \
	X(nca_s_fault_user_defined, 0x1C000021, "RPC fault: an error defined by the interface") \
	X(nca_s_fault_tx_open_failed, 0x1C000022, "RPC fault: the server could not open a transaction") \
	X(nca_s_fault_codeset_conv_error, 0x1C000023, "RPC fault: character set conversion failed on the server") \
	X(nca_s_fault_object_not_found, 0x1C000024, "RPC fault: the object was not found") \
	X(nca_s_fault_no_client_stub, 0x1C000025, "RPC fault: no client stub for the callback")

#define SMBSESS__GSS_CODES(X) \
	X(GSS_S_BAD_MECH, 0x00010000, "GSS-API: the requested mechanism is not supported") \
	X(GSS_S_BAD_NAME, 0x00020000, "GSS-API: the target name is not valid") \
	X(GSS_S_BAD_NAMETYPE, 0x00030000, "GSS-API: the name type is not supported") \
	X(GSS_S_BAD_BINDINGS, 0x00040000, "GSS-API: channel bindings mismatch") \
	X(GSS_S_BAD_STATUS, 0x00050000, "GSS-API: invalid status code") \
	X(GSS_S_BAD_SIG, 0x00060000, "GSS-API: a token has a bad integrity check") \
	X(GSS_S_NO_CRED, 0x00070000, "GSS-API: no credentials: no Kerberos ticket or credentials cache") \
	X(GSS_S_NO_CONTEXT, 0x00080000, "GSS-API: no security context") \
	X(GSS_S_DEFECTIVE_TOKEN, 0x00090000, "GSS-API: the token is defective") \
	X(GSS_S_DEFECTIVE_CREDENTIAL, 0x000A0000, "GSS-API: the credential is defective") \
	X(GSS_S_CREDENTIALS_EXPIRED, 0x000B0000, "GSS-API: the credentials have expired") \
	X(GSS_S_CONTEXT_EXPIRED, 0x000C0000, "GSS-API: the security context has expired") \
	X(GSS_S_FAILURE, 0x000D0000, "GSS-API: failure in the mechanism (Kerberos)") \
	X(GSS_S_BAD_QOP, 0x000E0000, "GSS-API: the quality of protection is not supported") \
	X(GSS_S_UNAUTHORIZED, 0x000F0000, "GSS-API: the operation is not authorized") \
	X(GSS_S_UNAVAILABLE, 0x00100000, "GSS-API: the operation is unavailable") \
	X(GSS_S_DUPLICATE_ELEMENT, 0x00110000, "GSS-API: duplicate credential element") \
	X(GSS_S_NAME_NOT_MN, 0x00120000, "GSS-API: the name is not a mechanism name")

/* krb5 codes are negative as C longs; stored here as their 32-bit pattern. */
#define SMBSESS__KRB5_CODES(X) \
	X(KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN, 0x96C73A06, "Kerberos: the client principal is unknown to the KDC") \
	X(KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, 0x96C73A07, "Kerberos: the server principal (SPN) is unknown to the KDC") \
	X(KRB5KDC_ERR_PREAUTH_FAILED, 0x96C73A18, "Kerberos: pre-authentication failed (wrong password?)") \
	X(KRB5KRB_AP_ERR_TKT_EXPIRED, 0x96C73A20, "Kerberos: the ticket has expired") \
	X(KRB5KRB_AP_ERR_SKEW, 0x96C73A25, "Kerberos: the clocks of client and server differ too much") \
	X(KRB5_CC_NOTFOUND, 0x96C73A8D, "Kerberos: no matching credentials in the cache") \
	X(KRB5_KDC_UNREACH, 0x96C73A9C, "Kerberos: cannot reach any KDC for the realm") \
	X(KRB5_FCC_NOFILE, 0x96C73AC3, "Kerberos: no credentials cache found")
