// ErrorCode table transcribed from the wire spec (§3.4) and Mooncake types.h.

package mooncake

// Mooncake ErrorCode values (enum class ErrorCode : int32_t).
const (
	CodeOK                         ErrorCode = 0
	CodeInternalError              ErrorCode = -1
	CodeBufferOverflow             ErrorCode = -10
	CodeShardIndexOutOfRange       ErrorCode = -100
	CodeSegmentNotFound            ErrorCode = -101
	CodeSegmentAlreadyExists       ErrorCode = -102
	CodeClientNotFound             ErrorCode = -103
	CodeNoAvailableHandle          ErrorCode = -200
	CodeInvalidVersion             ErrorCode = -300
	CodeInvalidKey                 ErrorCode = -400
	CodeWriteFail                  ErrorCode = -500
	CodeInvalidParams              ErrorCode = -600
	CodeIllegalClient              ErrorCode = -601
	CodeInvalidWrite               ErrorCode = -700
	CodeInvalidRead                ErrorCode = -701
	CodeInvalidReplica             ErrorCode = -702
	CodeReplicaIsNotReady          ErrorCode = -703
	CodeObjectNotFound             ErrorCode = -704
	CodeObjectAlreadyExists        ErrorCode = -705
	CodeObjectHasLease             ErrorCode = -706
	CodeLeaseExpired               ErrorCode = -707
	CodeObjectHasReplicationTask   ErrorCode = -708
	CodeObjectNoReplicationTask    ErrorCode = -709
	CodeReplicaNotFound            ErrorCode = -710
	CodeReplicaAlreadyExists       ErrorCode = -711
	CodeReplicaIsGone              ErrorCode = -712
	CodeReplicaNotInLocalMemory    ErrorCode = -713
	CodeObjectReplicaBusy          ErrorCode = -714
	CodeTransferFail               ErrorCode = -800
	CodeChecksumMismatch           ErrorCode = -801
	CodeRPCFail                    ErrorCode = -900
	CodeRPCTimeout                 ErrorCode = -901
	CodeEtcdOperationError         ErrorCode = -1000
	CodeEtcdKeyNotExist            ErrorCode = -1001
	CodeEtcdTransactionFail        ErrorCode = -1002
	CodeEtcdCtxCancelled           ErrorCode = -1003
	CodeOplogEntryNotFound         ErrorCode = -1004
	CodeK8sLeaseOperationError     ErrorCode = -1005
	CodeK8sLeaseNotFound           ErrorCode = -1006
	CodeIncompleteOplogCatchUp     ErrorCode = -1007
	CodeUnavailableInCurrentStatus ErrorCode = -1010
	CodeUnavailableInCurrentMode   ErrorCode = -1011
	CodeNotSupported               ErrorCode = -1012
	CodeFileNotFound               ErrorCode = -1100
	CodeFileOpenFail               ErrorCode = -1101
	CodeFileReadFail               ErrorCode = -1102
	CodeFileWriteFail              ErrorCode = -1103
	CodeFileInvalidBuffer          ErrorCode = -1104
	CodeFileLockFail               ErrorCode = -1105
	CodeFileInvalidHandle          ErrorCode = -1106
	CodeBucketNotFound             ErrorCode = -1200
	CodeBucketAlreadyExists        ErrorCode = -1201
	CodeKeysExceedBucketLimit      ErrorCode = -1202
	CodeKeysUltraLimit             ErrorCode = -1203
	CodeUnableOffload              ErrorCode = -1300
	CodeUnableOffloading           ErrorCode = -1301
	CodeTaskNotFound               ErrorCode = -1400
	CodeTaskPendingLimitExceeded   ErrorCode = -1401
	CodeJobNotFound                ErrorCode = -1402
	CodeSerializeUnsupported       ErrorCode = -1500
	CodeSerializeFail              ErrorCode = -1501
	CodeDeserializeFail            ErrorCode = -1502
	CodePersistentFail             ErrorCode = -1503
	CodeDFSNetworkTimeout          ErrorCode = -1600
	CodeDFSServiceUnavailable      ErrorCode = -1601
	CodeDFSQuotaExceeded           ErrorCode = -1602
	CodeDFSPermissionDenied        ErrorCode = -1603
	CodeDFSStaleHandle             ErrorCode = -1604
	CodeDFSPartialWrite            ErrorCode = -1605
	CodeTenantQuotaExceeded        ErrorCode = -1700
	CodeTenantNotRegistered        ErrorCode = -1701
	CodeTenantNotEmpty             ErrorCode = -1702
)

