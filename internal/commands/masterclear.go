// 'lmc clear --master': removal on the Mooncake master itself, of a
// prompt's chunk keys (BatchRemove, per-key results), of every key a regex
// finds (RemoveByRegex, a count only) or of everything (RemoveAll).
// Guarded: a plan (count, master, tenant) before acting, a confirmation
// (--yes without a terminal), --dry-run. Plans go through the admin API,
// which grants no lease, never through BatchExistKey, whose leases would
// make the removal fail.
package commands

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/mooncake"
	"lmc/internal/safetext"
)

// masterClearOptions are clear's own flags that the master path reads.
type masterClearOptions struct {
	Yes, DryRun, Verify bool
}

// Clear scopes.
const (
	clearPrompt = "prompt"
	clearMatch  = "match"
	clearAll    = "all"
)

// Bounds of what a clear holds: listed keys in JSON and tables, and the
// keys remembered from a listing to tell kept keys from new ones.
const (
	maxListedKeys = 10000
	maxKeySet     = 4 << 20
)

// removeBatch bounds one BatchRemove request.
const removeBatch = 1024

// Key states in plans and outcomes, besides mooncake's Cause words.
const (
	statePresent   = "present"
	stateAbsent    = "absent"
	stateWriting   = "being-written"
	stateUnchecked = "unchecked"
	stateError     = "error"
	// causeLeasedOrBusy is a key RemoveByRegex or RemoveAll skipped: the
	// master does not say whether for a lease or a replication.
	causeLeasedOrBusy = "leased-or-replicating"
)

