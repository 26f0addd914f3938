package commands

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
)

type clearJSON struct {
	Operation string `json:"operation"`
	Master    string `json:"master"`
	Tenant    string `json:"tenant"`
	Scope     string `json:"scope"`
	Force     bool   `json:"force"`
	DryRun    bool   `json:"dry_run"`
	Planned   *int   `json:"planned"`
	Present   *int   `json:"present"`
	Removed   int    `json:"removed"`
	Absent    int    `json:"absent"`
	Kept      []struct {
		Key       string `json:"key"`
		Reason    string `json:"reason"`
		Detail    string `json:"detail"`
		Forceable bool   `json:"forceable"`
	} `json:"kept"`
	KeptCount *int `json:"kept_count"`
	Forced    int  `json:"forced"`
	Keys      []struct {
		Key    string `json:"key"`
		Chunk  *int   `json:"chunk"`
		Rank   *int   `json:"rank"`
		State  string `json:"state"`
		Result string `json:"result"`
	} `json:"keys"`
	Request string   `json:"request"`
	Warning string   `json:"warning"`
	Notes   []string `json:"notes"`
	Verify  *struct {
		Remaining  int      `json:"remaining"`
		Reappeared []string `json:"reappeared"`
	} `json:"verify"`
}

func keptReasons(v clearJSON) map[string]string {
	out := map[string]string{}
	for _, k := range v.Kept {
		out[k.Key] = k.Reason
	}
	return out
}

// A prompt of 5 chunks: 0 free, 1 leased, 2 being written, 3 absent, 4
// free. Without force the leased and the written key stay (exit 1, each
// with its reason); with force only the written one does.
func TestClearMasterPromptLeasesAndBusyKeys(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 1200, "builtin")
	ctx := context.Background()
	if err := s.Populate(ctx, []string{keys[0], keys[1], keys[4]}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartPuts(ctx, []string{keys[2]}); err != nil {
		t.Fatal(err)
	}
	lease(t, s, keys[1])
	base := append([]string{"clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--yes", "-o", "json"}, promptArgs(1200)...)

	// dry run: the plan, through the admin API, changes nothing
	r := runLMC(t, runOpts{}, append(base, "--dry-run")...)
	if r.code != 0 {
		t.Fatalf("dry run: %d %s", r.code, r.stderr)
	}
	v := decodeJSON[clearJSON](t, r.stdout)
	states := []string{}
	for _, k := range v.Keys {
		states = append(states, k.State)
	}
	if !v.DryRun || *v.Planned != 5 || *v.Present != 3 || !slices.Equal(states, []string{"present", "present", "being-written", "absent", "present"}) {
		t.Fatalf("dry run plan: %+v", v)
	}
	if !strings.Contains(v.Request, "BatchRemove(5 keys, force=false, tenant=\"default\")") || len(s.Keys()) != 3 {
		t.Fatalf("dry run: request %q, keys left %d", v.Request, len(s.Keys()))
	}
	if s.Calls()["BatchRemove"] != 0 || s.Calls()["BatchExistKey"] != 1 {
		t.Fatalf("dry run calls: %v", s.Calls())
	}

	r = runLMC(t, runOpts{}, base...)
	if r.code != ExitFailed {
		t.Fatalf("clear with a leased and a busy key: exit %d, %s", r.code, r.stderr)
	}
	v = decodeJSON[clearJSON](t, r.stdout)
	if v.Removed != 2 || v.Absent != 1 || *v.KeptCount != 2 {
		t.Fatalf("outcome: %+v", v)
	}
	reasons := keptReasons(v)
	if reasons[keys[1]] != "leased" || reasons[keys[2]] != "being-written" {
		t.Fatalf("kept: %+v", v.Kept)
	}
	for _, k := range v.Kept {
		if k.Forceable != (k.Key == keys[1]) || k.Detail == "" {
			t.Errorf("kept %+v", k)
		}
	}
	if !strings.Contains(r.stderr, "lmc: 2 keys kept on "+s.Addr()+" (1 leased, 1 being-written)") ||
		!strings.Contains(r.stderr, "--force") || !strings.Contains(r.stderr, "cannot be removed, even with --force") {
		t.Errorf("stderr: %s", r.stderr)
	}
	results := []string{}
	for _, k := range v.Keys {
		results = append(results, k.Result)
	}
	if !slices.Equal(results, []string{"removed", "leased", "being-written", "not-found", "removed"}) {
		t.Errorf("per-key results %v", results)
	}
	if s.Calls()["BatchExistKey"] != 1 {
		t.Errorf("clear asked BatchExistKey: %v", s.Calls())
	}

	// force: the leased key goes, the one being written cannot
	r = runLMC(t, runOpts{}, append(base, "--force", "--verify")...)
	v = decodeJSON[clearJSON](t, r.stdout)
	if r.code != ExitFailed || v.Removed != 1 || v.Absent != 3 || *v.KeptCount != 1 || keptReasons(v)[keys[2]] != "being-written" {
		t.Fatalf("forced: exit %d %+v", r.code, v)
	}
	if v.Verify == nil || v.Verify.Remaining != 1 || len(v.Verify.Reappeared) != 0 {
		t.Fatalf("verify: %+v", v.Verify)
	}
	if got := s.Keys(); len(got) != 0 {
		t.Errorf("readable keys left: %v", got)
	}
}

