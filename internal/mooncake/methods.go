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

// The RPCs this package speaks (MethodPing, MethodBatchExistKey, …, at the
// HEAD schema, spec §2, §5) and the literals they share are static data in
// literals_gen.go; their recipes are in literals_gen_test.go.

// LegacyExistKeyArgs and LegacyBatchExistKeyArgs, the signatures of masters
// older than commit a953dcb1 (v0.3.11 and before), are in literals_gen.go.

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

// getReplicaListResults and batchGetReplicaListResults (one per layout, in
// the order of Layouts) are in literals_gen.go.