// errorCodeNames names every code. It is an array, not a map, so that it is
// static data (a map is built when the program starts).
var errorCodeNames = [...]struct {
	code ErrorCode
	name string
}{
	{CodeOK, "OK"},
	{CodeInternalError, "INTERNAL_ERROR"},
	{CodeBufferOverflow, "BUFFER_OVERFLOW"},
	{CodeShardIndexOutOfRange, "SHARD_INDEX_OUT_OF_RANGE"},
	{CodeSegmentNotFound, "SEGMENT_NOT_FOUND"},
	{CodeSegmentAlreadyExists, "SEGMENT_ALREADY_EXISTS"},
	{CodeClientNotFound, "CLIENT_NOT_FOUND"},
	{CodeNoAvailableHandle, "NO_AVAILABLE_HANDLE"},
	{CodeInvalidVersion, "INVALID_VERSION"},
	{CodeInvalidKey, "INVALID_KEY"},
	{CodeWriteFail, "WRITE_FAIL"},
	{CodeInvalidParams, "INVALID_PARAMS"},
	{CodeIllegalClient, "ILLEGAL_CLIENT"},
	{CodeInvalidWrite, "INVALID_WRITE"},
	{CodeInvalidRead, "INVALID_READ"},
	{CodeInvalidReplica, "INVALID_REPLICA"},
	{CodeReplicaIsNotReady, "REPLICA_IS_NOT_READY"},
	{CodeObjectNotFound, "OBJECT_NOT_FOUND"},
	{CodeObjectAlreadyExists, "OBJECT_ALREADY_EXISTS"},
	{CodeObjectHasLease, "OBJECT_HAS_LEASE"},
	{CodeLeaseExpired, "LEASE_EXPIRED"},
	{CodeObjectHasReplicationTask, "OBJECT_HAS_REPLICATION_TASK"},
	{CodeObjectNoReplicationTask, "OBJECT_NO_REPLICATION_TASK"},
	{CodeReplicaNotFound, "REPLICA_NOT_FOUND"},
	{CodeReplicaAlreadyExists, "REPLICA_ALREADY_EXISTS"},
	{CodeReplicaIsGone, "REPLICA_IS_GONE"},
	{CodeReplicaNotInLocalMemory, "REPLICA_NOT_IN_LOCAL_MEMORY"},
	{CodeObjectReplicaBusy, "OBJECT_REPLICA_BUSY"},
	{CodeTransferFail, "TRANSFER_FAIL"},
	{CodeChecksumMismatch, "CHECKSUM_MISMATCH"},
	{CodeRPCFail, "RPC_FAIL"},
	{CodeRPCTimeout, "RPC_TIMEOUT"},
	{CodeEtcdOperationError, "ETCD_OPERATION_ERROR"},
	{CodeEtcdKeyNotExist, "ETCD_KEY_NOT_EXIST"},
	{CodeEtcdTransactionFail, "ETCD_TRANSACTION_FAIL"},
	{CodeEtcdCtxCancelled, "ETCD_CTX_CANCELLED"},
	{CodeOplogEntryNotFound, "OPLOG_ENTRY_NOT_FOUND"},
	{CodeK8sLeaseOperationError, "K8S_LEASE_OPERATION_ERROR"},
	{CodeK8sLeaseNotFound, "K8S_LEASE_NOT_FOUND"},
	{CodeIncompleteOplogCatchUp, "INCOMPLETE_OPLOG_CATCH_UP"},
	{CodeUnavailableInCurrentStatus, "UNAVAILABLE_IN_CURRENT_STATUS"},
	{CodeUnavailableInCurrentMode, "UNAVAILABLE_IN_CURRENT_MODE"},
	{CodeNotSupported, "NOT_SUPPORTED"},
	{CodeFileNotFound, "FILE_NOT_FOUND"},
	{CodeFileOpenFail, "FILE_OPEN_FAIL"},
	{CodeFileReadFail, "FILE_READ_FAIL"},
	{CodeFileWriteFail, "FILE_WRITE_FAIL"},
	{CodeFileInvalidBuffer, "FILE_INVALID_BUFFER"},
	{CodeFileLockFail, "FILE_LOCK_FAIL"},
	{CodeFileInvalidHandle, "FILE_INVALID_HANDLE"},
	{CodeBucketNotFound, "BUCKET_NOT_FOUND"},
	{CodeBucketAlreadyExists, "BUCKET_ALREADY_EXISTS"},
	{CodeKeysExceedBucketLimit, "KEYS_EXCEED_BUCKET_LIMIT"},
	{CodeKeysUltraLimit, "KEYS_ULTRA_LIMIT"},
	{CodeUnableOffload, "UNABLE_OFFLOAD"},
	{CodeUnableOffloading, "UNABLE_OFFLOADING"},
	{CodeTaskNotFound, "TASK_NOT_FOUND"},
	{CodeTaskPendingLimitExceeded, "TASK_PENDING_LIMIT_EXCEEDED"},
	{CodeJobNotFound, "JOB_NOT_FOUND"},
	{CodeSerializeUnsupported, "SERIALIZE_UNSUPPORTED"},
	{CodeSerializeFail, "SERIALIZE_FAIL"},
	{CodeDeserializeFail, "DESERIALIZE_FAIL"},
	{CodePersistentFail, "PERSISTENT_FAIL"},
	{CodeDFSNetworkTimeout, "DFS_NETWORK_TIMEOUT"},
	{CodeDFSServiceUnavailable, "DFS_SERVICE_UNAVAILABLE"},
	{CodeDFSQuotaExceeded, "DFS_QUOTA_EXCEEDED"},
	{CodeDFSPermissionDenied, "DFS_PERMISSION_DENIED"},
	{CodeDFSStaleHandle, "DFS_STALE_HANDLE"},
	{CodeDFSPartialWrite, "DFS_PARTIAL_WRITE"},
	{CodeTenantQuotaExceeded, "TENANT_QUOTA_EXCEEDED"},
	{CodeTenantNotRegistered, "TENANT_NOT_REGISTERED"},
	{CodeTenantNotEmpty, "TENANT_NOT_EMPTY"},
}
