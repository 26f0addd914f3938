// The verbs on the Mooncake master itself (clear, move, copy, pin and task
// with --master): their shared flags, the master session, the one function
// that turns a prompt into the keys its KV cache is stored under, and the
// error mapping of the store operations. masterclear.go and mastertasks.go
// hold the verbs; storeinventory.go the read-only 'lmc store'.
package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/doctor"
	"lmc/internal/mooncake"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
)

// storeOpFlags are the flags the verbs on the master add to clear, move and
// pin (the backend flags live in BackendFlags, the token input in
// InputFlags, both shared with the controller path).
type storeOpFlags struct {
	Keys     KeyFlags
	AllRanks bool
	// Engine is --engine and the SGLang and vLLM key flags (masterengine.go);
	// engine the selected one, set by masterEngine.
	Engine EngineFlags
	engine enginekey.Engine

	// clear
	Match string
	All   bool
	Force bool

	// move, copy
	Wait     bool
	Interval time.Duration
}

// addStoreKeyFlags registers the store flags (--master, --admin, --tenant),
// the key flags and --all-ranks.
func addStoreKeyFlags(cmd *cobra.Command, b *BackendFlags, s *storeOpFlags) {
	addStoreFlags(cmd, b)
	addKeyFlags(cmd, &s.Keys)
	cmd.Flags().BoolVar(&s.AllRanks, "all-ranks", false, "with --master: act on every worker id's key of each chunk (world size > 1 without MLA), not only --worker-id's")
}

// addMasterClearFlags registers what 'lmc clear --master' adds to clear.
func addMasterClearFlags(cmd *cobra.Command, b *BackendFlags, in *InputFlags, s *storeOpFlags) {
	addStoreKeyFlags(cmd, b, s)
	addInputFlags(cmd, in)
	fl := cmd.Flags()
	fl.StringVar(&s.Match, "match", "", "with --master: remove every key the ECMAScript regex finds (unanchored, case-sensitive: anchor with ^...$), as the master's RemoveByRegex matches")
	fl.BoolVar(&s.All, "all", false, "with --master: remove every object (RemoveAll; every tenant unless --tenant is given)")
	fl.BoolVar(&s.Force, "force", false, "--master: also remove keys under a read lease (keys being written or replicated stay); --coordinator/--server: delete L2 keys even when pinned (and drop their pins)")
}

// addMasterMoveFlags registers what 'lmc move|copy --master' adds to move
// (which already has the token input, --from and --to).
func addMasterMoveFlags(cmd *cobra.Command, b *BackendFlags, s *storeOpFlags) {
	addStoreKeyFlags(cmd, b, s)
	fl := cmd.Flags()
	fl.BoolVar(&s.Wait, "wait", false, "--master: poll the tasks until each is SUCCESS or FAILED (--timeout bounds the whole wait, default 6m); --coordinator: wait until the move completed or failed (Ctrl-C stops waiting, not the move; --timeout, when given, bounds the whole wait)")
	fl.DurationVar(&s.Interval, "interval", 500*time.Millisecond, "with --wait: time between polls (of the master's tasks or the coordinator's move)")
}

// storeVerb decides whether a verb acts on a Mooncake store (--master or
// --admin) or on the controller, through backendSet (a context may name
// both; the controller is preferred then, as before these verbs knew the
// master). Flags only the store path knows are refused on the controller
// path, naming the fix.
func (f *Factory) storeVerb(b *BackendFlags, storeOnly ...string) (bool, error) {
	kind, err := f.backendSet(b, controllerBackend, storeBackend, controllerBackend)
	if err != nil {
		return false, err
	}
	if kind.name == storeBackend.name {
		return true, nil
	}
	for _, fl := range storeOnly {
		if f.Given.Has(fl) {
			return false, &UsageError{Err: fmt.Errorf("--%s acts on a Mooncake store: pass --master HOST:PORT (the controller path does not take --%s)", fl, fl)}
		}
	}
	return false, nil
}

// masterSession is an open master (RPC) and, when given, its admin API.
type masterSession struct {
	f      *Factory
	addr   string
	c      *mooncake.Client
	adm    *mooncake.Admin
	admURL string
	scan   *storeScan // whole-store walks through the admin API
	tenant string
}

