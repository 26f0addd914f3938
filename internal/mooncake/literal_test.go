package mooncake

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// specRPCTable is the table of spec §2: method, function id, argument hash
// and result hash, as printed from the real headers.
var specRPCTable = []struct {
	name      string
	id        uint32
	req, resp string
}{
	{"ExistKey", 0x89385f09, "0x7cf91ed8", "0x90e800d2"},
	{"BatchExistKey", 0xb89fa6b0, "0x00f78d62", "0x2a5f8c5c"},
	{"GetReplicaList", 0x1f7ef174, "0x7cf91ed8", "0x88c6276c"},
	{"BatchGetReplicaList", 0x1b0d20ff, "0x00f78d62", "0x20c5453a"},
	{"GetReplicaListByRegex", 0xfe6af93c, "0x7cf91ed8", "0x7343c040"},
	{"PutStart", 0x65ea9ac1, "0xe385bd0e", "0xc43927a6"},
	{"PutEnd", 0x8e8b2099, "0xd1819222", "0xaf2868cc"},
	{"PutRevoke", 0xa0767c44, "0x1b7a228a", "0xaf2868cc"},
	{"BatchPutStart", 0x56be1822, "0x5870c0a4", "0xad006d02"},
	{"BatchPutEnd", 0x80e020ab, "0xf57ea7c8", "0x39fc52ce"},
	{"BatchPutRevoke", 0xb82567aa, "0x94ee5d44", "0x39fc52ce"},
	{"UpsertStart", 0xa1335e41, "0xe385bd0e", "0xc43927a6"},
	{"UpsertEnd", 0x2e20e258, "0xd1819222", "0xaf2868cc"},
	{"UpsertRevoke", 0x610b042e, "0x1b7a228a", "0xaf2868cc"},
	{"BatchUpsertStart", 0xd564b423, "0x5870c0a4", "0xad006d02"},
	{"BatchUpsertEnd", 0xb1bcd72f, "0xdce93710", "0x39fc52ce"},
	{"BatchUpsertRevoke", 0x9093ae79, "0xd6091496", "0x39fc52ce"},
	{"Remove", 0xf1b09774, "0x18e89fee", "0xaf2868cc"},
	{"RemoveByRegex", 0xfccc1fd3, "0x18e89fee", "0xb83381fe"},
	{"RemoveAll", 0xd978ceb0, "0x48a6c274", "0x86666834"},
	{"BatchRemove", 0x5902407d, "0x197a9ca0", "0x39fc52ce"},
	{"MountSegment", 0x3e7ec4bb, "0x9ef70dae", "0xaf2868cc"},
	{"ReMountSegment", 0x0b053b72, "0xc6c66b88", "0xaf2868cc"},
	{"UnmountSegment", 0x6f10b465, "0xd4c512e0", "0xaf2868cc"},
	{"GracefulUnmountSegment", 0xa4ec3175, "0x8e092e9c", "0xaf2868cc"},
	{"MountNoFSegment", 0x14d3f74c, "0x70fcb3da", "0xaf2868cc"},
	{"ReMountNoFSegment", 0xc15a1a37, "0xc3ddcd16", "0xaf2868cc"},
	{"UnmountNoFSegment", 0xbb263e21, "0xd4c512e0", "0xaf2868cc"},
	{"GetAllNoFSegments", 0x04eb3c85, "(empty)", "0x8c274b46"},
	{"GetNoFSegmentsByName", 0x6b194364, "0x9dcffa76", "0xaab07daa"},
	{"Ping", 0xd6c2dae5, "0x3c6d83e0", "0x742a8f52"},
	{"ServiceReady", 0x7b81bb56, "(empty)", "0x1cb3cc34"},
	{"GetFsdir", 0x3e585123, "(empty)", "0x1cb3cc34"},
	{"GetStorageConfig", 0x8da9b0a6, "(empty)", "0x9cb568ea"},
	{"QuerySegmentStatus", 0x79b8af8c, "0x9dcffa76", "0x9851e9a8"},
	{"QuerySegmentStatusById", 0x573fd453, "0x3c6d83e0", "0x9851e9a8"},
	{"BatchQueryIp", 0x7ce454a9, "0xa1eea206", "0xf594fb3c"},
	{"BatchReplicaClear", 0x137b01fc, "0x472b2fa2", "0xe108bdea"},
	{"MountLocalDiskSegment", 0x281fc089, "0xbfd50c0e", "0xaf2868cc"},
	{"UnmountLocalDiskSegment", 0x59fe76e4, "0x3c6d83e0", "0xaf2868cc"},
	{"OffloadObjectHeartbeat", 0x2a9b08f8, "0xbfd50c0e", "0x724674e6"},
	{"ReportSsdCapacity", 0x7e109a9c, "0x70a841e4", "0xaf2868cc"},
	{"NotifyOffloadSuccess", 0x2df85842, "0xd4e79a92", "0xaf2868cc"},
	{"PromotionObjectHeartbeat", 0x0a19072a, "0x3c6d83e0", "0x724674e6"},
	{"PromotionAllocStart", 0x36430f70, "0xc6e729cc", "0x5c032896"},
	{"NotifyPromotionSuccess", 0xfe6e3d25, "0x6a2101f4", "0xaf2868cc"},
	{"NotifyPromotionFailure", 0xcbecf2b4, "0x6a2101f4", "0xaf2868cc"},
	{"CopyStart", 0x29836d38, "0xb5bddd1a", "0x7c1668cc"},
	{"DynamicReplicaCopyStart", 0x21118d62, "0x4e78be0e", "0x7c1668cc"},
	{"CopyEnd", 0xf696f1d9, "0x6a2101f4", "0xaf2868cc"},
	{"DynamicReplicaCopyEnd", 0x4f22bba4, "0xa1da4cba", "0xaf2868cc"},
	{"CopyRevoke", 0x1f558b5c, "0x6a2101f4", "0xaf2868cc"},
	{"DynamicReplicaCopyRevoke", 0x99768752, "0xa1da4cba", "0xaf2868cc"},
	{"MoveStart", 0x458e4ce0, "0xef2ee70c", "0x3e9ed4b8"},
	{"MoveEnd", 0x636a8b47, "0x6a2101f4", "0xaf2868cc"},
	{"MoveRevoke", 0x919b315f, "0x6a2101f4", "0xaf2868cc"},
	{"EvictDiskReplica", 0xd00ac42b, "0xf47f2e6a", "0xaf2868cc"},
	{"BatchEvictDiskReplica", 0x74d1e980, "0xd1251872", "0x39fc52ce"},
	{"PollRemoveAll", 0x05b21025, "0x3c6d83e0", "0x90e800d2"},
	{"CreateCopyTask", 0x7801dba0, "0x5e43cb12", "0x8f9bae8a"},
	{"CreateMoveTask", 0x97200d2c, "0x311dab7a", "0x8f9bae8a"},
	{"QueryTask", 0x07816a74, "0x3c6d83e0", "0x02d57de6"},
	{"FetchTasks", 0xdf141844, "0x759a9b84", "0x59e14526"},
	{"MarkTaskToComplete", 0xa7060015, "0x22069e02", "0xaf2868cc"},
}

