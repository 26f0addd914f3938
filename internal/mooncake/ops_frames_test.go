package mooncake

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Captured frames of mooncake-ops.md. REQ dumps of §3.1-§3.4, §4.2 and §5.1
// are the spec's raw client (untagged); RESP dumps are the real master
// (always tagged); §3.6 and §4.9 are Mooncake's own MasterClient (tagged).
var (
	// §3.1 Remove("a0", force, "default"), seq 1 and 2.
	opRemoveReq      = hx(`15 00 00 00 01 00 00 00 74 97 b0 f1 10 00 00 00 00 00 00 00 | ee 9f e8 18 | 02 61 30 | 00 | 07 64 65 66 61 75 6c 74`)
	opRemoveLeased   = hx(`15 00 00 00 01 00 00 00 0e 00 00 00 00 00 00 00 | cd 68 28 af 04 87 fa 01 00 | 00 | 3e fd ff ff`)
	opRemoveForceReq = hx(`15 00 00 00 02 00 00 00 74 97 b0 f1 10 00 00 00 00 00 00 00 | ee 9f e8 18 | 02 61 30 | 01 | 07 64 65 66 61 75 6c 74`)
	opRemoveOKBody   = hx(`cd 68 28 af 04 87 fa 01 00 | 01`)

	// §3.2 BatchRemove(["a1","a2","missing"], false, "default"), seq 4.
	opBatchRemoveReq  = hx(`15 00 00 00 04 00 00 00 7d 40 02 59 1c 00 00 00 00 00 00 00 | a0 9c 7a 19 | 03 | 02 61 31 | 02 61 32 | 07 6d 69 73 73 69 6e 67 | 00 | 07 "default"`)
	opBatchRemoveResp = hx(`15 00 00 00 04 00 00 00 16 00 00 00 00 00 00 00 | cf 52 fc 39 04 84 87 fa 01 00 | 03 | 00 3e fd ff ff | 01 | 00 40 fd ff ff`)

	// §3.3 RemoveByRegex("r", false, "default"), seq 1.
	opRegexReq          = hx(`15 00 00 00 01 00 00 00 d3 1f cc fc 0f 00 00 00 00 00 00 00 | ee 9f e8 18 | 01 72 | 00 | 07 "default"`)
	opRegexResp         = hx(`15 00 00 00 01 00 00 00 12 00 00 00 00 00 00 00 | ff 81 33 b8 04 87 03 01 00 | 01 | 03 00 00 00 00 00 00 00`)
	opRegexInvalidBody  = hx(`ff 81 33 b8 04 87 03 01 00 | 00 | a8 fd ff ff`)
	opRegexInvalidInput = "(?i)abd"

	// §3.4 RemoveAll(false, "default"), seq 0x0b; then RemoveAll(true, "").
	opRemoveAllReq        = hx(`15 00 00 00 0b 00 00 00 b0 ce 78 d9 0d 00 00 00 00 00 00 00 | 74 c2 a6 48 | 00 | 07 "default"`)
	opRemoveAllResp       = hx(`15 00 00 00 0b 00 00 00 0f 00 00 00 00 00 00 00 | 35 68 66 86 04 03 00 | 03 00 00 00 00 00 00 00`)
	opRemoveAllForceBody  = hx(`74 c2 a6 48 | 01 | 00`)
	opRemoveAllForceReply = hx(`35 68 66 86 04 03 00 | 02 00 00 00 00 00 00 00`)

	// §3.6 Mooncake's MasterClient (tagged requests).
	opTaggedBatchRemoveBody  = hx(`a1 9c 7a 19 04 fd 84 80 0c 0b 80 0c ff 00 | 02 04 "cap0" 05 "nokey" | 00 | 07 "default"`)
	opTaggedBatchRemoveReply = hx(`cf 52 fc 39 04 84 87 fa 01 00 | 02 01 00 40 fd ff ff`)
	opTaggedRegexBody        = hx(`ef 9f e8 18 04 fd 80 0c 0b 80 0c ff 00 | 08 "^d[0-9]$" | 00 | 07 "default"`)
	opTaggedRemoveAllBody    = hx(`75 c2 a6 48 04 fd 0b 80 0c ff 00 | 01 | 07 "default"`)
	opTaggedRemoveAllReply   = hx(`35 68 66 86 04 03 00 | 04 00 00 00 00 00 00 00`)

	// §4.2 CreateMoveTask("mv1", "default", "127.0.0.1:17777", "127.0.0.1:17778"),
	// seq 0, then QueryTask(that id), seq 1.
	opTaskID            = UUID{0xb547707fb181e4ff, 0x5197ae0f3d6a9f9e}
	opTaskIDBytes       = hx(`ff e4 81 b1 7f 70 47 b5 9e 9f 6a 3d 0f ae 97 51`)
	opExecutor          = UUID{0x6d635f706f70756c, 0x6174652d636c6e74} // "lupop_cmtnlc-eta": mc_populate's node 0
	opTaskCreatedMillis = int64(0x01a2308c5557)
	opCreateMoveReq     = hx(`15 00 00 00 00 00 00 00 2c 0d 20 97 30 00 00 00 00 00 00 00 | 7a ab 1d 31 | 03 "mv1" | 07 "default" | 0f "127.0.0.1:17777" | 0f "127.0.0.1:17778"`)
	opCreateMoveResp    = hx(`15 00 00 00 00 00 00 00 1f 00 00 00 00 00 00 00 | 8b ae 9b 8f 04 87 fd 04 04 89 89 ff 01 00 | 01 | ff e4 81 b1 7f 70 47 b5 9e 9f 6a 3d 0f ae 97 51`)
	opQueryTaskReq      = append(hx(`15 00 00 00 01 00 00 00 74 6a 81 07 14 00 00 00 00 00 00 00 | e0 83 6d 3c`), opTaskIDBytes...)
	opQueryTaskResp     = hx(`15 00 00 00 01 00 00 00 56 00 00 00 00 00 00 00 |
		e7 7d d5 02 04 87 fd fd 04 04 89 89 ff 01 01 03 03 fd 04 04 89 89 ff 80 0c ff 01 00
		01
		ff e4 81 b1 7f 70 47 b5 9e 9f 6a 3d 0f ae 97 51
		01 00 00 00
		00 00 00 00
		57 55 8c 30 a2 01 00 00
		57 55 8c 30 a2 01 00 00
		6c 75 70 6f 70 5f 63 6d 74 6e 6c 63 2d 65 74 61
		00`)
	// CreateCopyTask("mv1", "default", ["nope"]): unknown target, -600.
	opCopyUnknownTargetBody = hx(`8b ae 9b 8f 04 87 fd 04 04 89 89 ff 01 00 | 00 | a8 fd ff ff`)

	// §4.9 Mooncake's MasterClient (tagged requests).
	opTaggedCopyTaskBody  = hx(`13 cb 43 5e 04 fd 80 0c 80 0c 84 80 0c ff 00 | 03 "cc0" | 07 "default" | 01 0f "127.0.0.1:17778"`)
	opTaggedMoveTaskBody  = hx(`7b ab 1d 31 04 fd 80 0c 80 0c 80 0c 80 0c ff 00 | 03 "cc0" | 07 "default" | 0f "127.0.0.1:17777" | 0f "127.0.0.1:17778"`)
	opTaggedQueryTaskBody = hx(`e1 83 6d 3c 04 fd 04 04 89 89 ff 00 | e8 5b cf a5 f5 9b 43 98 88 d6 9d e5 29 ec 74 25`)
	opSpecTaskIDString    = "10971784596555783144-2699041741391910536" // §1.1: the id of the line above

	// §5.1 QuerySegmentStatus("127.0.0.1:17778") during a drain, seq 0.
	opSegStatusReq  = hx(`15 00 00 00 00 00 00 00 8c af b8 79 14 00 00 00 00 00 00 00 | 76 fa cf 9d | 0f "127.0.0.1:17778"`)
	opSegStatusResp = hx(`15 00 00 00 00 00 00 00 0e 00 00 00 00 00 00 00 | a9 e9 51 98 04 87 01 01 00 | 01 | 02 00 00 00`)

	// §5.1 BatchQueryIp([{9,9},{1,1}]): {9,9} -> ["10.0.0.1"], {1,1} unknown.
	opQueryIPBody  = hx(`06 a2 ee a1 | 02 | 09 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00`)
	opQueryIPReply = hx(`3d fb 94 f5 04 87 82 fd 04 04 89 89 ff 84 80 0c 01 00 | 01 | 01 | 09 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 | 01 08 "10.0.0.1"`)
)