// openMasterSession dials --master (required) and builds the --admin client
// (optional). The admin API's key routes see the default tenant only, so a
// plan through them for another tenant would be about other keys: refused.
func (f *Factory) openMasterSession(ctx context.Context, b *BackendFlags, verb string) (*masterSession, error) {
	if b.Master == "" {
		return nil, &UsageError{Err: fmt.Errorf("%s on a Mooncake store needs --master HOST:PORT (the master's RPC port, default 50051): --admin alone can only read", verb)}
	}
	s := &masterSession{f: f, tenant: b.Tenant}
	if b.Admin != "" {
		if b.Tenant != mooncake.DefaultTenant {
			return nil, &UsageError{Err: fmt.Errorf("--admin sees only the default tenant (its key routes take no tenant), so it cannot plan for --tenant %q: drop --admin to act on that tenant without a lease-free plan", b.Tenant)}
		}
		adm, err := f.adminClient(b.Admin)
		if err != nil {
			return nil, err
		}
		s.adm, s.admURL = adm, adm.BaseURL()
		if s.scan, err = f.newStoreScan(b.Admin); err != nil {
			return nil, err
		}
	}
	addr, err := normalizeMaster(b.Master)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--master: %w", err)}
	}
	s.addr = addr
	if s.c, err = f.dialMaster(ctx, addr, b.Tenant); err != nil {
		return nil, f.withLeaderHint(ctx, s.adm, err)
	}
	return s, nil
}

func (s *masterSession) close() {
	if s.c != nil {
		s.c.Close()
	}
}

// call bounds one request by --timeout (the session's waits have longer
// deadlines of their own).
func (s *masterSession) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.f.Timeout)
}

// lookup asks the admin API about keys, batch by batch, each within one
// --timeout.
func (s *masterSession) lookup(ctx context.Context, keys []string) ([]mooncake.KeyQuery, error) {
	out := make([]mooncake.KeyQuery, 0, len(keys))
	for start := 0; start < len(keys); start += scanBatch {
		cctx, cancel := s.call(ctx)
		qs, err := adminLookup(cctx, s.adm, keys[start:min(start+scanBatch, len(keys))])
		cancel()
		if err != nil {
			return nil, s.adminErr(ctx, err)
		}
		out = append(out, qs...)
	}
	return out, nil
}

// watchedRPC runs one master RPC within --timeout, watched for a peer that
// answers HTTP (watchRPC), and logs it under --verbose as method with the
// tenant and the number of keys it names.
func watchedRPC[T any](ctx context.Context, s *masterSession, method, tenant string, keys int, rpc func(context.Context) (T, error)) (T, error) {
	start := time.Now()
	cctx, cancel := s.call(ctx)
	defer cancel()
	wctx, stop := watchRPC(cctx, s.addr)
	v, err := rpc(wctx)
	err = rpcCause(wctx, err)
	stop()
	s.f.logRPC(method, s.addr, tenant, keys, start, err)
	return v, err
}

// rpcErr explains a failed store operation: a master too old to serve it,
// or the usual master error mapping (exit 3 when unreachable).
func (s *masterSession) rpcErr(op string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if mooncake.Unsupported(err) {
		return fmt.Errorf("Mooncake master %s does not serve %s (%v): the master is too old for this operation (the removal RPCs need a master newer than v0.3.11, the task and segment-status RPCs a recent one); upgrade mooncake_master", s.addr, op, err)
	}
	return s.f.masterErr(s.addr, err)
}

// adminErr explains a failed admin request, with the HA leader when the
// admin API is a standby.
func (s *masterSession) adminErr(ctx context.Context, err error) error {
	return s.f.withLeaderHint(ctx, s.adm, s.f.adminErr(s.admURL, err))
}

// where names the master (and context) for plans and confirmations.
func (s *masterSession) where() string {
	w := "Mooncake master " + s.addr
	if s.f.ActiveContext != "" {
		w += " (context " + s.f.ActiveContext + ")"
	}
	return w
}