func parseHex32(t *testing.T, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		t.Fatalf("bad hex %q", s)
	}
	return uint32(v)
}

func TestFunctionIDsMatchSpec(t *testing.T) {
	if len(specRPCTable) != 64 {
		t.Fatalf("spec table has %d rows, want 64", len(specRPCTable))
	}
	for _, r := range specRPCTable {
		if got := FunctionID(r.name); got != r.id {
			t.Errorf("FunctionID(%s) = 0x%08x, spec says 0x%08x", r.name, got, r.id)
		}
	}
	// §2: the header bytes of ExistKey's id are digest bytes 3,2,1,0.
	h := AppendRequestHeader(nil, RequestHeader{Magic: Magic, FunctionID: FunctionID("ExistKey")})
	if !bytes.Equal(h[8:12], []byte{0x09, 0x5f, 0x38, 0x89}) {
		t.Errorf("ExistKey id bytes % x", h[8:12])
	}
}

// Literals for the rows of the §2 table whose types the spec spells out.
func specSignatures() map[string][2]Literal {
	rd := ReplicaDescLiteral(LayoutHEAD)
	grl := ReplicaListLiteral(LayoutHEAD)
	u, s := LitUUID, LitString
	ev := Expected(LitVoid, LitErrorCode)
	return map[string][2]Literal{
		"ExistKey":               {Args(s, s), Expected(LitBool, LitErrorCode)},
		"BatchExistKey":          {Args(Vec(s), s), Vec(Expected(LitBool, LitErrorCode))},
		"GetReplicaList":         {Args(s, s), Expected(grl, LitErrorCode)},
		"BatchGetReplicaList":    {Args(Vec(s), s), Vec(Expected(grl, LitErrorCode))},
		"GetReplicaListByRegex":  {Args(s, s), Expected(Map(s, Vec(rd)), LitErrorCode)},
		"PutStart":               {Args(u, s, LitU64, LitReplicateConfig, s), Expected(Vec(rd), LitErrorCode)},
		"PutEnd":                 {Args(u, LitObjectMeta, LitI32, s), ev},
		"PutRevoke":              {Args(u, s, LitI32, s), ev},
		"BatchPutStart":          {Args(u, Vec(s), Vec(LitU64), LitReplicateConfig, s), Vec(Expected(Vec(rd), LitErrorCode))},
		"BatchPutEnd":            {Args(u, Vec(LitObjectMeta), LitI32, s), Vec(ev)},
		"BatchPutRevoke":         {Args(u, Vec(s), LitI32, s), Vec(ev)},
		"UpsertStart":            {Args(u, s, LitU64, LitReplicateConfig, s), Expected(Vec(rd), LitErrorCode)},
		"UpsertEnd":              {Args(u, LitObjectMeta, LitI32, s), ev},
		"UpsertRevoke":           {Args(u, s, LitI32, s), ev},
		"Remove":                 {Args(s, LitBool, s), ev},
		"RemoveByRegex":          {Args(s, LitBool, s), Expected(LitI64, LitErrorCode)},
		"RemoveAll":              {Args(LitBool, s), LitI64},
		"BatchRemove":            {Args(Vec(s), LitBool, s), Vec(ev)},
		"MountSegment":           {Args(LitSegment, u), ev},
		"ReMountSegment":         {Args(Vec(LitSegment), u), ev},
		"UnmountSegment":         {Args(u, u), ev},
		"Ping":                   {Args(u), Expected(LitPingResponse, LitErrorCode)},
		"ServiceReady":           {nil, Expected(s, LitErrorCode)},
		"GetFsdir":               {nil, Expected(s, LitErrorCode)},
		"GetStorageConfig":       {nil, Expected(Struct(s, LitBool, LitU64), LitErrorCode)},
		"QuerySegmentStatus":     {Args(s), Expected(LitI32, LitErrorCode)},
		"QuerySegmentStatusById": {Args(u), Expected(LitI32, LitErrorCode)},
		"BatchQueryIp":           {Args(Vec(u)), Expected(Map(u, Vec(s)), LitErrorCode)},
		"PollRemoveAll":          {Args(u), Expected(LitBool, LitErrorCode)},
	}
}