// specOpsTable is mooncake-ops.md §1: every store-operation RPC, including
// the storage-client ones this package never calls (their hashes still
// identify the schema).
var specOpsTable = []struct {
	name      string
	id        uint32
	req, resp uint32
	args, res Literal
}{
	{"Remove", 0xf1b09774, 0x18e89fee, 0xaf2868cc, MethodRemove.Args, MethodRemove.Result},
	{"BatchRemove", 0x5902407d, 0x197a9ca0, 0x39fc52ce, MethodBatchRemove.Args, MethodBatchRemove.Result},
	{"RemoveByRegex", 0xfccc1fd3, 0x18e89fee, 0xb83381fe, MethodRemoveByRegex.Args, MethodRemoveByRegex.Result},
	{"RemoveAll", 0xd978ceb0, 0x48a6c274, 0x86666834, MethodRemoveAll.Args, MethodRemoveAll.Result},
	{"PollRemoveAll", 0x05b21025, 0x3c6d83e0, 0x90e800d2, Args(LitUUID), Expected(LitBool, LitErrorCode)},
	{"CreateCopyTask", 0x7801dba0, 0x5e43cb12, 0x8f9bae8a, MethodCreateCopyTask.Args, MethodCreateCopyTask.Result},
	{"CreateMoveTask", 0x97200d2c, 0x311dab7a, 0x8f9bae8a, MethodCreateMoveTask.Args, MethodCreateMoveTask.Result},
	{"QueryTask", 0x07816a74, 0x3c6d83e0, 0x02d57de6, MethodQueryTask.Args, MethodQueryTask.Result},
	{"FetchTasks", 0xdf141844, 0x759a9b84, 0x59e14526, Args(LitUUID, LitU64), Expected(Vec(litTaskAssignment), LitErrorCode)},
	{"MarkTaskToComplete", 0xa7060015, 0x22069e02, 0xaf2868cc, Args(LitUUID, litTaskCompleteRequest), litExpVoid},
	{"CopyStart", 0x29836d38, 0xb5bddd1a, 0x7c1668cc, Args(LitUUID, LitString, LitString, LitString, Vec(LitString)), Expected(litCopyStartResponse, LitErrorCode)},
	{"CopyEnd", 0xf696f1d9, 0x6a2101f4, 0xaf2868cc, Args(LitUUID, LitString, LitString), litExpVoid},
	{"CopyRevoke", 0x1f558b5c, 0x6a2101f4, 0xaf2868cc, Args(LitUUID, LitString, LitString), litExpVoid},
	{"MoveStart", 0x458e4ce0, 0xef2ee70c, 0x3e9ed4b8, Args(LitUUID, LitString, LitString, LitString, LitString), Expected(litMoveStartResponse, LitErrorCode)},
	{"MoveEnd", 0x636a8b47, 0x6a2101f4, 0xaf2868cc, Args(LitUUID, LitString, LitString), litExpVoid},
	{"MoveRevoke", 0x919b315f, 0x6a2101f4, 0xaf2868cc, Args(LitUUID, LitString, LitString), litExpVoid},
	{"UpsertStart", 0xa1335e41, 0xe385bd0e, 0xc43927a6, MethodPutStart.Args, MethodPutStart.Result},
	{"UpsertEnd", 0x2e20e258, 0xd1819222, 0xaf2868cc, MethodPutEnd.Args, MethodPutEnd.Result},
	{"UpsertRevoke", 0x610b042e, 0x1b7a228a, 0xaf2868cc, MethodPutRevoke.Args, MethodPutRevoke.Result},
	{"GetReplicaListByRegex", 0xfe6af93c, 0x7cf91ed8, 0x7343c040, Args(LitString, LitString), Expected(Map(LitString, Vec(ReplicaDescLiteral(LayoutHEAD))), LitErrorCode)},
	{"BatchGetReplicaList", 0x1b0d20ff, 0x00f78d62, 0x20c5453a, MethodBatchGetReplicaList.Args, MethodBatchGetReplicaList.Result},
	{"QuerySegmentStatus", 0x79b8af8c, 0x9dcffa76, 0x9851e9a8, MethodQuerySegmentStatus.Args, MethodQuerySegmentStatus.Result},
	{"QuerySegmentStatusById", 0x573fd453, 0x3c6d83e0, 0x9851e9a8, MethodQuerySegmentStatusByID.Args, MethodQuerySegmentStatusByID.Result},
	{"BatchQueryIp", 0x7ce454a9, 0xa1eea206, 0xf594fb3c, MethodBatchQueryIP.Args, MethodBatchQueryIP.Result},
	{"GetAllNoFSegments", 0x04eb3c85, 0, 0x8c274b46, nil, nil},
	{"UnmountSegment", 0x6f10b465, 0xd4c512e0, 0xaf2868cc, MethodUnmountSegment.Args, MethodUnmountSegment.Result},
}