// chunkKey is one key a prompt's KV cache is stored under: of a chunk
// (LMCache), page (SGLang) or block (vLLM).
type chunkKey struct {
	Chunk int
	Start int
	End   int
	Rank  int
	Key   string
	// Owners name the SGLang or vLLM ranks that read this object
	// ("tp1_pp0"; an SGLang MLA object is every TP rank's); nil for
	// LMCache, whose Rank is the worker id.
	Owners []string
}

// promptKeys are the keys of one prompt, with how they were computed.
type promptKeys struct {
	Res    *Resolved
	Tokens int
	Ranks  []int // the worker ids whose keys are listed
	Keys   []chunkKey
	// Engine names the key format ("lmcache", "sglang", "vllm"): the
	// engine whose keys these are.
	Engine string
	// SGLang and vLLM (Res is nil): what the engine calls a chunk ("page",
	// "block"), the model, and the rank labels whose objects are listed.
	Unit   string
	Model  string
	Owners []string
}

// keyList is the keys alone, in order.
func (p *promptKeys) keyList() []string {
	out := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		out[i] = k.Key
	}
	return out
}

// promptChunkKeys reads the one prompt of the token input and computes the
// keys its KV cache is stored under: every chunk's key for --worker-id, or
// every rank's with --all-ranks (world size > 1 without MLA). It is the one
// place the verbs on the master turn a prompt into keys; it computes
// LMCache's keys (the key flags, resolved as for lookup), or with --engine
// sglang|vllm the objects that engine stores (enginePromptKeys).
func (f *Factory) promptChunkKeys(ctx context.Context, so *storeOpFlags, in *InputFlags, args []string) (*promptKeys, error) {
	if so.engine == enginekey.SGLang || so.engine == enginekey.VLLM {
		return f.enginePromptKeys(ctx, so, in, args)
	}
	k, allRanks := &so.Keys, so.AllRanks
	res, err := f.resolveKeys(ctx, k, f.Given)
	if err != nil {
		return nil, err
	}
	tokens, err := f.oneTokenPrompt(ctx, args, in, k.Model)
	if err != nil {
		return nil, err
	}
	warn(f.IOStreams, res.Warnings)
	pk := &promptKeys{Res: res, Tokens: len(tokens), Engine: string(enginekey.LMCache), Unit: "chunk", Model: res.Params.Model}
	p := res.Params
	if !allRanks {
		eng, err := lmcachekey.NewEngine(p)
		if err != nil {
			return nil, usageErrorf(err)
		}
		pk.Ranks = []int{p.WorkerID}
		err = eng.Each(tokens, func(c lmcachekey.Chunk) error {
			pk.Keys = append(pk.Keys, chunkKey{Chunk: c.Index, Start: c.Start, End: c.End, Rank: p.WorkerID, Key: c.Key})
			return nil
		})
		if err != nil {
			return nil, err
		}
		if p.WorldSize > 1 && !p.MLA {
			warn(f.IOStreams, []string{fmt.Sprintf("world size %d: acting on worker %d's keys only; every rank stores its own slice of each chunk under its own key: --all-ranks acts on all of them", p.WorldSize, p.WorkerID)})
		}
		return pk, nil
	}
	t, err := doctor.NewRankTable(p, tokens)
	if err != nil {
		return nil, usageErrorf(err)
	}
	pk.Ranks = t.Ranks
	for _, c := range t.Chunks {
		for ri, r := range t.Ranks {
			pk.Keys = append(pk.Keys, chunkKey{Chunk: c.Index, Start: c.Start, End: c.End, Rank: r, Key: c.Keys[ri]})
		}
	}
	return pk, nil
}

// describe says what the keys are, for plans: "4 chunk keys of a 1000-token
// prompt (model m, ranks 0-1)".
func (p *promptKeys) describe() string {
	if p.Res == nil {
		return p.engineDescribe()
	}
	ranks := fmt.Sprintf("worker %d", p.Ranks[0])
	if len(p.Ranks) > 1 {
		ranks = fmt.Sprintf("workers %d-%d", p.Ranks[0], p.Ranks[len(p.Ranks)-1])
	}
	return fmt.Sprintf("%s of a %s (model %s, %s)", iostreams.Plural(len(p.Keys), "chunk key"), fmt.Sprintf("%d-token prompt", p.Tokens), p.Res.Params.Model, ranks)
}

