package mooncake

// Method describes one registered RPC of mooncake::WrappedMasterService:
// its coro_rpc function id and the literals of its argument tuple and result.
type Method struct {
	Name   string
	ID     uint32
	Args   Literal // nil for a method without arguments (empty body)
	Result Literal
}

func method(name string, args, result Literal) Method {
	return Method{Name: name, ID: FunctionID(name), Args: args, Result: result}
}

// ArgsCode returns the type code of the argument tuple (0 without arguments).
func (m Method) ArgsCode() uint32 {
	if m.Args == nil {
		return 0
	}
	return m.Args.Code()
}

// ResultCode returns the type code of the result.
func (m Method) ResultCode() uint32 { return m.Result.Code() }

var (
	litExpVoid   = Expected(LitVoid, LitErrorCode)
	litExpBool   = Expected(LitBool, LitErrorCode)
	litExpString = Expected(LitString, LitErrorCode)
)

// The RPCs this package speaks, at the HEAD schema (spec §2, §5).
var (
	MethodServiceReady = method("ServiceReady", nil, litExpString)
	MethodPing         = method("Ping", Args(LitUUID), Expected(LitPingResponse, LitErrorCode))

	MethodExistKey      = method("ExistKey", Args(LitString, LitString), litExpBool)
	MethodBatchExistKey = method("BatchExistKey", Args(Vec(LitString), LitString), Vec(litExpBool))

	MethodGetReplicaList = method("GetReplicaList", Args(LitString, LitString),
		Expected(ReplicaListLiteral(LayoutHEAD), LitErrorCode))
	MethodBatchGetReplicaList = method("BatchGetReplicaList", Args(Vec(LitString), LitString),
		Vec(Expected(ReplicaListLiteral(LayoutHEAD), LitErrorCode)))

	MethodMountSegment   = method("MountSegment", Args(LitSegment, LitUUID), litExpVoid)
	MethodReMountSegment = method("ReMountSegment", Args(Vec(LitSegment), LitUUID), litExpVoid)
	MethodUnmountSegment = method("UnmountSegment", Args(LitUUID, LitUUID), litExpVoid)

	MethodPutStart = method("PutStart", Args(LitUUID, LitString, LitU64, LitReplicateConfig, LitString),
		Expected(Vec(ReplicaDescLiteral(LayoutHEAD)), LitErrorCode))
	MethodPutEnd    = method("PutEnd", Args(LitUUID, LitObjectMeta, litEnum, LitString), litExpVoid)
	MethodPutRevoke = method("PutRevoke", Args(LitUUID, LitString, litEnum, LitString), litExpVoid)
	MethodRemove    = method("Remove", Args(LitString, LitBool, LitString), litExpVoid)
	MethodRemoveAll = method("RemoveAll", Args(LitBool, LitString), LitI64)
)

// Signatures of masters older than commit a953dcb1 (v0.3.11 and before),
// whose read RPCs take no tenant argument. Same function ids.
var (
	LegacyExistKeyArgs      = Args(LitString)
	LegacyBatchExistKeyArgs = Args(Vec(LitString))
)

// Result literals of GetReplicaList / BatchGetReplicaList for each layout.
func getReplicaListResult(l Layout) Literal {
	return Expected(ReplicaListLiteral(l), LitErrorCode)
}

func batchGetReplicaListResult(l Layout) Literal {
	return Vec(getReplicaListResult(l))
}

// GetReplicaListResult returns the result literal of GetReplicaList in l.
func GetReplicaListResult(l Layout) Literal { return getReplicaListResult(l) }

// BatchGetReplicaListResult returns the result literal of
// BatchGetReplicaList in l.
func BatchGetReplicaListResult(l Layout) Literal { return batchGetReplicaListResult(l) }

// Layouts lists every layout this package decodes, newest first.
var Layouts = []Layout{LayoutHEAD, LayoutV0311, LayoutV0310}

var (
	getReplicaListResults      = []Literal{getReplicaListResult(LayoutHEAD), getReplicaListResult(LayoutV0311), getReplicaListResult(LayoutV0310)}
	batchGetReplicaListResults = []Literal{batchGetReplicaListResult(LayoutHEAD), batchGetReplicaListResult(LayoutV0311), batchGetReplicaListResult(LayoutV0310)}
)
