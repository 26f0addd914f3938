package mooncake

// Captured frames of the spec, exported for the external tests that run
// them against the fake master.
var (
	CapServiceReadyReq  = capServiceReadyReq
	CapServiceReadyResp = capServiceReadyResp
	CapPingReq          = capPingReq
	CapPingResp         = capPingResp
	CapNotRegistered    = capNotRegistered
	CapInvalidArgBody   = capInvalidArgBody
	CapBatchExistReq    = capBatchExistReq
	CapBatchExistResp   = capBatchExistResp
	CapBatchExistBody   = capBatchExistBody
	CapCID              = capCID
	CapMountBody        = capMountBody
	CapVoidOKBody       = capVoidOKBody
	CapPutStartBody     = capPutStartBody
	CapPutStartResp     = capPutStartResp
	CapPutEndBody       = capPutEndBody
	CapGetRLBody        = capGetRLBody
	CapGetRLResp        = capGetRLResp
	CapGetRLMissing     = capGetRLMissing
	CapRemoveAllBody    = capRemoveAllBody
	CapRealClientStream = capRealClientStream
	CapRealServerStream = capRealServerStream
	Hx                  = hx
	ReqFrame            = reqFrame
	RespFrame           = respFrame
	SplitBatch          = splitBatch
)

// ReplyBound is the byte bound of method m's reply for nkeys keys.
func ReplyBound(m Method, nkeys int) int { return replyBound(m, nkeys).bytes }