// keyWord is what one key is called in plans: "chunk key" (LMCache),
// "object" (SGLang's and vLLM's per-rank objects).
func (p *promptKeys) keyWord() string {
	if p.Res == nil {
		return "object"
	}
	return "chunk key"
}

// shortPrompt is the warning for a prompt with no keys.
func (p *promptKeys) shortPrompt() string {
	if p.Res == nil {
		return fmt.Sprintf("the prompt (%s) is shorter than one %s: it has no keys", iostreams.Plural(p.Tokens, "token"), p.Unit)
	}
	return "the prompt is shorter than one chunk (and --save-unfull-chunk is off): it has no keys"
}

// errNoOpBackend is a verb with neither the controller nor a store named.
var errNoOpBackend = &UsageError{Err: errors.New("--controller URL is required (the LMCache cache controller, e.g. http://localhost:9000), or --master HOST:PORT to act on a Mooncake store directly, or --coordinator URL (LMCache MP mode)")}

// errMasterCannotPin is 'lmc pin --master': what the master cannot do, and
// where pins are really set.
func errMasterCannotPin(b *BackendFlags) error {
	flag := "--master"
	if b.Master == "" {
		flag = "--admin"
	}
	return &UsageError{Err: fmt.Errorf("%s: a Mooncake master cannot pin an object that is already stored. Pins are fixed when the object is written: the writer's "+
		"ReplicateConfig at PutStart carries with_hard_pin (never evicted, for the object's whole life) and the soft-pin action and TTL; no RPC pins or unpins "+
		"an existing key, and none reports whether a key is pinned. The only way to change a soft pin afterwards is a same-size upsert, which makes the key "+
		"unreadable and unremovable while it runs and deletes it if the upsert is revoked, so lmc does not imitate it. Set pinning where the engine writes: "+
		"the put-time replicate settings of its Mooncake connector (hard or soft pin, soft-pin TTL; the master's --default_kv_soft_pin_ttl and "+
		"--allow_evict_soft_pinned_objects decide how soft pins age), or pin through the LMCache controller with 'lmc pin --controller URL --instance I'. "+
		"Note that no pin protects a key from removal: 'lmc clear --master' removes pinned keys too", flag)}
}

// segmentNames lists the names of segs, for errors.
func segmentNames(segs []mooncake.SegmentInfo) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.Name
	}
	return out
}

// unknownSegment is a --from/--to naming no mounted segment (exit 2).
func unknownSegment(flag, name string, known []string) error {
	msg := fmt.Sprintf("%s %s: no segment of that name is mounted on the master", flag, name)
	if len(known) > 0 {
		msg += " (segments: " + strings.Join(limitList(known, 8), ", ") + ")"
		if c := closest(name, known); len(c) > 0 {
			msg += "; did you mean " + strings.Join(quoteAll(c), " or ") + "?"
		}
	} else {
		msg += "; 'lmc store segments --admin URL' lists them (names as in /get_segments_detail, not endpoints or ids)"
	}
	return &UsageError{Err: errors.New(msg)}
}

// unusableSegment is a --to segment that cannot take new replicas (exit 2).
func unusableSegment(flag, name string, st mooncake.SegmentStatus) error {
	why := "it takes no new replicas"
	switch st {
	case mooncake.SegmentDraining:
		why = "a drain job is moving everything off it: nothing can be allocated there"
	case mooncake.SegmentDrained:
		why = "it was drained, which is final until it is unmounted: nothing can be allocated there"
	case mooncake.SegmentGracefullyUnmounting, mooncake.SegmentUnmounting:
		why = "it is being unmounted"
	}
	return &UsageError{Err: fmt.Errorf("%s %s: the segment is %s: %s; pick an OK segment ('lmc store segments --admin URL' shows each one's status)", flag, name, st, why)}
}

func limitList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), fmt.Sprintf("… %d more", len(s)-n))
}