// The spec's frames for BatchRemove: the request as §3.2 lays it out with
// the prompt's keys, and the reply's per-key codes.
func TestClearMasterBatchRemoveFrames(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 600, "builtin")
	if err := s.Populate(context.Background(), keys[1:]); err != nil {
		t.Fatal(err)
	}
	lease(t, s, keys[1])
	rl := startRelay(t, s.Addr())
	r := runLMC(t, runOpts{}, append([]string{"clear", "--master", rl.addr(), "--yes", "-o", "json"}, promptArgs(600)...)...)
	if r.code != ExitFailed {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	calls := rl.callsOf(mooncake.MethodBatchRemove)
	if len(calls) != 1 {
		t.Fatalf("BatchRemove calls: %d (methods %v)", len(calls), rl.methods())
	}
	c := calls[0]
	want := requestFrame(mooncake.MethodBatchRemove, c.seq, func(e *mooncake.Encoder) { e.Strings(keys); e.Bool(false); e.Str("default") })
	sameFrame(t, "BatchRemove request", c.req, want)
	if !strings.HasPrefix(string(c.req[mooncake.RequestHeaderSize:]), string(specHex(t, "a0 9c 7a 19 | 03"))) {
		t.Errorf("request body does not start with the spec's hash and count: %x", c.req[mooncake.RequestHeaderSize:])
	}
	// [−704 absent, −706 leased, ok]: the spec's reply layout
	sameFrame(t, "BatchRemove reply", c.rsp, specHex(t, `15 00 00 00 00 00 00 00 16 00 00 00 00 00 00 00 | cf 52 fc 39 04 84 87 fa 01 00 | 03 | 00 40 fd ff ff | 00 3e fd ff ff | 01`))
	if len(rl.methods()) != 1 {
		t.Errorf("lmc called more than BatchRemove: %v", rl.methods())
	}
}