func TestTypeHashesMatchSpecTable(t *testing.T) {
	sigs := specSignatures()
	checked := 0
	for _, r := range specRPCTable {
		sig, ok := sigs[r.name]
		if !ok {
			continue
		}
		checked++
		if r.req == "(empty)" {
			if sig[0] != nil {
				t.Errorf("%s: spec says no arguments", r.name)
			}
		} else if got, want := sig[0].Code(), parseHex32(t, r.req); got != want {
			t.Errorf("%s args: code 0x%08x, spec 0x%08x (literal % x)", r.name, got, want, []byte(sig[0]))
		}
		if got, want := sig[1].Code(), parseHex32(t, r.resp); got != want {
			t.Errorf("%s result: code 0x%08x, spec 0x%08x (literal % x)", r.name, got, want, []byte(sig[1]))
		}
	}
	if checked != len(sigs) {
		t.Errorf("checked %d of %d signatures", checked, len(sigs))
	}
	// The methods this package registers must agree with the table too.
	for _, m := range []Method{MethodServiceReady, MethodPing, MethodExistKey, MethodBatchExistKey,
		MethodGetReplicaList, MethodBatchGetReplicaList, MethodMountSegment, MethodReMountSegment,
		MethodUnmountSegment, MethodPutStart, MethodPutEnd, MethodPutRevoke, MethodRemove, MethodRemoveAll} {
		found := false
		for _, r := range specRPCTable {
			if r.name != m.Name {
				continue
			}
			found = true
			if m.ID != r.id {
				t.Errorf("%s id", m.Name)
			}
			if r.req != "(empty)" && m.ArgsCode() != parseHex32(t, r.req) {
				t.Errorf("%s args code 0x%08x", m.Name, m.ArgsCode())
			}
			if m.ResultCode() != parseHex32(t, r.resp) {
				t.Errorf("%s result code 0x%08x", m.Name, m.ResultCode())
			}
		}
		if !found {
			t.Errorf("%s not in spec table", m.Name)
		}
	}
}