// Literals of §1.1 for the storage-client types, only to check their codes.
var (
	litTaskAssignment      = Struct(LitUUID, litEnum, LitString, LitI64, LitU32)
	litTaskCompleteRequest = Struct(LitUUID, litEnum, LitString)
	litCopyStartResponse   = Struct(ReplicaDescLiteral(LayoutHEAD), Vec(ReplicaDescLiteral(LayoutHEAD)))
	litMoveStartResponse   = Struct(ReplicaDescLiteral(LayoutHEAD), Opt(ReplicaDescLiteral(LayoutHEAD)))
)

func TestOpsSpecTable(t *testing.T) {
	for _, r := range specOpsTable {
		if got := FunctionID(r.name); got != r.id {
			t.Errorf("%s: id 0x%08x, spec 0x%08x", r.name, got, r.id)
		}
		if r.args != nil && r.args.Code() != r.req {
			t.Errorf("%s args: 0x%08x, spec 0x%08x", r.name, r.args.Code(), r.req)
		}
		if r.res != nil && r.res.Code() != r.resp {
			t.Errorf("%s result: 0x%08x, spec 0x%08x", r.name, r.res.Code(), r.resp)
		}
	}
	for _, c := range []struct {
		name string
		lit  Literal
		want string
		code uint32
	}{
		{"QueryTaskResponse", LitQueryTaskResponse, "fd fd 04 04 89 89 ff 01 01 03 03 fd 04 04 89 89 ff 80 0c ff", 0x594d7c7c},
		{"TaskAssignment", litTaskAssignment, "fd fd 04 04 89 89 ff 01 80 0c 03 02 ff", 0x9392467a},
		{"TaskCompleteRequest", litTaskCompleteRequest, "fd fd 04 04 89 89 ff 01 80 0c ff", 0x6d300152},
		{"CopyStartResponse", litCopyStartResponse, "", 0x7e62a5f8},
		{"MoveStartResponse", litMoveStartResponse, "", 0x68f22750},
		{"Remove args", MethodRemove.Args, "fd 80 0c 0b 80 0c ff", 0},
		{"BatchRemove args", MethodBatchRemove.Args, "fd 84 80 0c 0b 80 0c ff", 0},
		{"CreateCopyTask args", MethodCreateCopyTask.Args, "fd 80 0c 80 0c 84 80 0c ff", 0},
		{"CreateMoveTask args", MethodCreateMoveTask.Args, "fd 80 0c 80 0c 80 0c 80 0c ff", 0},
	} {
		if c.want != "" {
			if got := fmt.Sprintf("% x", []byte(c.lit)); got != c.want {
				t.Errorf("%s literal %s, spec %s", c.name, got, c.want)
			}
		}
		if c.code != 0 && c.lit.Code() != c.code {
			t.Errorf("%s code 0x%08x, spec 0x%08x", c.name, c.lit.Code(), c.code)
		}
	}
	if n := len(litCopyStartResponse); n != 103 {
		t.Errorf("CopyStartResponse literal is %d bytes, spec says 103", n)
	}
}