// §3.3: RemoveByRegex("r", false, "default") byte for byte, with the real
// master's answer of 3 removed (r1 had a lease); the admin listing tells
// r1 was kept.
func TestClearMasterMatchFrames(t *testing.T) {
	s := startMaster(t)
	if err := s.Populate(context.Background(), []string{"r0", "r1", "r2", "xr3", "R4"}); err != nil {
		t.Fatal(err)
	}
	lease(t, s, "r1")
	rl := startRelay(t, s.Addr())
	r := runLMC(t, runOpts{}, "clear", "--master", rl.addr(), "--admin", s.AdminURL(), "--match", "r", "--yes", "-o", "json")
	if r.code != ExitFailed {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	v := decodeJSON[clearJSON](t, r.stdout)
	if v.Scope != "match" || *v.Planned != 4 || v.Removed != 3 || *v.KeptCount != 1 || v.Kept[0].Key != "r1" || v.Kept[0].Reason != "leased-or-replicating" || !v.Kept[0].Forceable {
		t.Fatalf("outcome %+v", v)
	}
	calls := rl.callsOf(mooncake.MethodRemoveByRegex)
	if len(calls) != 1 {
		t.Fatalf("calls %v", rl.methods())
	}
	sameFrame(t, "RemoveByRegex request", calls[0].req, specHex(t, `15 00 00 00 01 00 00 00 d3 1f cc fc 0f 00 00 00 00 00 00 00 | ee 9f e8 18 | 01 72 | 00 | 07 "default"`))
	sameFrame(t, "RemoveByRegex reply", calls[0].rsp, specHex(t, `15 00 00 00 01 00 00 00 12 00 00 00 00 00 00 00 | ff 81 33 b8 04 87 03 01 00 | 01 | 03 00 00 00 00 00 00 00`))
	if got := s.Keys(); !slices.Equal(got, []string{"R4", "r1"}) {
		t.Errorf("left %v", got)
	}
	// the same with force removes r1
	r = runLMC(t, runOpts{}, "clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--match", "^r", "--force", "--yes", "-o", "json")
	v = decodeJSON[clearJSON](t, r.stdout)
	if r.code != 0 || v.Removed != 1 || *v.KeptCount != 0 {
		t.Fatalf("forced: %d %+v %s", r.code, v, r.stderr)
	}
	// an invalid pattern is refused before anything is sent
	r = runLMC(t, runOpts{}, "clear", "--master", rl.addr(), "--match", "(?i)abd", "--yes")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--match: invalid ECMAScript regex") {
		t.Errorf("invalid regex: %d %s", r.code, r.stderr)
	}
	if len(rl.callsOf(mooncake.MethodRemoveByRegex)) != 1 {
		t.Error("an invalid regex was sent")
	}
	// a pattern Go cannot match identically: fine without a listing, refused with one
	r = runLMC(t, runOpts{}, "clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--match", "^ab(?=c)", "--yes")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "lmc cannot list what this pattern matches") {
		t.Errorf("lookahead with --admin: %d %s", r.code, r.stderr)
	}
}