func TestLiteralsMatchSpec(t *testing.T) {
	cases := []struct {
		name string
		lit  Literal
		want string // literal bytes from §3.4 / §5, "" to skip
		code uint32 // 0 to skip
	}{
		{"UUID", LitUUID, "fd 04 04 89 89 ff", 0},
		{"BufferDescriptor", LitBufferDesc, "fd 04 04 80 0c 80 0c ff", 0},
		{"MemoryDescriptor", LitMemoryDesc, "fd fd 04 04 80 0c 80 0c ff ff", 0},
		{"DiskDescriptor", LitDiskDesc, "fd 80 0c 04 ff", 0},
		{"LocalDiskDescriptor", LitLocalDisk, "fd fd 04 04 89 89 ff 04 80 0c ff", 0},
		{"DFSDescriptor", LitDFSDesc, "fd 80 0c 04 04 04 01 ff", 0},
		{"Replica::Descriptor", ReplicaDescLiteral(LayoutHEAD), "", 0x8ad08892},
		{"GetReplicaListResponse", ReplicaListLiteral(LayoutHEAD), "", 0xd7db95a6},
		{"Segment", LitSegment, "fd fd 04 04 89 89 ff 80 0c 04 04 80 0c 80 0c 80 0c ff", 0xd27f53e2},
		{"ReplicateConfig", LitReplicateConfig, "fd 04 04 04 06 85 04 0b 84 80 0c 80 0c 84 80 0c 0b 06 80 0c 85 84 80 0c ff", 0xea05cf4e},
		{"ObjectMeta", LitObjectMeta, "fd 80 0c 85 04 ff", 0},
		{"PingResponse", LitPingResponse, "fd 03 01 ff", 0},
		{"GetStorageConfigResponse", Struct(LitString, LitBool, LitU64), "fd 80 0c 0b 04 ff", 0},
		{"ServiceReady result", MethodServiceReady.Result, "87 80 0c 01", 0x1cb3cc34},
		{"ExistKey result", MethodExistKey.Result, "87 0b 01", 0x90e800d2},
		{"BatchExistKey result", MethodBatchExistKey.Result, "84 87 0b 01", 0x2a5f8c5c},
		{"ExistKey args", MethodExistKey.Args, "fd 80 0c 80 0c ff", 0x7cf91ed8},
		{"BatchExistKey args", MethodBatchExistKey.Args, "fd 84 80 0c 80 0c ff", 0x00f78d62},
		{"expected<void>", Expected(LitVoid, LitErrorCode), "87 fa 01", 0xaf2868cc},
		{"RemoveAll args", MethodRemoveAll.Args, "fd 0b 80 0c ff", 0x48a6c274},
		{"Remove args", MethodRemove.Args, "fd 80 0c 0b 80 0c ff", 0x18e89fee},
		{"PutEnd args", MethodPutEnd.Args, "fd fd 04 04 89 89 ff fd 80 0c 85 04 ff 01 80 0c ff", 0xd1819222},
		{"error pair", litErrPair, "fd 08 80 0c ff", 0},
		{"string", LitString, "80 0c", 0x9dcffa76},
		{"GetReplicaListByRegex result", Expected(Map(LitString, Vec(ReplicaDescLiteral(LayoutHEAD))), LitErrorCode), "", 0x7343c040},
		{"BatchQueryIp result", Expected(Map(LitUUID, Vec(LitString)), LitErrorCode), "87 82 fd 04 04 89 89 ff 84 80 0c 01", 0xf594fb3c},
		// §10: older schemas.
		{"v0.3.11 ExistKey args", LegacyExistKeyArgs, "80 0c", 0x9dcffa76},
		{"v0.3.11 BatchExistKey args", LegacyBatchExistKeyArgs, "84 80 0c", 0x8a86e11a},
		{"v0.3.11 GetReplicaList result", GetReplicaListResult(LayoutV0311), "", 0x75ecf440},
		{"v0.3.11 BatchGetReplicaList result", BatchGetReplicaListResult(LayoutV0311), "", 0x0a20c6b8},
		{"v0.3.10 GetReplicaList result", GetReplicaListResult(LayoutV0310), "", 0x8362cb40},
		{"v0.3.10 BatchGetReplicaList result", BatchGetReplicaListResult(LayoutV0310), "", 0x9d4c4ca0},
		{"v0.3.12 PutEnd args", Args(LitUUID, LitString, LitI32, LitString), "", 0x1b7a228a},
		{"v0.3.11 PutEnd args", Args(LitUUID, LitString, LitI32), "", 0x61232de0},
		{"v0.3.11 Remove args", Args(LitString, LitBool), "", 0xdbcf8900},
		{"v0.3.11 RemoveAll args", Args(LitBool), "0b", 0x13c8ffd8},
		{"v0.3.11 MountSegment args", Args(Struct(LitUUID, LitString, LitU64, LitU64, LitString, LitString), LitUUID), "", 0x0f2fcc18},
		{"v0.3.11 ReMountSegment args", Args(Vec(Struct(LitUUID, LitString, LitU64, LitU64, LitString, LitString)), LitUUID), "", 0xecb9930c},
		{"v0.3.11 PutStart result", Expected(Vec(ReplicaDescLiteral(LayoutV0311)), LitErrorCode), "", 0x12e5cdba},
		{"v0.3.10 PutStart result", Expected(Vec(ReplicaDescLiteral(LayoutV0310)), LitErrorCode), "", 0xeb40e5b4},
		{"v0.3.12 PutStart args", Args(LitUUID, LitString, LitU64, Struct(LitU64, LitU64, LitBool, LitBool,
			Vec(LitString), LitString, Vec(LitString), LitBool, LitU8, LitString, Opt(Vec(LitString))), LitString), "", 0x6920ea5c},
		{"v0.3.11 PutStart args", Args(LitUUID, LitString, LitU64, Struct(LitU64, LitU64, LitBool, LitBool,
			Vec(LitString), LitString, Vec(LitString), LitBool, LitU8)), "", 0x5dddcc88},
		{"v0.3.10 PutStart args", Args(LitUUID, LitString, LitU64, Struct(LitU64, LitBool, LitBool,
			Vec(LitString), LitString, LitBool)), "", 0x66ce6bf6},
		{"v0.3.7 ServiceReady result", Expected(LitVoid, LitErrorCode), "", 0xaf2868cc},
	}
	for _, c := range cases {
		if c.want != "" {
			if got := fmt.Sprintf("% x", []byte(c.lit)); got != c.want {
				t.Errorf("%s literal = %s, spec %s", c.name, got, c.want)
			}
		}
		if c.code != 0 && c.lit.Code() != c.code {
			t.Errorf("%s code = 0x%08x, spec 0x%08x", c.name, c.lit.Code(), c.code)
		}
	}
	if n := len(ReplicaDescLiteral(LayoutHEAD)); n != 50 {
		t.Errorf("Replica::Descriptor literal is %d bytes, spec says 50", n)
	}
}

func TestLiteralSize(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{{0, "81"}, {8, "89"}, {126, "ff"}, {127, "01 82"}, {128, "02 82"}, {127*127 + 5, "06 01 82"}} {
		if got := fmt.Sprintf("% x", appendLitSize(nil, c.n)); got != c.want {
			t.Errorf("size(%d) = %s, want %s", c.n, got, c.want)
		}
	}
	if got := fmt.Sprintf("% x", []byte(Array(LitU8, 16))); got != "81 06 91" {
		t.Errorf("array literal %s", got)
	}
}