// The requests of §3 and §4.2/§5.1 (untagged, the spec's raw client) and the
// real master's replies, through the client.
func TestOpsCapturedUntagged(t *testing.T) {
	c := dialScripted(t, []exchange{
		{req: opRemoveReq, maskSeq: true, resp: opRemoveLeased},
		{req: opRemoveForceReq, maskSeq: true, resp: respFrame(2, 0, opRemoveOKBody)},
		{req: opBatchRemoveReq, maskSeq: true, resp: opBatchRemoveResp},
		{req: opRegexReq, maskSeq: true, resp: opRegexResp},
		{req: reqFrame(0, MethodRemoveByRegex, hx(`ee 9f e8 18 07 "(?i)abd" 00 07 "default"`)), maskSeq: true, resp: respFrame(0, 0, opRegexInvalidBody)},
		{req: opRemoveAllReq, maskSeq: true, resp: opRemoveAllResp},
		{req: reqFrame(0, MethodRemoveAll, opRemoveAllForceBody), maskSeq: true, resp: respFrame(0, 0, opRemoveAllForceReply)},
		{req: opCreateMoveReq, maskSeq: true, resp: opCreateMoveResp},
		{req: opQueryTaskReq, maskSeq: true, resp: opQueryTaskResp},
		{req: reqFrame(0, MethodCreateCopyTask, hx(`12 cb 43 5e 03 "mv1" 07 "default" 01 04 "nope"`)), maskSeq: true, resp: respFrame(0, 0, opCopyUnknownTargetBody)},
		{req: opSegStatusReq, maskSeq: true, resp: opSegStatusResp},
		{req: reqFrame(0, MethodBatchQueryIP, opQueryIPBody), maskSeq: true, resp: respFrame(0, 0, opQueryIPReply)},
	})
	ctx := ctx5(t)
	err := c.Remove(ctx, "a0", false)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Code != CodeObjectHasLease || !oe.Forceable() || oe.Busy() || oe.Subject != "a0" || !errors.Is(err, CodeObjectHasLease) {
		t.Fatalf("§3.1 leased: %v", err)
	}
	var me *MasterError
	if !errors.As(err, &me) || me.Method != "Remove" {
		t.Fatalf("§3.1: no *MasterError under %v", err)
	}
	if err := c.Remove(ctx, "a0", true); err != nil {
		t.Fatalf("§3.1 forced: %v", err)
	}
	res, err := c.BatchRemove(ctx, []string{"a1", "a2", "missing"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []RemoveResult{{"a1", CodeObjectHasLease}, {"a2", CodeOK}, {"missing", CodeObjectNotFound}}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("§3.2 %v", res)
		}
	}
	if !res[0].Forceable() || res[1].Err() != nil || !res[1].Removed() || !errors.Is(res[2].Err(), CodeObjectNotFound) || res[2].Reason() == "" {
		t.Fatalf("§3.2 helpers %v", res)
	}
	if n, err := c.RemoveByRegex(ctx, "r", false); err != nil || n != 3 {
		t.Fatalf("§3.3 = %d, %v", n, err)
	}
	if _, err := c.RemoveByRegex(ctx, opRegexInvalidInput, false); !errors.As(err, &oe) || oe.Code != CodeInvalidParams || oe.Subject != opRegexInvalidInput {
		t.Fatalf("§3.3 invalid: %v", err)
	}
	if n, err := c.RemoveAll(ctx, false, "default"); err != nil || n != 3 {
		t.Fatalf("§3.4 = %d, %v", n, err)
	}
	if n, err := c.RemoveAll(ctx, true, ""); err != nil || n != 2 {
		t.Fatalf("§3.4 forced = %d, %v", n, err)
	}
	id, err := c.CreateMoveTask(ctx, "mv1", "127.0.0.1:17777", "127.0.0.1:17778")
	if err != nil || id != opTaskID {
		t.Fatalf("§4.2 CreateMoveTask = %v, %v", id, err)
	}
	task, err := c.QueryTask(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	created := time.UnixMilli(opTaskCreatedMillis)
	if task.ID != id || task.Type != TaskReplicaMove || task.Status != TaskPending || !task.CreatedAt.Equal(created) ||
		!task.UpdatedAt.Equal(created) || task.AssignedClient != opExecutor || task.Message != "" || task.Status.Done() || task.TimedOut() {
		t.Fatalf("§4.2 QueryTask %+v", task)
	}
	if _, err := c.CreateCopyTask(ctx, "mv1", []string{"nope"}); !errors.As(err, &oe) || oe.Code != CodeInvalidParams || oe.Op != "CreateCopyTask" {
		t.Fatalf("§4.2 unknown target: %v", err)
	}
	if st, err := c.QuerySegmentStatus(ctx, "127.0.0.1:17778"); err != nil || st != SegmentDraining || st.Allocatable() {
		t.Fatalf("§5.1 = %v, %v", st, err)
	}
	ips, err := c.BatchQueryIP(ctx, []UUID{{9, 9}, {1, 1}})
	if err != nil || len(ips) != 1 || len(ips[UUID{9, 9}]) != 1 || ips[UUID{9, 9}][0] != "10.0.0.1" {
		t.Fatalf("§5.1 BatchQueryIp = %v, %v", ips, err)
	}
}

// §3.6 and §4.9: with tagged bodies the client sends exactly what
// Mooncake's own MasterClient sent.
func TestOpsCapturedTagged(t *testing.T) {
	specID, err := ParseUUID(opSpecTaskIDString)
	if err != nil || specID.String() != opSpecTaskIDString {
		t.Fatalf("§1.1 id %v %v", specID, err)
	}
	if !bytes.Equal(AppendBody(nil, LitUUID, BodyFormat{}, func(e *Encoder) { e.UUID(specID) })[4:], opTaggedQueryTaskBody[12:]) {
		t.Fatal("§1.1: the decimal id does not name the captured bytes")
	}
	taskReply := AppendBody(nil, MethodQueryTask.Result, BodyFormat{Tagged: true}, func(e *Encoder) {
		e.Bool(true)
		e.Task(Task{ID: specID, Type: TaskReplicaCopy, Status: TaskSuccess, AssignedClient: opExecutor, Message: TaskMessageSucceeded})
	})
	c := dialScripted(t, []exchange{
		{req: reqFrame(0, MethodBatchRemove, opTaggedBatchRemoveBody), resp: respFrame(0, 0, opTaggedBatchRemoveReply)},
		{req: reqFrame(1, MethodRemoveByRegex, opTaggedRegexBody), resp: respFrame(1, 0, opRegexResp[16:])},
		{req: reqFrame(2, MethodRemoveAll, opTaggedRemoveAllBody), resp: respFrame(2, 0, opTaggedRemoveAllReply)},
		{req: reqFrame(3, MethodCreateCopyTask, opTaggedCopyTaskBody), resp: respFrame(3, 0, opCreateMoveResp[16:])},
		{req: reqFrame(4, MethodCreateMoveTask, opTaggedMoveTaskBody), resp: respFrame(4, 0, opCreateMoveResp[16:])},
		{req: reqFrame(5, MethodQueryTask, opTaggedQueryTaskBody), resp: respFrame(5, 0, taskReply)},
	}, WithBodyFormat(BodyFormat{Tagged: true}))
	ctx := ctx5(t)
	res, err := c.BatchRemove(ctx, []string{"cap0", "nokey"}, false)
	if err != nil || len(res) != 2 || !res[0].Removed() || res[1].Code != CodeObjectNotFound {
		t.Fatalf("§3.6 BatchRemove %v %v", res, err)
	}
	if n, err := c.RemoveByRegex(ctx, "^d[0-9]$", false); err != nil || n != 3 {
		t.Fatalf("§3.6 RemoveByRegex %d %v", n, err)
	}
	if n, err := c.RemoveAll(ctx, true, "default"); err != nil || n != 4 {
		t.Fatalf("§3.6 RemoveAll %d %v", n, err)
	}
	if _, err := c.CreateCopyTask(ctx, "cc0", []string{"127.0.0.1:17778"}); err != nil {
		t.Fatalf("§4.9 CreateCopyTask %v", err)
	}
	if _, err := c.CreateMoveTask(ctx, "cc0", "127.0.0.1:17777", "127.0.0.1:17778"); err != nil {
		t.Fatalf("§4.9 CreateMoveTask %v", err)
	}
	task, err := c.QueryTask(ctx, specID)
	if err != nil || task.Status != TaskSuccess || !task.Status.Done() || task.Message != TaskMessageSucceeded {
		t.Fatalf("§4.9 QueryTask %+v %v", task, err)
	}
}

// The encoder must produce the real master's reply bodies exactly, so the
// sandbox (which uses it) answers real bytes.
func TestOpsReplyBodiesEncode(t *testing.T) {
	tg := BodyFormat{Tagged: true}
	void := func(codes ...ErrorCode) func(*Encoder) {
		return func(e *Encoder) {
			e.Len(len(codes))
			for _, c := range codes {
				if c == CodeOK {
					e.Bool(true)
					continue
				}
				e.Bool(false)
				e.I32(int32(c))
			}
		}
	}
	fail := func(c ErrorCode) func(*Encoder) { return func(e *Encoder) { e.Bool(false); e.I32(int32(c)) } }
	created := time.UnixMilli(opTaskCreatedMillis)
	cases := []struct {
		name string
		lit  Literal
		pack func(*Encoder)
		want []byte
	}{
		{"§3.1 leased", MethodRemove.Result, fail(CodeObjectHasLease), opRemoveLeased[16:]},
		{"§3.1 ok", MethodRemove.Result, func(e *Encoder) { e.Bool(true) }, opRemoveOKBody},
		{"§3.2", MethodBatchRemove.Result, void(CodeObjectHasLease, CodeOK, CodeObjectNotFound), opBatchRemoveResp[16:]},
		{"§3.6 BatchRemove", MethodBatchRemove.Result, void(CodeOK, CodeObjectNotFound), opTaggedBatchRemoveReply},
		{"§3.3", MethodRemoveByRegex.Result, func(e *Encoder) { e.Bool(true); e.I64(3) }, opRegexResp[16:]},
		{"§3.3 invalid", MethodRemoveByRegex.Result, fail(CodeInvalidParams), opRegexInvalidBody},
		{"§3.4", MethodRemoveAll.Result, func(e *Encoder) { e.I64(3) }, opRemoveAllResp[16:]},
		{"§3.4 forced", MethodRemoveAll.Result, func(e *Encoder) { e.I64(2) }, opRemoveAllForceReply},
		{"§3.6 RemoveAll", MethodRemoveAll.Result, func(e *Encoder) { e.I64(4) }, opTaggedRemoveAllReply},
		{"§4.2 CreateMoveTask", MethodCreateMoveTask.Result, func(e *Encoder) { e.Bool(true); e.UUID(opTaskID) }, opCreateMoveResp[16:]},
		{"§4.2 unknown target", MethodCreateCopyTask.Result, fail(CodeInvalidParams), opCopyUnknownTargetBody},
		{"§4.2 QueryTask", MethodQueryTask.Result, func(e *Encoder) {
			e.Bool(true)
			e.Task(Task{ID: opTaskID, Type: TaskReplicaMove, Status: TaskPending, CreatedAt: created, UpdatedAt: created, AssignedClient: opExecutor})
		}, opQueryTaskResp[16:]},
		{"§5.1 QuerySegmentStatus", MethodQuerySegmentStatus.Result, func(e *Encoder) { e.Bool(true); e.I32(int32(SegmentDraining)) }, opSegStatusResp[16:]},
		{"§5.1 BatchQueryIp", MethodBatchQueryIP.Result, func(e *Encoder) {
			e.Bool(true)
			e.Len(1)
			e.UUID(UUID{9, 9})
			e.Strings([]string{"10.0.0.1"})
		}, opQueryIPReply},
	}
	for _, c := range cases {
		if got := AppendBody(nil, c.lit, tg, c.pack); !bytes.Equal(got, c.want) {
			t.Errorf("%s:\n got % x\nwant % x", c.name, got, c.want)
		}
	}
	// And the requests, untagged and tagged, from the encoder alone.
	for _, c := range []struct {
		name string
		m    Method
		f    BodyFormat
		pack func(*Encoder)
		want []byte
	}{
		{"§3.1", MethodRemove, BodyFormat{}, func(e *Encoder) { e.Str("a0"); e.Bool(false); e.Str("default") }, opRemoveReq[20:]},
		{"§3.4 forced", MethodRemoveAll, BodyFormat{}, func(e *Encoder) { e.Bool(true); e.Str("") }, opRemoveAllForceBody},
		{"§5.1 BatchQueryIp", MethodBatchQueryIP, BodyFormat{}, func(e *Encoder) { e.Len(2); e.UUID(UUID{9, 9}); e.UUID(UUID{1, 1}) }, opQueryIPBody},
		{"§3.6 RemoveAll", MethodRemoveAll, tg, func(e *Encoder) { e.Bool(true); e.Str("default") }, opTaggedRemoveAllBody},
	} {
		if got := AppendBody(nil, c.m.Args, c.f, c.pack); !bytes.Equal(got, c.want) {
			t.Errorf("%s request:\n got % x\nwant % x", c.name, got, c.want)
		}
	}
	// Header lengths of the captured frames are what their bodies hold.
	for i, f := range [][]byte{opRemoveReq, opBatchRemoveReq, opRegexReq, opRemoveAllReq, opCreateMoveReq, opQueryTaskReq, opSegStatusReq} {
		if _, _, rest, err := DecodeRequestFrame(f); err != nil || len(rest) != 0 {
			t.Errorf("request %d: %v, %d bytes left", i, err, len(rest))
		}
	}
	for i, f := range [][]byte{opRemoveLeased, opBatchRemoveResp, opRegexResp, opRemoveAllResp, opCreateMoveResp, opQueryTaskResp, opSegStatusResp} {
		if _, _, rest, err := DecodeResponseFrame(f); err != nil || len(rest) != 0 {
			t.Errorf("reply %d: %v, %d bytes left", i, err, len(rest))
		}
	}
}