// §3.4: RemoveAll(false, "default") and RemoveAll(true, "") byte for byte
// (5 keys, 2 leased: 3 removed, then 2).
func TestClearMasterAllFrames(t *testing.T) {
	s := startMaster(t)
	keys := []string{"a0", "a1", "a2", "a3", "a4"}
	if err := s.Populate(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	lease(t, s, "a1", "a3")
	rl := startRelay(t, s.Addr())
	r := runLMC(t, runOpts{}, "clear", "--master", rl.addr(), "--admin", s.AdminURL(), "--all", "--tenant", "default", "--yes", "-o", "json")
	v := decodeJSON[clearJSON](t, r.stdout)
	if r.code != ExitFailed || v.Tenant != "default" || v.Removed != 3 || *v.KeptCount != 2 || *v.Planned != 5 {
		t.Fatalf("exit %d %+v %s", r.code, v, r.stderr)
	}
	r = runLMC(t, runOpts{}, "clear", "--master", rl.addr(), "--all", "--force", "--yes", "-o", "json")
	v = decodeJSON[clearJSON](t, r.stdout)
	if r.code != 0 || v.Tenant != "" || v.Removed != 2 || v.KeptCount != nil || v.Kept != nil {
		t.Fatalf("forced: exit %d %+v %s", r.code, v, r.stderr)
	}
	calls := rl.callsOf(mooncake.MethodRemoveAll)
	if len(calls) != 2 {
		t.Fatalf("calls %v", rl.methods())
	}
	sameFrame(t, "RemoveAll request", calls[0].req, specHex(t, `15 00 00 00 0b 00 00 00 b0 ce 78 d9 0d 00 00 00 00 00 00 00 | 74 c2 a6 48 | 00 | 07 "default"`))
	sameFrame(t, "RemoveAll reply", calls[0].rsp, specHex(t, `15 00 00 00 0b 00 00 00 0f 00 00 00 00 00 00 00 | 35 68 66 86 04 03 00 | 03 00 00 00 00 00 00 00`))
	if got, want := calls[1].req[mooncake.RequestHeaderSize:], specHex(t, `74 c2 a6 48 | 01 | 00`); string(got) != string(want) {
		t.Errorf("RemoveAll(true, \"\") body %x, want %x", got, want)
	}
	if got, want := calls[1].rsp[mooncake.ResponseHeaderSize:], specHex(t, `35 68 66 86 04 03 00 | 02 00 00 00 00 00 00 00`); string(got) != string(want) {
		t.Errorf("RemoveAll(true, \"\") reply %x, want %x", got, want)
	}
}

// The guards: no --yes off a terminal, a "no" on one, the force offer.
func TestClearMasterGuards(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 600, "builtin")
	if err := s.Populate(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	base := append([]string{"clear", "--master", s.Addr(), "--admin", s.AdminURL()}, promptArgs(600)...)
	r := runLMC(t, runOpts{}, base...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "refusing to clear without --yes when not on a terminal") {
		t.Fatalf("no --yes: %d %s", r.code, r.stderr)
	}
	r = runLMC(t, runOpts{tty: true, stdin: "n\n"}, base...)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "plan: remove 3 chunk keys of a 600-token prompt (model "+model+", worker 0) from Mooncake master "+s.Addr()+", tenant default (3 in the store") ||
		!strings.Contains(r.stderr, "clear cancelled") || len(s.Keys()) != 3 {
		t.Fatalf("declined: %d %s", r.code, r.stderr)
	}
	lease(t, s, keys[0])
	r = runLMC(t, runOpts{tty: true, stdin: "y\ny\n"}, base...)
	if r.code != 0 || !strings.Contains(r.stderr, "1 key kept because it was read in the last lease period. Remove it with force?") ||
		!strings.Contains(r.stdout, "✓ removed 3 keys from Mooncake master "+s.Addr()+" (tenant \"default\"); 1 of them with force") || len(s.Keys()) != 0 {
		t.Fatalf("force offer: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"clear", "--master", s.Addr(), "--yes"}, "nothing to clear on the master"},
		{[]string{"clear", "--master", s.Addr(), "--yes", "--all", "--match", "x"}, "give one of a prompt, --match or --all (got match and all)"},
		{[]string{"clear", "--master", s.Addr(), "--yes", "--match", ""}, "the empty regex matches every key; use --all"},
		{[]string{"clear", "--master", s.Addr(), "--yes", "--all", "--verify"}, "--verify needs --admin URL"},
		{[]string{"clear", "--admin", s.AdminURL(), "--yes", "--all"}, "lmc clear on a Mooncake store needs --master HOST:PORT"},
		{[]string{"clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--tenant", "t2", "--yes", "--all"}, "--admin sees only the default tenant"},
		{[]string{"clear", "--controller", "http://127.0.0.1:1", "--instance", "i", "--match", "x"}, "--match acts on a Mooncake store: pass --master"},
		{[]string{"clear", "--yes", "--all"}, "--all acts on a Mooncake store"},
		{[]string{"clear", "--instance", "i"}, "--controller URL is required"},
	} {
		r := runLMC(t, runOpts{}, tc.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// --all-ranks removes every rank's key of each chunk.
func TestClearMasterAllRanks(t *testing.T) {
	s := startMaster(t)
	rk := rankKeys(t, 512, 2)
	all := append(append([]string{}, rk[0]...), rk[1]...)
	if err := s.Populate(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"clear", "--master", s.Addr(), "--world-size", "2", "--yes", "-o", "json"}, promptArgs(512)...)
	r := runLMC(t, runOpts{}, args...)
	if r.code != 0 || !strings.Contains(r.stderr, "--all-ranks acts on all of them") {
		t.Fatalf("rank 0 only: %d %s", r.code, r.stderr)
	}
	if got := s.Keys(); len(got) != 2 {
		t.Fatalf("after rank 0: %v", got)
	}
	r = runLMC(t, runOpts{}, append(args, "--all-ranks")...)
	v := decodeJSON[clearJSON](t, r.stdout)
	if r.code != 0 || v.Removed != 2 || v.Absent != 2 || len(v.Keys) != 4 || *v.Keys[1].Rank != 1 || *v.Keys[2].Chunk != 1 {
		t.Fatalf("all ranks: %d %+v %s", r.code, v, r.stderr)
	}
	if len(s.Keys()) != 0 {
		t.Errorf("left %v", s.Keys())
	}
}

// A dry run of --match lists every matching key (streamed with -o plain),
// and the table says what would be sent.
func TestClearMasterDryRunListing(t *testing.T) {
	s := startMaster(t)
	if err := s.Populate(context.Background(), []string{"m/a@1", "m/b@1", "other"}); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{}, "clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--match", "^m/", "--dry-run")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	slices.Sort(lines)
	if r.code != 0 || !slices.Equal(lines, []string{"m/a@1", "m/b@1"}) {
		t.Fatalf("plain dry run: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runLMC(t, runOpts{tty: true}, "clear", "--master", s.Addr(), "--match", "^m/", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, `dry run: would send RemoveByRegex("^m/", force=false, tenant="default") to `+s.Addr()) {
		t.Fatalf("table dry run without --admin: %d %q", r.code, r.stdout)
	}
	if len(s.Keys()) != 3 || s.Calls()["RemoveByRegex"] != 0 {
		t.Fatal("a dry run removed something")
	}
}

var _ = sandboxmaster.DefaultNode

// --instance and --location are the controller's: clear --master refuses
// them before asking the master anything. (It ignored them, so --all
// --instance i removed every object, exit 0.)
func TestClearMasterRefusesInstanceAndLocation(t *testing.T) {
	s := startMaster(t)
	keys := keysFor(t, 600, "builtin")
	if err := s.Populate(context.Background(), keys); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"clear", "--master", s.Addr(), "--all", "--yes", "--instance", "inst1"},
		{"clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--match", ".", "--yes", "--location", "LocalDiskBackend"},
		append([]string{"clear", "--master", s.Addr(), "--yes", "--instance", "inst1"}, promptArgs(600)...),
	} {
		r := runLMC(t, runOpts{}, args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "applies to clear --controller or --coordinator, not --master") {
			t.Errorf("%v: exit %d %s", args, r.code, r.stderr)
		}
	}
	if n := len(s.Keys()); n != 3 {
		t.Fatalf("%d of 3 keys left", n)
	}
	// A context's --instance (for its controller) stays out of the way.
	dir := t.TempDir()
	cfg := dir + "/config.yaml"
	if err := os.WriteFile(cfg, []byte("current-context: c\ncontexts:\n  c:\n    instance: inst1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runLMC(t, runOpts{env: map[string]string{"LMC_CONFIG": cfg}}, "clear", "--master", s.Addr(), "--all", "--yes", "-o", "json")
	if r.code != 0 || len(s.Keys()) != 0 {
		t.Fatalf("with a context's instance: exit %d %s", r.code, r.stderr)
	}
}

// clear --master --match or --all without a prompt refuses key flags on
// the command line: --all --model m removed every model's objects (the
// key flags select a prompt's keys and were ignored, exit 0).
func TestClearMasterAllRefusesKeyFlags(t *testing.T) {
	s := startMaster(t)
	if err := s.Populate(context.Background(), []string{"a0", "a1"}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"clear", "--master", s.Addr(), "--all", "--yes", "--model", model},
		{"clear", "--master", s.Addr(), "--admin", s.AdminURL(), "--match", "a", "--yes", "--cache-salt", "user-a"},
		{"clear", "--master", s.Addr(), "--all", "--yes", "--engine", "vllm"},
	} {
		r := runLMC(t, runOpts{}, args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "selects a prompt's keys, and there is no prompt") {
			t.Errorf("%v: exit %d %s", args, r.code, r.stderr)
		}
	}
	if n := len(s.Keys()); n != 2 {
		t.Fatalf("%d of 2 keys left", n)
	}
	// A context's model (for the prompt commands) stays out of the way.
	cfg := writeFile(t, "config.yaml", "current-context: c\ncontexts:\n  c:\n    model: "+model+"\n    hash-seed: \"0\"\n")
	r := runLMC(t, runOpts{env: map[string]string{"LMC_CONFIG": cfg}}, "clear", "--master", s.Addr(), "--all", "--yes", "-o", "json")
	if r.code != 0 || len(s.Keys()) != 0 {
		t.Fatalf("with a context's model: exit %d %s", r.code, r.stderr)
	}
}