type keptKeyView struct {
	Key       string `json:"key"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
	Forceable bool   `json:"forceable"`
}

type clearKeyView struct {
	Key   string `json:"key"`
	Chunk *int   `json:"chunk,omitempty"` // LMCache's chunk, SGLang's page, vLLM's block
	Rank  *int   `json:"rank,omitempty"`  // LMCache's worker id; SGLang's and vLLM's first rank that reads the object (its index in rank order)
	// Owners name the SGLang or vLLM ranks that read the object.
	Owners []string `json:"owners,omitempty"`
	State  string   `json:"state"`            // in the plan: present, absent, being-written, unchecked, error
	Error  string   `json:"error,omitempty"`  // the admin API's reason for state error
	Result string   `json:"result,omitempty"` // after the removal: removed, not-found, leased, being-written, replicating, ...
}

type clearVerifyView struct {
	Remaining int `json:"remaining"`
	// Reappeared are keys the master reported removed that the admin API
	// lists again (an engine wrote them since, or the master misreported).
	Reappeared []string `json:"reappeared,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// masterClearView is the JSON of 'lmc clear --master'.
type masterClearView struct {
	Operation string `json:"operation"`
	Master    string `json:"master"`
	Admin     string `json:"admin,omitempty"`
	// Engine is "sglang" or "vllm" for a prompt's objects with --engine
	// (omitted for LMCache's keys).
	Engine string `json:"engine,omitempty"`
	// Tenant is the tenant sent; "" (with --all) means every tenant.
	Tenant  string `json:"tenant"`
	Scope   string `json:"scope"`
	Pattern string `json:"pattern,omitempty"`
	Force   bool   `json:"force"`
	DryRun  bool   `json:"dry_run,omitempty"`
	// Planned is how many keys the plan covers (the prompt's keys, the
	// listed matches or the listed keys); null when nothing counted them.
	Planned *int `json:"planned"`
	// Present is how many of them the admin API listed before the removal.
	Present *int `json:"present,omitempty"`
	Removed int  `json:"removed"`
	Absent  int  `json:"absent"`
	// Kept lists keys the master did not remove (at most 10000) and why;
	// null when nothing could list them (--match or --all without --admin).
	Kept          []keptKeyView `json:"kept"`
	KeptCount     *int          `json:"kept_count"`
	KeptTruncated bool          `json:"kept_truncated,omitempty"`
	// Forced is how many kept keys a forced second pass removed (after the
	// confirmation on a terminal).
	Forced        int              `json:"forced,omitempty"`
	Keys          []clearKeyView   `json:"keys,omitempty"`
	KeysTruncated bool             `json:"keys_truncated,omitempty"`
	Request       string           `json:"request,omitempty"`
	Warning       string           `json:"warning,omitempty"`
	Notes         []string         `json:"notes,omitempty"`
	Verify        *clearVerifyView `json:"verify,omitempty"`
}

// masterClear runs 'lmc clear --master'.
func (f *Factory) masterClear(ctx context.Context, args []string, b *BackendFlags, in *InputFlags, so *storeOpFlags, o masterClearOptions) error {
	fm, err := f.outputFormat(opFormats)
	if err != nil {
		return err
	}
	scope, err := f.clearScope(args, so)
	if err != nil {
		return err
	}
	var re *mooncake.KeyRegexp
	if scope == clearMatch {
		if re, err = compileMatch(so.Match, b.Admin != ""); err != nil {
			return err
		}
	}
	if o.Verify && b.Admin == "" {
		return &UsageError{Err: errors.New("--verify needs --admin URL: the check goes through the admin API, which grants no leases (an RPC check would lease the keys)")}
	}
	if !o.Yes && !o.DryRun && !f.IOStreams.CanPrompt() {
		return &UsageError{Err: errors.New("refusing to clear without --yes when not on a terminal")}
	}
	var pk *promptKeys
	if scope == clearPrompt {
		if pk, err = f.promptChunkKeys(ctx, so, in, args); err != nil {
			return err
		}
	}
	s, err := f.openMasterSession(ctx, b, "lmc clear")
	if err != nil {
		return err
	}
	defer s.close()
	r := &clearRun{f: f, s: s, fm: fm, o: o, so: so, v: masterClearView{Operation: "clear", Master: s.addr, Admin: s.admURL,
		Tenant: s.tenant, Scope: scope, Force: so.Force, DryRun: o.DryRun, Kept: []keptKeyView{}}}
	switch scope {
	case clearPrompt:
		return r.prompt(ctx, pk)
	case clearMatch:
		r.v.Pattern = so.Match
		return r.regex(ctx, re)
	}
	r.v.Tenant = ""
	if f.Given.Has("tenant") {
		r.v.Tenant = b.Tenant
	}
	return r.all(ctx)
}

// clearScope says what the clear removes: a prompt's keys, --match or --all,
// exactly one of them.
func (f *Factory) clearScope(args []string, so *storeOpFlags) (string, error) {
	var scopes []string
	if len(args) > 0 || f.Given.Has("tokens") || f.Given.Has("text") || f.Given.Has("prompt-file") || f.Given.Has("messages") {
		scopes = append(scopes, clearPrompt)
	}
	if f.Given.Has("match") {
		if so.Match == "" {
			return "", &UsageError{Err: errors.New("--match '': the empty regex matches every key; use --all to remove everything")}
		}
		scopes = append(scopes, clearMatch)
	}
	if so.All {
		scopes = append(scopes, clearAll)
	}
	switch len(scopes) {
	case 0:
		return "", &UsageError{Err: errors.New("nothing to clear on the master: give a prompt (FILE, -, --tokens …) to remove its chunk keys, --match REGEX for every key it finds, or --all for everything")}
	case 1:
		if scopes[0] != clearPrompt && so.AllRanks {
			return "", &UsageError{Err: errors.New("--all-ranks applies to a prompt's keys, not to --match or --all")}
		}
		return scopes[0], nil
	}
	return "", &UsageError{Err: fmt.Errorf("give one of a prompt, --match or --all (got %s)", strings.Join(scopes, " and "))}
}

// compileMatch checks --match as the master will read it. A pattern the
// master rejects is bad input; one Go cannot match identically is refused
// only when lmc must list the matches (with --admin).
func compileMatch(pattern string, listing bool) (*mooncake.KeyRegexp, error) {
	re, err := mooncake.CompileKeyRegexp(pattern)
	var rerr *mooncake.RegexError
	switch {
	case err == nil:
		return re, nil
	case errors.As(err, &rerr) && !rerr.Unsupported:
		return nil, &UsageError{Err: fmt.Errorf("--match: %v; the master would refuse it (INVALID_PARAMS): it reads ECMAScript as libstdc++'s std::regex does, with no inline flags such as (?i)", err)}
	case listing:
		return nil, &UsageError{Err: fmt.Errorf("--match: %v: lmc cannot list what this pattern matches exactly as the master would; rewrite it, or drop --admin to let the master match it without a listing (and without a preview of what goes)", err)}
	}
	return nil, nil
}

// clearRun is one clear in progress.
type clearRun struct {
	f  *Factory
	s  *masterSession
	fm printers.Format
	o  masterClearOptions
	so *storeOpFlags
	v  masterClearView
	pk *promptKeys // a prompt's keys (scope prompt)
}

// keep records a kept key (the first maxListedKeys in detail).
func (r *clearRun) keep(k keptKeyView) {
	n := 1
	if r.v.KeptCount != nil {
		n = *r.v.KeptCount + 1
	}
	r.v.KeptCount = &n
	if len(r.v.Kept) < maxListedKeys {
		r.v.Kept = append(r.v.Kept, k)
	} else {
		r.v.KeptTruncated = true
	}
}

func (r *clearRun) resetKept() {
	r.v.Kept, r.v.KeptCount, r.v.KeptTruncated = []keptKeyView{}, nil, false
}

// planLine goes to stderr before the confirmation.
func (r *clearRun) planLine(text string) {
	fmt.Fprintln(r.f.IOStreams.ErrOut, safetext.EscapeText("plan: "+text))
}

// confirm asks unless --yes; a "no" is exit 1.
func (r *clearRun) confirm(ctx context.Context, question string) error {
	if r.f.skipConfirmation(r.o.Yes) {
		return nil
	}
	ok, err := r.f.confirm(ctx, safetext.EscapeText(question))
	if err != nil {
		return err
	}
	if !ok {
		return &ExitError{Code: ExitFailed, Err: errors.New("clear cancelled")}
	}
	return nil
}

// offerForce asks, on a terminal and without --yes, whether to remove the
// leased keys with force. It never asks when --force was given or when
// lmc may not ask.
func (r *clearRun) offerForce(ctx context.Context, question string) (bool, error) {
	if r.so.Force || r.o.Yes || !r.f.IOStreams.CanPrompt() {
		return false, nil
	}
	return r.f.confirm(ctx, safetext.EscapeText(question))
}

func keyState(q mooncake.KeyQuery) (string, string) {
	switch {
	case q.OK:
		return statePresent, ""
	case q.Code == mooncake.CodeObjectNotFound || q.Error == "OBJECT_NOT_FOUND":
		return stateAbsent, ""
	case q.Code == mooncake.CodeReplicaIsNotReady || q.Error == "REPLICA_IS_NOT_READY":
		return stateWriting, ""
	}
	return stateError, q.Error
}

// prompt removes a prompt's chunk keys with BatchRemove.
func (r *clearRun) prompt(ctx context.Context, pk *promptKeys) error {
	v := &r.v
	r.pk = pk
	if pk.Res == nil {
		v.Engine = pk.Engine
	}
	keys := pk.keyList()
	n := len(keys)
	v.Planned = &n
	v.Keys = make([]clearKeyView, len(keys))
	for i, k := range pk.Keys {
		c, rk := k.Chunk, k.Rank
		v.Keys[i] = clearKeyView{Key: k.Key, Chunk: &c, Rank: &rk, Owners: k.Owners, State: stateUnchecked}
	}
	if n == 0 {
		v.Warning = pk.shortPrompt()
		return r.write(nil)
	}
	present, writing := 0, 0
	if r.s.adm != nil {
		qs, err := r.s.lookup(ctx, keys)
		if err != nil {
			return err
		}
		for i, q := range qs {
			v.Keys[i].State, v.Keys[i].Error = keyState(q)
			switch v.Keys[i].State {
			case statePresent:
				present++
			case stateWriting:
				writing++
			}
		}
		v.Present = &present
	} else {
		v.Notes = append(v.Notes, "existence not checked before the removal: pass --admin URL to plan through the admin API, which grants no leases (lmc never plans with BatchExistKey: its leases would make the removal fail)")
	}
	what := pk.describe()
	if r.o.DryRun {
		v.Request = fmt.Sprintf("BatchRemove(%s, force=%v, tenant=%q) to %s", iostreams.Plural(n, "key"), r.so.Force, r.s.tenant, r.s.addr)
		return r.write(nil)
	}
	if r.s.adm != nil && present == 0 && writing == 0 {
		v.Warning = "none of the prompt's keys is in the store: nothing to remove (wrong key flags? 'lmc doctor --admin URL' finds the ones the engine used)"
		return r.write(nil)
	}
	plan := fmt.Sprintf("remove %s from %s, tenant %s", what, r.s.where(), r.s.tenant)
	if v.Present != nil {
		plan += fmt.Sprintf(" (%d in the store, %d being written, %d absent, per the admin API)", present, writing, n-present-writing)
	}
	r.planLine(plan)
	if err := r.confirm(ctx, fmt.Sprintf("Remove %s from %s (tenant %s)? Keys read in the last lease period stay unless --force; pinned keys are removed too.", what, r.s.where(), r.s.tenant)); err != nil {
		return err
	}
	results, err := r.batchRemove(ctx, keys, r.so.Force)
	if err != nil {
		return err
	}
	if err := r.tenantRefused(results); err != nil {
		return err
	}
	idx := map[string]int{}
	for i, k := range keys {
		idx[k] = i
	}
	var leased []string
	for i, res := range results {
		v.Keys[i].Result = res.Cause()
		if res.Forceable() {
			leased = append(leased, res.Key)
		}
	}
	if len(leased) > 0 {
		ok, err := r.offerForce(ctx, fmt.Sprintf("%s kept because %s %s read in the last lease period. Remove %s with force? (Force overrides only the lease.)",
			iostreams.Plural(len(leased), "key"), itThey(len(leased)), wasWere(len(leased)), itThem(len(leased))))
		if err != nil {
			return err
		}
		if ok {
			again, err := r.batchRemove(ctx, leased, true)
			if err != nil {
				return err
			}
			for _, res := range again {
				i := idx[res.Key]
				if res.Removed() {
					v.Forced++
				}
				results[i] = res
				v.Keys[i].Result = res.Cause()
			}
		}
	}
	for _, res := range results {
		switch {
		case res.Removed():
			v.Removed++
		case res.Code == mooncake.CodeObjectNotFound:
			v.Absent++
		default:
			r.keep(keptKeyView{Key: res.Key, Reason: res.Cause(), Detail: res.Reason(), Forceable: res.Forceable()})
		}
	}
	if v.KeptCount == nil {
		zero := 0
		v.KeptCount = &zero
	}
	if v.Removed == 0 && *v.KeptCount == 0 {
		v.Warning = "none of the prompt's keys was in the store: nothing removed (wrong key flags? 'lmc doctor --admin URL' finds the ones the engine used)"
	}
	var verr error
	if r.o.Verify {
		qs, err := r.s.lookup(ctx, keys)
		if err != nil {
			return err
		}
		vv := &clearVerifyView{}
		for i, q := range qs {
			st, _ := keyState(q)
			if st != statePresent && st != stateWriting {
				continue
			}
			vv.Remaining++
			if results[i].Removed() {
				vv.Reappeared = append(vv.Reappeared, q.Key)
			}
		}
		if len(vv.Reappeared) > 0 {
			vv.Note = fmt.Sprintf("%s the master reported removed %s in the store again: an engine wrote %s since, or the master misreported", iostreams.Plural(len(vv.Reappeared), "key"), isAre(len(vv.Reappeared)), itThem(len(vv.Reappeared)))
			verr = &ExitError{Code: ExitFailed, Err: errors.New("verify: " + vv.Note)}
		}
		v.Verify = vv
	}
	return r.write(verr)
}

// batchRemove sends BatchRemove in bounded batches.
func (r *clearRun) batchRemove(ctx context.Context, keys []string, force bool) ([]mooncake.RemoveResult, error) {
	out := make([]mooncake.RemoveResult, 0, len(keys))
	for from := 0; from < len(keys); from += removeBatch {
		part := keys[from:min(from+removeBatch, len(keys))]
		res, err := watchedRPC(ctx, r.s, "BatchRemove", r.s.tenant, len(part), func(ctx context.Context) ([]mooncake.RemoveResult, error) {
			return r.s.c.BatchRemove(ctx, part, force)
		})
		if err != nil {
			if from > 0 {
				r.f.partialNote(from)
			}
			return nil, r.s.rpcErr("BatchRemove", err)
		}
		out = append(out, res...)
	}
	return out, nil
}

// partialNote says, when a later batch failed, that earlier ones acted.
func (f *Factory) partialNote(done int) {
	fmt.Fprintf(f.IOStreams.ErrOut, "note: the first %s were already sent and acted on before this failure\n", iostreams.Plural(done, "key"))
}

// tenantRefused is every entry INVALID_PARAMS: the master's multi-tenant
// mode refused --tenant.
func (r *clearRun) tenantRefused(results []mooncake.RemoveResult) error {
	if len(results) == 0 {
		return nil
	}
	for _, res := range results {
		if res.Code != mooncake.CodeInvalidParams {
			return nil
		}
	}
	return &UsageError{Err: fmt.Errorf("--tenant %q: %s", r.s.tenant, mooncake.OpReason("BatchRemove", mooncake.CodeInvalidParams))}
}

// keySet remembers listed keys by a 64-bit hash, 8 bytes each, to tell a
// kept key from one written after the listing.
type keySet struct {
	seed     maphash.Seed
	h        []uint64
	overflow bool
	sorted   bool
}

func newKeySet() *keySet { return &keySet{seed: maphash.MakeSeed()} }

func (s *keySet) add(k string) {
	if len(s.h) >= maxKeySet {
		s.overflow = true
		return
	}
	s.h = append(s.h, maphash.String(s.seed, k))
	s.sorted = false
}

// has reports a remembered key; with an overflowed set, every key.
func (s *keySet) has(k string) bool {
	if s.overflow {
		return true
	}
	if !s.sorted {
		slices.Sort(s.h)
		s.sorted = true
	}
	_, ok := slices.BinarySearch(s.h, maphash.String(s.seed, k))
	return ok
}

// listing walks the default tenant's keys through the admin API, calling fn
// for those match accepts (nil: every key).
func (r *clearRun) listing(ctx context.Context, re *mooncake.KeyRegexp, fn func(string) error) error {
	return r.s.scan.keys(ctx, func(k string) error {
		if re != nil && !re.MatchKey(k) {
			return nil
		}
		return fn(k)
	})
}

// listBefore lists, through the admin API, the keys re finds (nil: every
// key) before a removal, and counts them as planned and present. It
// remembers them in before, to tell the kept ones afterwards; with
// --dry-run it hands them to the returned lister instead, for the caller
// to finish.
func (r *clearRun) listBefore(ctx context.Context, re *mooncake.KeyRegexp, before *keySet) (*dryLister, error) {
	n := 0
	var dry *dryLister
	if r.o.DryRun {
		dry = r.newDryLister()
	}
	err := r.listing(ctx, re, func(k string) error {
		n++
		if dry != nil {
			return dry.add(k)
		}
		before.add(k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.v.Planned, r.v.Present = &n, &n
	return dry, nil
}

// regex removes every key the pattern finds, with RemoveByRegex.
func (r *clearRun) regex(ctx context.Context, re *mooncake.KeyRegexp) error {
	v := &r.v
	pattern := r.so.Match
	v.Request = fmt.Sprintf("RemoveByRegex(%q, force=%v, tenant=%q) to %s", pattern, r.so.Force, r.s.tenant, r.s.addr)
	before := newKeySet()
	if r.s.adm != nil {
		dry, err := r.listBefore(ctx, re, before)
		if err != nil {
			return err
		}
		if dry != nil {
			return dry.finish()
		}
	} else {
		v.Kept, v.KeptCount = nil, nil
		v.Notes = append(v.Notes, "without --admin lmc cannot list the matching keys, before or after: RemoveByRegex reports only a count and skips, without saying so, keys under a read lease (unless --force), being written or being replicated")
	}
	if r.o.DryRun {
		return r.write(nil)
	}
	if v.Planned != nil && *v.Planned == 0 {
		v.Warning = fmt.Sprintf("no key of the default tenant matches %q (RemoveByRegex searches unanchored and case-sensitively): nothing to remove", pattern)
		zero := 0
		v.KeptCount = &zero
		return r.write(nil)
	}
	count := "every key it finds"
	if v.Planned != nil {
		count = fmt.Sprintf("the %s it finds now (listed through the admin API)", iostreams.Plural(*v.Planned, "key"))
	}
	r.planLine(fmt.Sprintf("remove %s with the ECMAScript regex %q (unanchored search) from %s, tenant %s", count, pattern, r.s.where(), r.s.tenant))
	if err := r.confirm(ctx, fmt.Sprintf("Remove %s matching %q from %s (tenant %s)? Keys written until the master runs it are removed too if they match; leased keys stay unless --force.", count, pattern, r.s.where(), r.s.tenant)); err != nil {
		return err
	}
	n, err := r.removeByRegex(ctx, pattern, r.so.Force)
	if err != nil {
		return err
	}
	return r.finishRemoval(ctx, n, re, before,
		func(kept int) string {
			return fmt.Sprintf("%s matching %q %s still in the store (under a read lease, or being copied or moved). Run RemoveByRegex again with force? (Force overrides only the lease.)",
				iostreams.Plural(kept, "key"), pattern, isAre(kept))
		},
		func(ctx context.Context) (int64, error) { return r.removeByRegex(ctx, pattern, true) })
}

// finishRemoval records the n keys the first removal took and, with the
// admin API, lists again for the keys it kept; when some stay it offers to
// run the removal again with force (forced), then writes the result.
// forcePrompt words the offer for the number of keys kept.
func (r *clearRun) finishRemoval(ctx context.Context, n int64, re *mooncake.KeyRegexp, before *keySet, forcePrompt func(kept int) string, forced func(context.Context) (int64, error)) error {
	v := &r.v
	v.Removed = int(n)
	if r.s.adm == nil {
		return r.write(nil)
	}
	if err := r.afterListing(ctx, re, before); err != nil {
		return err
	}
	if *v.KeptCount > 0 {
		ok, err := r.offerForce(ctx, forcePrompt(*v.KeptCount))
		if err != nil {
			return err
		}
		if ok {
			m, err := forced(ctx)
			if err != nil {
				return err
			}
			v.Forced = int(m)
			v.Removed += int(m)
			if err := r.afterListing(ctx, re, before); err != nil {
				return err
			}
		}
	}
	r.regexNotes()
	return r.write(nil)
}

func (r *clearRun) removeByRegex(ctx context.Context, pattern string, force bool) (int64, error) {
	n, err := watchedRPC(ctx, r.s, "RemoveByRegex", r.s.tenant, 0, func(ctx context.Context) (int64, error) {
		return r.s.c.RemoveByRegex(ctx, pattern, force)
	})
	var oe *mooncake.OpError
	if errors.As(err, &oe) && oe.Code == mooncake.CodeInvalidParams {
		return 0, &UsageError{Err: fmt.Errorf("--match %q: Mooncake master %s answered INVALID_PARAMS: %s", pattern, r.s.addr, oe.Reason)}
	}
	if err != nil {
		return 0, r.s.rpcErr("RemoveByRegex", err)
	}
	return n, nil
}

// afterListing lists again and records every remembered key still there as
// kept (new keys that match are not counted).
func (r *clearRun) afterListing(ctx context.Context, re *mooncake.KeyRegexp, before *keySet) error {
	r.resetKept()
	zero := 0
	r.v.KeptCount = &zero
	reason, detail := causeLeasedOrBusy, "skipped without trace by "+r.removeRPC()+": under a read lease (force removes it) or being copied or moved (force cannot); the master does not say which"
	if r.so.Force || r.v.Forced > 0 {
		reason, detail = mooncake.CauseReplicating, "being copied or moved (a replication is open on it): it cannot be removed, even with force, until that ends"
	}
	err := r.listing(ctx, re, func(k string) error {
		if before.has(k) {
			r.keep(keptKeyView{Key: k, Reason: reason, Detail: detail, Forceable: reason == causeLeasedOrBusy})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if before.overflow {
		r.v.Notes = append(r.v.Notes, fmt.Sprintf("more than %d keys were listed before the removal: keys written since cannot be told from kept ones, and are counted as kept", maxKeySet))
	}
	return nil
}

func (r *clearRun) removeRPC() string {
	if r.v.Scope == clearAll {
		return "RemoveAll"
	}
	return "RemoveByRegex"
}

func (r *clearRun) regexNotes() {
	v := &r.v
	v.Notes = append(v.Notes, "keys in the middle of a put are not listed by the admin API and are never removed; they are not counted as kept")
	if v.Planned != nil && v.Removed > *v.Planned {
		v.Notes = append(v.Notes, fmt.Sprintf("the master removed %d keys, %d more than the admin API listed before: keys written since the listing (or, with --all, keys of other tenants, which the admin API does not list)", v.Removed, v.Removed-*v.Planned))
	}
}

// all removes everything with RemoveAll.
func (r *clearRun) all(ctx context.Context) error {
	v := &r.v
	tenant := v.Tenant
	v.Request = fmt.Sprintf("RemoveAll(force=%v, tenant=%q) to %s", r.so.Force, tenant, r.s.addr)
	scopeText := "every object of every tenant (tenant \"\"; LocalSSD clients are told to wipe their SSD too)"
	if tenant != "" {
		scopeText = fmt.Sprintf("every object of tenant %q (a master without --enable_multi_tenants ignores the tenant and removes every object)", tenant)
	}
	before := newKeySet()
	if r.s.adm != nil {
		dry, err := r.listBefore(ctx, nil, before)
		if err != nil {
			return err
		}
		if tenant == "" || tenant != mooncake.DefaultTenant {
			v.Notes = append(v.Notes, "the admin API lists the default tenant only: other tenants' keys are not counted")
		}
		if dry != nil {
			return dry.finish()
		}
	} else {
		v.Kept, v.KeptCount = nil, nil
		v.Notes = append(v.Notes, "without --admin lmc cannot count the keys, before or after: RemoveAll reports only a count and skips, without saying so, keys under a read lease (unless --force), being written or being replicated")
	}
	if r.o.DryRun {
		return r.write(nil)
	}
	now := ""
	if v.Planned != nil {
		now = fmt.Sprintf(" (the default tenant holds %s now)", iostreams.Plural(*v.Planned, "key"))
	}
	r.planLine(fmt.Sprintf("remove %s from %s%s", scopeText, r.s.where(), now))
	if err := r.confirm(ctx, fmt.Sprintf("Remove %s from %s%s? Pinned objects go too; leased ones stay unless --force.", scopeText, r.s.where(), now)); err != nil {
		return err
	}
	n, err := r.removeAll(ctx, r.so.Force, tenant)
	if err != nil {
		return err
	}
	return r.finishRemoval(ctx, n, nil, before,
		func(kept int) string {
			return fmt.Sprintf("%s still in the store (under a read lease, or being copied or moved). Run RemoveAll again with force? (Force overrides only the lease.)",
				iostreams.Plural(kept, "key")+" "+isAre(kept))
		},
		func(ctx context.Context) (int64, error) { return r.removeAll(ctx, true, tenant) })
}

func (r *clearRun) removeAll(ctx context.Context, force bool, tenant string) (int64, error) {
	n, err := watchedRPC(ctx, r.s, "RemoveAll", tenant, 0, func(ctx context.Context) (int64, error) {
		return r.s.c.RemoveAll(ctx, force, tenant)
	})
	if err != nil {
		return 0, r.s.rpcErr("RemoveAll", err)
	}
	return n, nil
}

// dryLister shows the keys a dry run would remove: streamed one per line
// (table, plain: every key), or collected for JSON (the first
// maxListedKeys).
type dryLister struct {
	r      *clearRun
	n      int
	header bool
}

func (r *clearRun) newDryLister() *dryLister { return &dryLister{r: r} }

func (d *dryLister) add(k string) error {
	d.n++
	v := &d.r.v
	if d.r.fm == printers.JSON {
		if len(v.Keys) < maxListedKeys {
			v.Keys = append(v.Keys, clearKeyView{Key: k, State: statePresent})
		} else {
			v.KeysTruncated = true
		}
		return nil
	}
	out := d.r.f.Out()
	if d.r.fm == printers.Table && !d.header {
		d.header = true
		st := d.r.f.IOStreams.Styles()
		if _, err := fmt.Fprintln(out, st.Warn.Render("dry run:")+" would remove (listed through the admin API, default tenant):"); err != nil {
			return err
		}
	}
	_, err := io.WriteString(out, safetext.Escape(k)+"\n")
	return err
}

func (d *dryLister) finish() error {
	return d.r.write(nil)
}

// write prints the outcome, then returns exit, or exit 1 when keys were
// kept.
func (r *clearRun) write(exit error) error {
	v := &r.v
	f := r.f
	if v.KeptCount != nil && *v.KeptCount > 0 && exit == nil {
		exit = &ExitError{Code: ExitFailed, Err: errors.New(r.keptSummary())}
	}
	if !v.DryRun && v.KeptCount != nil && *v.KeptCount > 0 {
		r.hints()
	}
	var err error
	switch r.fm {
	case printers.JSON:
		err = printers.WriteJSON(f.Out(), v)
	case printers.Plain:
		err = r.writePlain()
	default:
		err = r.writeTable()
	}
	if err != nil {
		return err
	}
	return exit
}

// keptSummary is the error line of a clear that kept keys.
func (r *clearRun) keptSummary() string {
	v := &r.v
	causes := map[string]int{}
	var order []string
	for _, k := range v.Kept {
		if causes[k.Reason] == 0 {
			order = append(order, k.Reason)
		}
		causes[k.Reason]++
	}
	var parts []string
	for _, c := range order {
		parts = append(parts, fmt.Sprintf("%d %s", causes[c], c))
	}
	s := fmt.Sprintf("%s kept on %s", iostreams.Plural(*v.KeptCount, "key"), r.s.addr)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ")
		if v.KeptTruncated {
			s += fmt.Sprintf(" among the first %d", len(v.Kept))
		}
		s += ")"
	}
	return s
}

// hints say on stderr what can be done about kept keys.
func (r *clearRun) hints() {
	v := &r.v
	forceable, busy := 0, 0
	for _, k := range v.Kept {
		switch {
		case k.Forceable:
			forceable++
		case k.Reason == mooncake.CauseWriting || k.Reason == mooncake.CauseReplicating:
			busy++
		}
	}
	var hs []string
	if forceable > 0 && !r.so.Force {
		hs = append(hs, "keys under a read lease (granted by every exist check or replica lookup, 10 s by default) are removed by the same clear with --force; force overrides only the lease")
	}
	if busy > 0 {
		hs = append(hs, "keys being written or replicated cannot be removed, even with --force, until the write or replication ends")
	}
	for _, h := range hs {
		fmt.Fprintln(r.f.IOStreams.ErrOut, r.f.IOStreams.ErrStyles().Warn.Render("hint:")+" "+h)
	}
}

func (r *clearRun) writePlain() error {
	v := &r.v
	var rows [][]string
	switch {
	case v.DryRun && v.Scope == clearPrompt:
		for _, k := range v.Keys {
			rows = append(rows, []string{k.Key, k.State})
		}
	case v.DryRun:
		if v.Planned == nil {
			rows = append(rows, []string{"would-send", v.Request})
		}
	case v.Scope == clearPrompt:
		for _, k := range v.Keys {
			rows = append(rows, []string{k.Key, k.Result})
		}
	default:
		rows = append(rows, []string{"removed", strconv.Itoa(v.Removed)})
		for _, k := range v.Kept {
			rows = append(rows, []string{k.Key, k.Reason})
		}
	}
	return printers.WritePlain(r.f.Out(), rows)
}

func (r *clearRun) writeTable() error {
	v := &r.v
	f := r.f
	st := f.IOStreams.Styles()
	var b strings.Builder
	where := fmt.Sprintf("Mooncake master %s (tenant %q)", v.Master, v.Tenant)
	if v.Tenant == "" {
		where = fmt.Sprintf("Mooncake master %s (every tenant)", v.Master)
	}
	if v.DryRun {
		switch {
		case v.Scope == clearPrompt:
			fmt.Fprintf(&b, "%s would remove %s from %s:\n", st.Warn.Render("dry run:"), r.keysText(), where)
		case v.Planned != nil && *v.Planned == 0:
			fmt.Fprintf(&b, "%s no key of the default tenant matches: %s would remove nothing listed now\n", st.Warn.Render("dry run:"), v.Request)
		case v.Planned != nil:
			fmt.Fprintf(&b, "%s would remove the %s listed above from %s\n", st.Warn.Render("dry run:"), iostreams.Plural(*v.Planned, "key"), where)
		default:
			fmt.Fprintf(&b, "%s would send %s\n", st.Warn.Render("dry run:"), v.Request)
		}
		if _, err := io.WriteString(f.Out(), safetext.EscapeText(b.String())); err != nil {
			return err
		}
		b.Reset()
		if v.Scope == clearPrompt && len(v.Keys) > 0 {
			rows := make([][]string, len(v.Keys))
			for i, k := range v.Keys {
				state := k.State
				if k.Error != "" {
					state += " (" + k.Error + ")"
				}
				rows[i] = []string{strconv.Itoa(*k.Chunk), rankCell(*k.Rank, k.Owners), k.Key, state}
			}
			if err := printers.WriteTable(f.Out(), styledHeader(st, []string{r.chunkHeader(), "RANK", "KEY", "STATE"}), rows); err != nil {
				return err
			}
		}
		if v.Scope == clearPrompt {
			fmt.Fprintf(&b, "would send: %s\n", v.Request)
		}
	} else {
		kept := 0
		if v.KeptCount != nil {
			kept = *v.KeptCount
		}
		mark := st.Hit.Render("✓")
		if kept > 0 || v.Removed == 0 {
			mark = st.Warn.Render("!")
		}
		fmt.Fprintf(&b, "%s removed %s from %s", mark, iostreams.Plural(v.Removed, "key"), where)
		if v.Absent > 0 {
			fmt.Fprintf(&b, "; %d %s not in the store", v.Absent, wasWere(v.Absent))
		}
		if v.Forced > 0 {
			fmt.Fprintf(&b, "; %d of them with force", v.Forced)
		}
		switch {
		case v.KeptCount == nil:
			b.WriteString("; what stayed is unknown (no --admin)")
		case kept > 0:
			fmt.Fprintf(&b, "; kept %d", kept)
		}
		b.WriteString("\n")
		if _, err := io.WriteString(f.Out(), safetext.EscapeText(b.String())); err != nil {
			return err
		}
		b.Reset()
		if kept > 0 {
			rows := make([][]string, len(v.Kept))
			details := map[string]string{}
			var order []string
			for i, k := range v.Kept {
				rows[i] = []string{k.Key, k.Reason}
				if _, ok := details[k.Reason]; !ok {
					details[k.Reason] = k.Detail
					order = append(order, k.Reason)
				}
			}
			if err := printers.WriteTable(f.Out(), styledHeader(st, []string{"KEPT", "REASON"}), rows); err != nil {
				return err
			}
			if v.KeptTruncated {
				fmt.Fprintf(&b, "… and %d more kept keys (the first %d are listed)\n", kept-len(v.Kept), len(v.Kept))
			}
			for _, c := range order {
				fmt.Fprintf(&b, "%s %s\n", st.Muted.Render(c+":"), details[c])
			}
		}
		if vv := v.Verify; vv != nil {
			fmt.Fprintf(&b, "verify: %s remain in the store (admin API)\n", iostreams.Plural(vv.Remaining, "key"))
			if vv.Note != "" {
				b.WriteString(st.Warn.Render("verify: "+vv.Note) + "\n")
			}
		}
	}
	if v.Warning != "" {
		b.WriteString(st.Warn.Render("! "+v.Warning) + "\n")
	}
	for _, n := range v.Notes {
		b.WriteString(st.Muted.Render("note: "+n) + "\n")
	}
	_, err := io.WriteString(f.Out(), safetext.EscapeText(b.String()))
	return err
}

// keysText is what a dry run of a prompt would remove: "3 chunk keys",
// "12 objects of 3 pages".
func (r *clearRun) keysText() string {
	if r.pk == nil || r.pk.Res != nil {
		return iostreams.Plural(len(r.v.Keys), "chunk key")
	}
	chunks := map[int]bool{}
	for _, k := range r.pk.Keys {
		chunks[k.Chunk] = true
	}
	return iostreams.Plural(len(r.v.Keys), "object") + " of " + iostreams.Plural(len(chunks), r.pk.Unit)
}

// chunkHeader names the chunk column: CHUNK, PAGE (SGLang) or BLOCK (vLLM).
func (r *clearRun) chunkHeader() string {
	if r.pk == nil {
		return "CHUNK"
	}
	return strings.ToUpper(r.pk.Unit)
}

// rankCell is a table's RANK: the worker id (LMCache), or the ranks that
// read an SGLang or vLLM object.
func rankCell(rank int, owners []string) string {
	if len(owners) == 0 {
		return strconv.Itoa(rank)
	}
	return strings.Join(limitList(owners, 4), ",")
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThey(n int) string {
	if n == 1 {
		return "it"
	}
	return "they"
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// masterClearHelp is the part of clear's help about --master.
const masterClearHelp = `With --master, clear removes objects on the Mooncake master itself: the chunk
keys of a prompt (computed with the key flags, as 'lmc keys' does; every rank's
with --all-ranks) with BatchRemove, which answers per key; every key the
ECMAScript regex --match finds (RemoveByRegex: an unanchored, case-sensitive
search; anchor with ^...$), which answers only a count; or everything with
--all (RemoveAll, every tenant unless --tenant is given; a master without
--enable_multi_tenants ignores the tenant and removes every object). --match
and --all do not look at the key flags: given on the command line without a
prompt, a key flag (--model, --engine, ...) is refused (anchor --match on the
model instead, e.g. '^MODEL@').

Guarded: lmc prints the plan (how many keys, which master, which tenant), asks
on a terminal and needs --yes elsewhere; --dry-run shows what would go and
changes nothing. With --admin the plan and the listing of --match go through
the admin API, which grants no lease; lmc never plans through BatchExistKey,
whose 10-s leases would make the removal fail.

Leases: a key read in the last lease period (10 s by default; every exist check
or replica lookup grants one, the engine's included) is kept unless --force,
and lmc lists it with reason "leased" (on a terminal it offers to force them).
Force overrides only the lease: keys being written (REPLICA_IS_NOT_READY) or
replicated (OBJECT_HAS_REPLICATION_TASK) stay, reasons "being-written" and
"replicating". Pins do not protect a key from removal. RemoveByRegex and
RemoveAll skip such keys without saying which; with --admin lmc lists the keys
again afterwards and reports those still there (reason
"leased-or-replicating"). --verify re-checks through the admin API. A store
has no instances or locations: --instance and --location are refused (exit 2).

JSON: {"operation": "clear", "master", "tenant", "scope": "prompt"|"match"|"all",
"force", "planned", "removed", "absent", "kept": [{"key", "reason", "detail",
"forceable"}], "kept_count", "keys": [{"key", "chunk", "rank", "state",
"result"}] (prompt), "notes"}; kept and kept_count are null when nothing could
list them (--match or --all without --admin). -o plain prints KEY<TAB>RESULT per
key for a prompt, or "removed<TAB>N" and KEY<TAB>REASON per kept key.

Exit codes: 0 when nothing that was planned stayed, 1 when keys were kept (the
output lists them), when the clear was declined, or --verify finds a removed
key back; 2 for bad input and without --yes off a terminal.`

const masterClearExamples = `  lmc clear --master 10.0.0.1:50051 --admin http://10.0.0.1:9003 --model m --hash-seed 0 prompt.json
  lmc clear --master 10.0.0.1:50051 --model m --hash-seed 0 --world-size 2 --all-ranks --yes --force prompt.json
  lmc clear --master 10.0.0.1:50051 --admin http://10.0.0.1:9003 --match '^meta-llama/Llama-3.1-8B@' --dry-run
  lmc clear --master 10.0.0.1:50051 --all --yes -o json
  lmc clear --master 10.0.0.1:50051 --admin http://10.0.0.1:9003 --engine sglang --page-size 64 --tp-size 2 --model Qwen/Qwen3-8B --all-ranks prompt.json`
