package mooncake

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"testing"
)

// The recipes of literals_gen.go: every struct_pack literal and RPC
// description of the package, built with the grammar's helpers (literal.go)
// and written out as composite literals, so that loading the package runs
// no code (lmc's start-up pays for no MD5 and no allocation here).
// TestLiteralsGenerated fails when the file differs from what the recipes
// give; LMC_UPDATE_GOLDEN=1 rewrites it.

type litRecipe struct {
	name string
	doc  string // comment above the entry (optional)
	expr string // the recipe as written, kept as the entry's comment
	val  any    // Literal, Method, []Literal or alias (a var name)
}

type alias string

type litGroup struct {
	doc     string
	recipes []litRecipe
}

func literalGroups() []litGroup {
	m := func(name string, args, result Literal) Method { return method(name, args, result) }
	return []litGroup{
		{"Literals of the Mooncake wire types (spec §3.4).", []litRecipe{
			{"LitUUID", "LitUUID: std::pair<uint64,uint64>, trivially serializable, align 8.", "TrivialStruct(8, 8, LitU64, LitU64)", TrivialStruct(8, 8, LitU64, LitU64)},
			{"LitErrorCode", "", "LitI32", alias("LitI32")},
			{"litEnum", "", "LitI32", alias("LitI32")},
			{"LitBufferDesc", "", "Struct(LitU64, LitU64, LitString, LitString)", Struct(LitU64, LitU64, LitString, LitString)},
			{"LitMemoryDesc", "", "Struct(LitBufferDesc)", Struct(LitBufferDesc)},
			{"LitNoFDesc", "", "Struct(LitBufferDesc)", Struct(LitBufferDesc)},
			{"LitDiskDesc", "", "Struct(LitString, LitU64)", Struct(LitString, LitU64)},
			{"LitLocalDisk", "", "Struct(LitUUID, LitU64, LitString)", Struct(LitUUID, LitU64, LitString)},
			{"LitDFSDesc", "", "Struct(LitString, LitU64, LitU64, LitU64, LitI32)", Struct(LitString, LitU64, LitU64, LitU64, LitI32)},
			{"LitSegment", "", "Struct(LitUUID, LitString, LitU64, LitU64, LitString, LitString, LitString)", Struct(LitUUID, LitString, LitU64, LitU64, LitString, LitString, LitString)},
			{"LitReplicateConfig", "LitReplicateConfig has no YLT_REFL and holds containers, so it is a\nplain (non-trivial) struct literal.",
				"Struct(LitU64, LitU64, LitU64, LitU8, Opt(LitU64), LitBool, Vec(LitString), LitString, Vec(LitString), LitBool, LitU8, LitString, Opt(Vec(LitString)))",
				Struct(LitU64, LitU64, LitU64, LitU8, Opt(LitU64), LitBool, Vec(LitString), LitString, Vec(LitString), LitBool, LitU8, LitString, Opt(Vec(LitString)))},
			{"LitObjectMeta", "", "Struct(LitString, Opt(LitU64))", Struct(LitString, Opt(LitU64))},
			{"LitPingResponse", "", "Struct(LitI64, litEnum)", Struct(LitI64, litEnum)},
		}},
		{"Literals of the two coro_rpc error bodies (spec §1.2).", []litRecipe{
			{"litErrMsg", "", "LitString", alias("LitString")},
			{"litErrPair", "", "Struct(LitU16, LitString)", Struct(LitU16, LitString)},
		}},
		{"Result literals shared by many RPCs.", []litRecipe{
			{"litExpVoid", "", "Expected(LitVoid, LitErrorCode)", Expected(LitVoid, LitErrorCode)},
			{"litExpBool", "", "Expected(LitBool, LitErrorCode)", Expected(LitBool, LitErrorCode)},
			{"litExpString", "", "Expected(LitString, LitErrorCode)", Expected(LitString, LitErrorCode)},
		}},
		{"The RPCs this package speaks, at the HEAD schema (spec §2, §5).", []litRecipe{
			{"MethodServiceReady", "", `method("ServiceReady", nil, litExpString)`, m("ServiceReady", nil, litExpString)},
			{"MethodPing", "", `method("Ping", Args(LitUUID), Expected(LitPingResponse, LitErrorCode))`, m("Ping", Args(LitUUID), Expected(LitPingResponse, LitErrorCode))},
			{"MethodExistKey", "", `method("ExistKey", Args(LitString, LitString), litExpBool)`, m("ExistKey", Args(LitString, LitString), litExpBool)},
			{"MethodBatchExistKey", "", `method("BatchExistKey", Args(Vec(LitString), LitString), Vec(litExpBool))`, m("BatchExistKey", Args(Vec(LitString), LitString), Vec(litExpBool))},
			{"MethodGetReplicaList", "", `method("GetReplicaList", Args(LitString, LitString), Expected(ReplicaListLiteral(LayoutHEAD), LitErrorCode))`,
				m("GetReplicaList", Args(LitString, LitString), Expected(ReplicaListLiteral(LayoutHEAD), LitErrorCode))},
			{"MethodBatchGetReplicaList", "", `method("BatchGetReplicaList", Args(Vec(LitString), LitString), Vec(Expected(ReplicaListLiteral(LayoutHEAD), LitErrorCode)))`,
				m("BatchGetReplicaList", Args(Vec(LitString), LitString), Vec(Expected(ReplicaListLiteral(LayoutHEAD), LitErrorCode)))},
			{"MethodMountSegment", "", `method("MountSegment", Args(LitSegment, LitUUID), litExpVoid)`, m("MountSegment", Args(LitSegment, LitUUID), litExpVoid)},
			{"MethodReMountSegment", "", `method("ReMountSegment", Args(Vec(LitSegment), LitUUID), litExpVoid)`, m("ReMountSegment", Args(Vec(LitSegment), LitUUID), litExpVoid)},
			{"MethodUnmountSegment", "", `method("UnmountSegment", Args(LitUUID, LitUUID), litExpVoid)`, m("UnmountSegment", Args(LitUUID, LitUUID), litExpVoid)},
			{"MethodPutStart", "", `method("PutStart", Args(LitUUID, LitString, LitU64, LitReplicateConfig, LitString), Expected(Vec(ReplicaDescLiteral(LayoutHEAD)), LitErrorCode))`,
				m("PutStart", Args(LitUUID, LitString, LitU64, LitReplicateConfig, LitString), Expected(Vec(ReplicaDescLiteral(LayoutHEAD)), LitErrorCode))},
			{"MethodPutEnd", "", `method("PutEnd", Args(LitUUID, LitObjectMeta, litEnum, LitString), litExpVoid)`, m("PutEnd", Args(LitUUID, LitObjectMeta, litEnum, LitString), litExpVoid)},
			{"MethodPutRevoke", "", `method("PutRevoke", Args(LitUUID, LitString, litEnum, LitString), litExpVoid)`, m("PutRevoke", Args(LitUUID, LitString, litEnum, LitString), litExpVoid)},
			{"MethodRemove", "", `method("Remove", Args(LitString, LitBool, LitString), litExpVoid)`, m("Remove", Args(LitString, LitBool, LitString), litExpVoid)},
			{"MethodRemoveAll", "", `method("RemoveAll", Args(LitBool, LitString), LitI64)`, m("RemoveAll", Args(LitBool, LitString), LitI64)},
		}},
		{"Signatures of masters older than commit a953dcb1 (v0.3.11 and before),\nwhose read RPCs take no tenant argument. Same function ids.", []litRecipe{
			{"LegacyExistKeyArgs", "", "Args(LitString)", Args(LitString)},
			{"LegacyBatchExistKeyArgs", "", "Args(Vec(LitString))", Args(Vec(LitString))},
		}},
		{"Result literals of GetReplicaList and BatchGetReplicaList in each of Layouts.", []litRecipe{
			{"getReplicaListResults", "", "getReplicaListResult(l) for l in Layouts", []Literal{getReplicaListResult(LayoutHEAD), getReplicaListResult(LayoutV0311), getReplicaListResult(LayoutV0310)}},
			{"batchGetReplicaListResults", "", "batchGetReplicaListResult(l) for l in Layouts", []Literal{batchGetReplicaListResult(LayoutHEAD), batchGetReplicaListResult(LayoutV0311), batchGetReplicaListResult(LayoutV0310)}},
		}},
		{"RPCs of the removal path besides Remove and RemoveAll (ops.go).", []litRecipe{
			{"MethodBatchRemove", "", `method("BatchRemove", Args(Vec(LitString), LitBool, LitString), Vec(litExpVoid))`, m("BatchRemove", Args(Vec(LitString), LitBool, LitString), Vec(litExpVoid))},
			{"MethodRemoveByRegex", "", `method("RemoveByRegex", Args(LitString, LitBool, LitString), Expected(LitI64, LitErrorCode))`, m("RemoveByRegex", Args(LitString, LitBool, LitString), Expected(LitI64, LitErrorCode))},
		}},
		{"The segment RPCs an operator calls (segments.go).", []litRecipe{
			{"MethodQuerySegmentStatus", "", `method("QuerySegmentStatus", Args(LitString), Expected(litEnum, LitErrorCode))`, m("QuerySegmentStatus", Args(LitString), Expected(litEnum, LitErrorCode))},
			{"MethodQuerySegmentStatusByID", "", `method("QuerySegmentStatusById", Args(LitUUID), Expected(litEnum, LitErrorCode))`, m("QuerySegmentStatusById", Args(LitUUID), Expected(litEnum, LitErrorCode))},
			{"MethodBatchQueryIP", "", `method("BatchQueryIp", Args(Vec(LitUUID)), Expected(Map(LitUUID, Vec(LitString)), LitErrorCode))`, m("BatchQueryIp", Args(Vec(LitUUID)), Expected(Map(LitUUID, Vec(LitString)), LitErrorCode))},
		}},
		{"Task RPCs and literals an operator calls (tasks.go, §4.2).", []litRecipe{
			{"LitQueryTaskResponse", "LitQueryTaskResponse is QueryTaskResponse (§1.1): id, type, status,\ncreated_at_ms_epoch, last_updated_at_ms_epoch, assigned_client, message.",
				"Struct(LitUUID, litEnum, litEnum, LitI64, LitI64, LitUUID, LitString)", Struct(LitUUID, litEnum, litEnum, LitI64, LitI64, LitUUID, LitString)},
			{"MethodCreateCopyTask", "", `method("CreateCopyTask", Args(LitString, LitString, Vec(LitString)), Expected(LitUUID, LitErrorCode))`, m("CreateCopyTask", Args(LitString, LitString, Vec(LitString)), Expected(LitUUID, LitErrorCode))},
			{"MethodCreateMoveTask", "", `method("CreateMoveTask", Args(LitString, LitString, LitString, LitString), Expected(LitUUID, LitErrorCode))`, m("CreateMoveTask", Args(LitString, LitString, LitString, LitString), Expected(LitUUID, LitErrorCode))},
			{"MethodQueryTask", "", `method("QueryTask", Args(LitUUID), Expected(LitQueryTaskResponse, LitErrorCode))`, m("QueryTask", Args(LitUUID), Expected(LitQueryTaskResponse, LitErrorCode))},
		}},
	}
}

