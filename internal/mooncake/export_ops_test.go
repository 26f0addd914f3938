package mooncake

// Captured frames of mooncake-ops.md, for the external tests that replay
// them against the sandbox master.
var (
	OpRemoveReq              = opRemoveReq
	OpRemoveLeased           = opRemoveLeased
	OpRemoveForceReq         = opRemoveForceReq
	OpRemoveOKBody           = opRemoveOKBody
	OpBatchRemoveReq         = opBatchRemoveReq
	OpBatchRemoveResp        = opBatchRemoveResp
	OpRegexReq               = opRegexReq
	OpRegexResp              = opRegexResp
	OpRegexInvalidBody       = opRegexInvalidBody
	OpRemoveAllReq           = opRemoveAllReq
	OpRemoveAllResp          = opRemoveAllResp
	OpRemoveAllForceBody     = opRemoveAllForceBody
	OpRemoveAllForceReply    = opRemoveAllForceReply
	OpTaggedBatchRemoveBody  = opTaggedBatchRemoveBody
	OpTaggedBatchRemoveReply = opTaggedBatchRemoveReply
	OpTaggedRegexBody        = opTaggedRegexBody
	OpTaggedRemoveAllBody    = opTaggedRemoveAllBody
	OpTaggedRemoveAllReply   = opTaggedRemoveAllReply
	OpTaskID                 = opTaskID
	OpExecutor               = opExecutor
	OpTaskCreatedMillis      = opTaskCreatedMillis
	OpCreateMoveReq          = opCreateMoveReq
	OpCreateMoveResp         = opCreateMoveResp
	OpQueryTaskReq           = opQueryTaskReq
	OpQueryTaskResp          = opQueryTaskResp
	OpCopyUnknownTargetBody  = opCopyUnknownTargetBody
	OpTaggedCopyTaskBody     = opTaggedCopyTaskBody
	OpTaggedMoveTaskBody     = opTaggedMoveTaskBody
	OpTaggedQueryTaskBody    = opTaggedQueryTaskBody
	OpSpecTaskIDString       = opSpecTaskIDString
	OpSegStatusReq           = opSegStatusReq
	OpSegStatusResp          = opSegStatusResp
	OpQueryIPBody            = opQueryIPBody
	OpQueryIPReply           = opQueryIPReply
)