func renderLiteral(b *bytes.Buffer, l Literal) {
	if l == nil {
		b.WriteString("nil")
		return
	}
	b.WriteString("Literal{")
	for i, c := range l {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "0x%02x", c)
	}
	b.WriteString("}")
}

func renderLiterals() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by TestLiteralsGenerated from literals_gen_test.go; DO NOT EDIT.\n")
	b.WriteString("// To change an entry, change its recipe and run\n")
	b.WriteString("// LMC_UPDATE_GOLDEN=1 go test -run TestLiteralsGenerated ./internal/mooncake\n\n")
	b.WriteString("package mooncake\n\n")
	b.WriteString("// The package's struct_pack literals and RPC descriptions, written out from\n")
	b.WriteString("// their recipes (the \"= …\" comment above each entry) so that they are\n")
	b.WriteString("// static data: loading the package runs no code.\n")
	for _, g := range literalGroups() {
		b.WriteString("\n")
		for _, l := range bytes.Split([]byte(g.doc), []byte("\n")) {
			fmt.Fprintf(&b, "// %s\n", l)
		}
		b.WriteString("var (\n")
		for _, r := range g.recipes {
			if r.doc != "" {
				for _, l := range bytes.Split([]byte(r.doc), []byte("\n")) {
					fmt.Fprintf(&b, "\t// %s\n", l)
				}
			}
			if _, ok := r.val.(alias); !ok {
				fmt.Fprintf(&b, "\t// = %s\n", r.expr)
			}
			fmt.Fprintf(&b, "\t%s = ", r.name)
			switch v := r.val.(type) {
			case alias:
				b.WriteString(string(v))
			case Literal:
				renderLiteral(&b, v)
			case []Literal:
				b.WriteString("[]Literal{\n")
				for _, l := range v {
					b.WriteString("\t\t")
					renderLiteral(&b, l)
					b.WriteString(",\n")
				}
				b.WriteString("\t}")
			case Method:
				fmt.Fprintf(&b, "Method{Name: %q, ID: 0x%08x, Args: ", v.Name, v.ID)
				renderLiteral(&b, v.Args)
				b.WriteString(", Result: ")
				renderLiteral(&b, v.Result)
				b.WriteString("}")
			default:
				return nil, fmt.Errorf("%s: unknown recipe value %T", r.name, r.val)
			}
			b.WriteString("\n")
		}
		b.WriteString(")\n")
	}
	return format.Source(b.Bytes())
}

func TestLiteralsGenerated(t *testing.T) {
	want, err := renderLiterals()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("LMC_UPDATE_GOLDEN") != "" {
		if err := os.WriteFile("literals_gen.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("literals_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("literals_gen.go differs from its recipes in literals_gen_test.go: run LMC_UPDATE_GOLDEN=1 go test -run TestLiteralsGenerated ./internal/mooncake")
	}
}
