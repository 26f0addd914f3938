package coordinatorclient

import (
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"lmc/internal/coordinatorclient/sandboxcoordinator"
	"lmc/internal/transport"
)

func TestKeyHelpers(t *testing.T) {
	// §3.2: kv_rank examples.
	for _, c := range []struct {
		ws, r int
		want  int64
	}{{1, 0, 16777472}, {2, 0, 33554944}, {2, 1, 33620481}} {
		if got := KVRank(c.ws, c.r); got != c.want {
			t.Errorf("KVRank(%d,%d) = %d, want %d", c.ws, c.r, got, c.want)
		}
		k := Key{KVRank: c.want}
		if k.WorldSize() != c.ws || k.Rank() != c.r || k.LocalWorldSize() != c.ws || k.LocalRank() != c.r {
			t.Errorf("unpack %d: %d %d", c.want, k.WorldSize(), k.Rank())
		}
	}
	// §4: the test vector, computed locally.
	hs, err := MPChunkHashes(seq(0, 599), 256)
	if err != nil || !slices.Equal(hs, []string{h0, h1}) {
		t.Fatalf("MPChunkHashes: %v %v", hs, err)
	}
	// §3.2: string forms and hex parsing.
	k := Key{ChunkHashHex: strings.ToUpper(h0), ModelName: model, KVRank: 16777472}
	if k.String() != model+"@01000100@"+h0 || !k.Equal(Key{ChunkHashHex: h0, ModelName: model, KVRank: 16777472}) {
		t.Errorf("key %s", k)
	}
	if (Key{ChunkHashHex: "08 45", ModelName: "m"}).Normalized().ChunkHashHex != "0845" {
		t.Error("whitespace between byte pairs")
	}
	for in, want := range map[Key]string{
		{ChunkHashHex: "zz", ModelName: "m"}:                    "non-hexadecimal number found in fromhex() arg at position 0",
		{ChunkHashHex: "0z", ModelName: "m"}:                    "non-hexadecimal number found in fromhex() arg at position 1",
		{ChunkHashHex: "00", ModelName: "a@b"}:                  "model_name must not contain '@' (got 'a@b')",
		{ChunkHashHex: "00", ModelName: "m", ObjectGroupID: -1}: "object_group_id must be >= 0 (got -1)",
		{ChunkHashHex: "00", ModelName: "m", CacheSalt: "a@b"}:  "cache_salt must not contain {'@'} (got 'a@b')",
	} {
		if err := in.Validate(); err == nil || err.Error() != want {
			t.Errorf("%+v: %v, want %s", in, err, want)
		}
	}
	if err := ValidateCacheSalt(strings.Repeat("s", 129)); err == nil || err.Error() != "cache_salt exceeds max length 128 (got 129)" {
		t.Errorf("long salt: %v", err)
	}
	keys := ChunkKeys([]string{h0, h1}, model, 2, "")
	if len(keys) != 4 || keys[1].KVRank != 33620481 || keys[2].ChunkHashHex != h1 {
		t.Errorf("ChunkKeys %+v", keys)
	}
}

func TestLookupTokensForm(t *testing.T) {
	s, c := coordinator(t)
	hs, _ := MPChunkHashes(seq(0, 599), 256)
	res, err := c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, WorldSize: 1, TokenIDs: seq(0, 599), ChunkSize: 256}, ExpectChunkHashes: hs})
	if err != nil {
		t.Fatal(err)
	}
	// §8.2: the request body is the spec's compact line.
	if got := lastBody(t, s, "POST", "/directory/lookup"); got != `{"token_ids":[`+ints(0, 599)+`],"model_name":"meta-llama/Llama-3.1-8B-Instruct","world_size":1,"cache_salt":""}` {
		t.Errorf("request body %.200s", got)
	}
	if res.Form != "tokens" || res.Chunks != 2 || len(res.Results) != 2 || res.ChunkSize != 256 || !res.HasTokenIDs || !res.HasAccessCount || len(res.Warnings) > 0 {
		t.Fatalf("%+v", res)
	}
	r0 := res.Results[0]
	want0 := []Placement{{"server-1", 1770000000, "l1", "dram", 33554432, false}, {"server-1", 1770000000, "l2", "fs", 33554432, false}}
	if r0.Key != (Key{h0, model, 16777472, 0, ""}) || !slices.Equal(r0.Placements, want0) || !slices.Equal(r0.TokenIDs, seq(0, 255)) {
		t.Errorf("result 0: %+v", r0)
	}
	if res.Results[1].Key.ChunkHashHex != h1 || len(res.Results[1].Placements) != 1 || !slices.Equal(res.Results[1].TokenIDs, seq(256, 511)) {
		t.Errorf("result 1: %+v", res.Results[1])
	}
	// "Prefix verdict: 512 tokens are cached on server-1, in L1 for both
	// chunks, and in L2 for the first 256."
	if h := res.PrefixHit(PlacementFilter{}); h.Tokens != 512 || h.Chunks != 2 || h.TotalChunks != 2 || len(h.Holes) != 0 {
		t.Errorf("any: %+v", h)
	}
	if h := res.PrefixHit(PlacementFilter{Tier: TierL2}); h.Tokens != 256 || h.Unusable != 0 || !slices.Equal(h.RankTokens, []int{256}) {
		t.Errorf("l2: %+v", h)
	}
	if h := res.PrefixHit(PlacementFilter{InstanceID: "server-9"}); h.Tokens != 0 {
		t.Errorf("server-9: %+v", h)
	}
	hold := res.Holders()
	if len(hold) != 2 || hold[0].String() != "server-1 l1/dram" || hold[0].Tokens != 512 || hold[1].String() != "server-1 l2/fs" || hold[1].Tokens != 256 {
		t.Errorf("holders %+v", hold)
	}
	rows := res.Rows(PlacementFilter{Tier: TierL2})
	if len(rows) != 2 || rows[1].Start != 256 || rows[1].End != 512 || rows[1].Hit || !rows[0].Usable || len(rows[1].Ranks) != 1 {
		t.Errorf("rows %+v", rows)
	}
	if g := c.Generation(); !g.Has(FeatureLookupTwoForm) || !g.Has(FeatureAccessCount) || g.Name != "2026-09-01" || !g.AtLeast {
		t.Errorf("generation %s", g)
	}

	// §8.2 with world_size 2: four results, ranks 33554944/33620481, no
	// placements, the same token ids.
	res, err = c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, WorldSize: 2, TokenIDs: seq(0, 599), ChunkSize: 256}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 4 || res.Results[1].Key.KVRank != 33620481 || res.Results[2].Key.KVRank != 33554944 || len(res.Results[3].Placements) != 0 ||
		!slices.Equal(res.Results[3].TokenIDs, seq(256, 511)) {
		t.Errorf("ws 2: %+v", res)
	}
	if h := res.PrefixHit(PlacementFilter{}); h.Chunks != 0 || len(h.RankTokens) != 2 || len(h.Holes) != 0 {
		t.Errorf("ws 2 hit: %+v", h)
	}

	// Fewer tokens than a chunk: chunks 0, not an error.
	if res, err = c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 99), ChunkSize: 256}}); err != nil || res.Chunks != 0 || len(res.Results) != 0 {
		t.Errorf("sub-chunk: %+v %v", res, err)
	}
	// lmc hashing differently from the coordinator.
	_, err = c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599), ChunkSize: 256}, ExpectChunkHashes: []string{h1, h0}})
	if hm := as[*HashMismatchError](t, err); hm.Chunk != 0 || hm.Want != h1 || hm.Got != h0 {
		t.Errorf("%+v", hm)
	}
	// A chunk size other than the coordinator's is an answer lmc cannot use.
	_, err = c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599), ChunkSize: 128}})
	if be := as[*BadAnswerError](t, err); !strings.Contains(be.Reason, "chunk size 128 there are 4") {
		t.Errorf("%v", be)
	}
}

func TestLookupKeysForm(t *testing.T) {
	s, c := coordinator(t)
	res, err := c.Lookup(ctx(), LookupRequest{Keys: []Key{{ChunkHashHex: h1, ModelName: model, KVRank: 16777472}}})
	if err != nil {
		t.Fatal(err)
	}
	// §8.2's keys form: the request names only the three fields.
	if got := lastBody(t, s, "POST", "/directory/lookup"); got != `{"keys":[{"chunk_hash_hex":"`+h1+`","model_name":"`+model+`","kv_rank":16777472}]}` {
		t.Errorf("request body %s", got)
	}
	if res.Form != "keys" || res.Chunks != 1 || len(res.Results) != 1 || res.ChunkSize != 256 ||
		res.Results[0].Key != (Key{h1, model, 16777472, 0, ""}) || !slices.Equal(res.Results[0].Placements, []Placement{{"server-1", 1770000000, "l1", "dram", 33554432, false}}) {
		t.Errorf("%+v", res)
	}
	// Hex case is echoed as sent and compared by value.
	if _, err := c.Lookup(ctx(), LookupRequest{Keys: []Key{{ChunkHashHex: strings.ToUpper(h1), ModelName: model, KVRank: 16777472}}}); err != nil {
		t.Errorf("upper-case hex: %v", err)
	}
	// Bad keys are refused before sending.
	if _, err := c.Lookup(ctx(), LookupRequest{Keys: []Key{{ChunkHashHex: "zz", ModelName: "m"}}}); err == nil || !strings.Contains(err.Error(), "position 0") {
		t.Errorf("bad key: %v", err)
	}
	if _, err := c.Lookup(ctx(), LookupRequest{}); err == nil {
		t.Error("empty lookup accepted")
	}
}

func TestKeysListing(t *testing.T) {
	s, c := coordinator(t)
	p, err := c.Keys(ctx(), KeysQuery{Limit: 1, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := s.LastRequest("GET", "/directory/keys"); r.Query != "limit=1&offset=1" {
		t.Errorf("query %q", r.Query)
	}
	// §8.3: the second key only; total stays 2.
	if p.Total != 2 || len(p.Keys) != 1 || p.Keys[0].Key.ChunkHashHex != h1 || p.Keys[0].NumTokens != 256 || !p.HasAccessCount {
		t.Errorf("%+v", p)
	}
	if p, err = c.Keys(ctx(), KeysQuery{Tier: TierL2}); err != nil || p.Total != 1 || p.Keys[0].Key.ChunkHashHex != h0 ||
		!slices.Equal(p.Keys[0].Placements, []Placement{{"server-1", 1770000000, "l2", "fs", 33554432, false}}) {
		t.Errorf("tier l2: %+v %v", p, err)
	}
	var seen []string
	total, err := c.EachKey(ctx(), KeysQuery{Limit: 1}, func(k KeyEntry) error { seen = append(seen, k.Key.ChunkHashHex); return nil })
	if err != nil || total != 2 || !slices.Equal(seen, []string{h0, h1}) {
		t.Errorf("EachKey %v %d %v", seen, total, err)
	}
	// §8.3's 422 (limit=0), as the coordinator words it.
	s.InjectFault("/directory/keys", sandboxcoordinator.ErrorAnswer(422, `{"detail":[{"type":"greater_than_equal","loc":["query","limit"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]}`))
	_, err = c.Keys(ctx(), KeysQuery{})
	ae := as[*APIError](t, err)
	if ae.Kind != KindValidation || len(ae.FieldErrors) != 1 || ae.FieldErrors[0] != (FieldError{"limit", "query", "Input should be greater than or equal to 1", "greater_than_equal"}) ||
		ae.Error() != "coordinator GET /directory/keys: HTTP 422: limit: Input should be greater than or equal to 1" {
		t.Errorf("%+v / %v", ae, ae)
	}
	if _, err := c.Keys(ctx(), KeysQuery{Limit: 20000}); err == nil {
		t.Error("limit 20000 accepted")
	}
}

func TestInstancesUsageStats(t *testing.T) {
	_, c := coordinator(t)
	l, err := c.Instances(ctx())
	if err != nil {
		t.Fatal(err)
	}
	// §8.4.
	want := Instance{InstanceID: "server-1", IP: "10.0.0.5", HTTPPort: 8080, RegistrationTime: 1770000002.417, Metadata: map[string]string{}, HasP2PFields: true}
	if len(l.Instances) != 1 || !l.HasP2PFields || l.Instances[0].InstanceID != want.InstanceID || l.Instances[0].RegistrationTime != want.RegistrationTime ||
		l.Instances[0].HTTPURL() != "http://10.0.0.5:8080" || len(l.Instances[0].Metadata) != 0 {
		t.Errorf("%+v", l)
	}
	age, exact := l.Instances[0].HeartbeatAge(clock().Add(12*time.Second), 30*time.Second, 10*time.Second)
	if exact || age < 11*time.Second || age > 13*time.Second {
		t.Errorf("heartbeat age %s %v", age, exact)
	}
	if age, _ := l.Instances[0].HeartbeatAge(clock().Add(time.Hour), 30*time.Second, 10*time.Second); age != 40*time.Second {
		t.Errorf("bounded age %s", age)
	}
	// §8.5.
	u, err := c.FleetUsage(ctx())
	if err != nil {
		t.Fatal(err)
	}
	ratio := 0.0015625
	wantMods := []ModuleUsage{{"l1", "dram", false, 67108864, 42949672960, &ratio}, {"l2", "fs", false, 33554432, 0, nil}}
	if len(u.Instances) != 1 || !u.Instances[0].Registered || !u.Instances[0].DeclaredCapacity || len(u.SharedModules) != 0 || len(u.Instances[0].Modules) != 2 {
		t.Fatalf("%+v", u)
	}
	for i, m := range u.Instances[0].Modules {
		w := wantMods[i]
		if m.Tier != w.Tier || m.Backend != w.Backend || m.UsedBytes != w.UsedBytes || m.CapacityBytes != w.CapacityBytes || (m.UsageRatio == nil) != (w.UsageRatio == nil) ||
			m.UsageRatio != nil && *m.UsageRatio != *w.UsageRatio {
			t.Errorf("module %d: %+v", i, m)
		}
	}
	if iu, err := c.InstanceUsage(ctx(), "server-1"); err != nil || iu.InstanceID != "server-1" || len(iu.Modules) != 2 {
		t.Errorf("instance usage %+v %v", iu, err)
	}
	_, err = c.InstanceUsage(ctx(), "nope")
	if ae := as[*APIError](t, err); ae.Status != 404 || ae.Kind != KindUnknownInstance || ae.Detail != "unknown instance 'nope'" || !IsNotFound(err) {
		t.Errorf("%+v", ae)
	}
	// §6.7.
	st, err := c.DirectoryStats(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if *st.NumKeys != 2 || *st.NumPlacements != 3 || st.L1KeysByInstance["server-1"] != 2 || st.Blend.TableSize != 1024 || *st.Blend.NumClaims != 0 ||
		*st.L1Count != 2 || *st.L1SizeBytes != 67108864 || *st.L2Count != 1 || *st.L2SizeBytes != 33554432 || !st.HasTierTotals || len(st.Warnings) != 0 {
		t.Errorf("%+v", st)
	}
	if h, err := c.Healthz(ctx()); err != nil || !h.Healthy {
		t.Errorf("healthz %+v %v", h, err)
	}
	if m, err := c.Metrics(ctx()); err != nil || !strings.Contains(m, `lmcache_mp_key_directory_placement_count{otel_scope_name="lmcache.mp_coordinator",tier="l1"} 2.0`) {
		t.Errorf("metrics %q %v", m, err)
	}
}

func TestQuotas(t *testing.T) {
	s, c := coordinator(t)
	// §8.6, in order.
	r, err := c.SetQuota(ctx(), "", 10)
	if err != nil || r.CacheSalt != "" || r.LimitGB != 10 || r.Status != "ok" {
		t.Fatalf("%+v %v", r, err)
	}
	if got := lastBody(t, s, "PUT", "/quota/_default"); got != `{"limit_gb":10}` {
		t.Errorf("body %s", got)
	}
	if r, err = c.SetQuota(ctx(), "user-a", 5.5); err != nil || r.LimitGB != 5.5 {
		t.Fatalf("%+v %v", r, err)
	}
	if got := lastBody(t, s, "PUT", "/quota/user-a"); got != `{"limit_gb":5.5}` {
		t.Errorf("body %s", got)
	}
	l, err := c.Quotas(ctx(), "")
	if err != nil || l.TotalGB != 0.03125 || len(l.ByCacheSalt) != 2 || !quotaIs(l.ByCacheSalt[0], QuotaStatus{CacheSalt: "", QuotaLimitGB: 10, QuotaExists: true, UsageGB: 0.03125, Tier: TierL2}) ||
		l.ByCacheSalt[1].CacheSalt != "user-a" || l.ByCacheSalt[1].QuotaLimitGB != 5.5 || l.ByCacheSalt[1].UsageGB != 0 {
		t.Errorf("%+v %v", l, err)
	}
	if l, err = c.Quotas(ctx(), TierL1); err != nil || l.TotalGB != 0.0625 || len(l.ByCacheSalt) != 1 || l.ByCacheSalt[0].QuotaExists || l.ByCacheSalt[0].UsageGB != 0.0625 {
		t.Errorf("l1 %+v %v", l, err)
	}
	if r, _ := s.LastRequest("GET", "/quota"); r.Query != "tier=l1" {
		t.Errorf("query %q", r.Query)
	}
	if q, err := c.QuotaDefault(ctx()); err != nil || q.DefaultLimitGB != nil {
		t.Errorf("default %+v %v", q, err)
	}
	zero := 0.0
	if q, err := c.SetQuotaDefault(ctx(), &zero); err != nil || q.DefaultLimitGB == nil || *q.DefaultLimitGB != 0 {
		t.Errorf("set default %+v %v", q, err)
	}
	if got := lastBody(t, s, "PUT", "/quota/config"); got != `{"default_limit_gb":0}` {
		t.Errorf("body %s", got)
	}
	if r, err = c.DeleteQuota(ctx(), "user-a"); err != nil || r.Status != "removed" || r.LimitGB != 0 {
		t.Errorf("%+v %v", r, err)
	}
	if r, err = c.DeleteQuota(ctx(), "user-a"); err != nil || r.Status != "not_found" {
		t.Errorf("%+v %v", r, err)
	}
	if _, err := c.Quotas(ctx(), TierAll); err == nil {
		t.Error("tier all accepted")
	}
	// §8.6's 400 for tier=all, as the coordinator sends it.
	s.InjectFault("/quota", sandboxcoordinator.Fault{Times: 1, Status: 400, Body: `{"detail":"tier 'all' has no usage accounting; only 'l1', 'l2'"}`})
	_, err = c.Quotas(ctx(), "")
	if ae := as[*APIError](t, err); ae.Kind != KindBadRequest || ae.Envelope != "detail" || !strings.Contains(ae.Hint, "L2 only") {
		t.Errorf("%+v", ae)
	}
	// §2: 0.1 GiB reads back as 0.09999999962747097.
	if _, err := c.SetQuota(ctx(), "r", 0.1); err != nil {
		t.Fatal(err)
	}
	if q, err := c.Quota(ctx(), "r", ""); err != nil || q.QuotaLimitGB != 0.09999999962747097 || !q.QuotaExists {
		t.Errorf("%+v %v", q, err)
	}
	if _, err := c.SetQuota(ctx(), "r", math.Inf(1)); err == nil {
		t.Error("infinite quota accepted")
	}
	// {"error": "invalid quota limit"} is read from the error envelope.
	s.InjectFault("/quota/x", sandboxcoordinator.ErrorAnswer(400, `{"error":"invalid quota limit"}`))
	_, err = c.SetQuota(ctx(), "x", 1)
	if ae := as[*APIError](t, err); ae.Envelope != "error" || ae.Detail != "invalid quota limit" || ae.Kind != KindBadRequest || ae.Hint == "" {
		t.Errorf("%+v", ae)
	}
}

func TestPinsAndDelete(t *testing.T) {
	mp, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPInstanceID("server-1"), sandboxcoordinator.WithMPIncarnation(1770000000),
		sandboxcoordinator.WithMPSeq(4), sandboxcoordinator.WithoutRegistration())
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	s, c := coordinator(t, sandboxcoordinator.WithMPServerURL(func(string, string, int) string { return mp.URL() }))
	mpSeed(t, mp, s)

	tr := TokensRequest{ModelName: model, WorldSize: 1, TokenIDs: seq(0, 599), ChunkSize: 256}
	p, err := c.Pin(ctx(), tr)
	if err != nil || p.Requested != 2 || p.Affected != 2 || !p.Pinned {
		t.Fatalf("%+v %v", p, err)
	}
	if got := lastBody(t, s, "POST", "/cache/pins"); got != `{"model_name":"`+model+`","world_size":1,"token_ids":[`+ints(0, 599)+`],"cache_salt":""}` {
		t.Errorf("pin body %.120s", got)
	}
	if _, err := c.Pin(ctx(), tr); err != nil || s.PinCount(h0, model, 16777472, "") != 2 {
		t.Errorf("second pin: %v, count %d", err, s.PinCount(h0, model, 16777472, ""))
	}
	pl, err := c.Pins(ctx(), PinsQuery{ModelName: model})
	if err != nil || pl.Total != 2 || pl.Pins[0].PinCount != 2 || pl.Pins[0].Key.ChunkHashHex != h0 {
		t.Errorf("pins %+v %v", pl, err)
	}
	if u, err := c.Unpin(ctx(), tr); err != nil || u.Pinned || u.Status != "unpinned" || s.PinCount(h0, model, 16777472, "") != 1 {
		t.Errorf("unpin %+v %v", u, err)
	}
	if _, ok := s.LastRequest("DELETE", "/cache/pins"); !ok {
		t.Error("unpin is DELETE with a body")
	}
	// A sub-chunk pin: requested 0, affected 0, status pinned.
	if p, err := c.Pin(ctx(), TokensRequest{ModelName: model, TokenIDs: seq(1, 3), ChunkSize: 256}); err != nil || p.Requested != 0 || p.Affected != 0 {
		t.Errorf("sub-chunk pin %+v %v", p, err)
	}

	// Delete on server-1, tier all: both keys hold an L2 pin, so both are
	// dropped from the delete set (for every tier) and counted skipped.
	d, err := c.Delete(ctx(), DeleteRequest{InstanceID: "server-1", TokensRequest: tr})
	if err != nil || d.Requested != 2 || d.Status != "deleted" || d.Skipped != 2 || d.Affected != 0 {
		t.Fatalf("delete %+v %v", d, err)
	}
	if got := lastBody(t, s, "POST", "/cache/delete"); got != `{"instance_id":"server-1","model_name":"`+model+`","world_size":1,"token_ids":[`+ints(0, 599)+`],"cache_salt":"","tier":"all","force":false}` {
		t.Errorf("delete body %.150s", got)
	}
	// The coordinator relayed {"keys": [...], "tier", "force"} to the MP server.
	if got := lastBody(t, mp, "DELETE", "/cache/objects"); !strings.HasPrefix(got, `{"keys":[]`) {
		t.Errorf("relayed %.150s", got)
	}
	d, err = c.Delete(ctx(), DeleteRequest{InstanceID: "server-1", TokensRequest: tr, Tier: TierL1})
	if err != nil || d.Affected != 2 || d.Skipped != 0 {
		t.Errorf("delete l1 %+v %v", d, err)
	}
	if l := mp.L1Len(); l != 0 {
		t.Errorf("L1 still holds %d", l)
	}
	if p, _ := c.Keys(ctx(), KeysQuery{Tier: TierL1}); p.Total != 0 {
		t.Errorf("directory still lists %d L1 keys", p.Total)
	}
	d, err = c.Delete(ctx(), DeleteRequest{InstanceID: "server-1", TokensRequest: tr, Force: true})
	if err != nil || d.Affected != 1 || s.PinCount(h0, model, 16777472, "") != 0 {
		t.Errorf("forced delete %+v %v", d, err)
	}
	if d, err = c.Delete(ctx(), DeleteRequest{InstanceID: "server-1", TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(1, 3)}}); err != nil || d.Status != "noop" {
		t.Errorf("noop delete %+v %v", d, err)
	}
	_, err = c.Delete(ctx(), DeleteRequest{InstanceID: "server-9", TokensRequest: tr})
	if ae := as[*APIError](t, err); ae.Kind != KindUnknownInstance || ae.Detail != "no MP server registered with instance_id='server-9'" {
		t.Errorf("%+v", ae)
	}
	// The MP server unreachable: 502 with the coordinator's text.
	mp.InjectFault("/cache/objects", sandboxcoordinator.Fault{Times: 1, Drop: true})
	_, err = c.Delete(ctx(), DeleteRequest{InstanceID: "server-1", TokensRequest: tr})
	if ae := as[*APIError](t, err); ae.Status != 502 || ae.Kind != KindUpstream || !strings.HasPrefix(ae.Detail, "delete to 'server-1' failed: ") {
		t.Errorf("%+v", ae)
	}
}

// mpSeed gives mp the state §8.1's events describe, and makes it report
// to s.
func mpSeed(t *testing.T, mp *sandboxcoordinator.MPServer, s *sandboxcoordinator.Server) {
	t.Helper()
	if _, err := mp.Seed("l1", seq(0, 599), model, 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Seed("l2", seq(0, 255), model, 1, ""); err != nil {
		t.Fatal(err)
	}
	mp.SetCoordinator(s.URL(), "/events")
}

func TestPrefetch(t *testing.T) {
	mp, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPInstanceID("server-1"), sandboxcoordinator.WithMPIncarnation(1770000000),
		sandboxcoordinator.WithMPSeq(4), sandboxcoordinator.WithoutRegistration(), sandboxcoordinator.WithMPRequestIDs(func() string { return reqID }))
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	s, c := coordinator(t, sandboxcoordinator.WithMPServerURL(func(id, ip string, port int) string {
		if ip == "10.0.0.5" && port == 8080 {
			return mp.URL()
		}
		return "http://127.0.0.1:1"
	}))
	mpSeed(t, mp, s)
	// §8.7: clear server-1's L1 through its HTTP API.
	m, err := NewMPServer(newPeer(t, mp.URL(), transport.Options{}).HTTP, mp.URL())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := m.ClearCache(ctx(), ClearRequest{}); err != nil || r.Status != "ok" || r.ClearedTier != "l1" || r.Route != "/cache/clear" {
		t.Fatalf("clear %+v %v", r, err)
	}
	req := PrefetchRequest{InstanceID: "server-1", TokensRequest: TokensRequest{ModelName: model, WorldSize: 1, TokenIDs: seq(0, 599), ChunkSize: 256}}
	sub, err := c.Prefetch(ctx(), req)
	if err != nil || !submitIs(sub, PrefetchSubmitResult{InstanceID: "server-1", RequestID: reqID, Chunks: 2, Status: "submitted"}) {
		t.Fatalf("%+v %v", sub, err)
	}
	if got := lastBody(t, s, "POST", "/cache/prefetches"); got != `{"instance_id":"server-1","model_name":"`+model+`","world_size":1,"token_ids":[`+ints(0, 599)+`],"cache_salt":""}` {
		t.Errorf("submit body %.150s", got)
	}
	var pending int
	st, err := c.WaitPrefetch(ctx(), "server-1", reqID, time.Millisecond, sub.Chunks*1, func(p *PrefetchStatus) { pending++ })
	if err != nil || !st.Completed() || st.FoundKeys != 1 || st.TotalKeys != 2 || !slices.Equal(st.MissingKeyIndices, []int{1}) || pending != 1 {
		t.Fatalf("%+v %v (pending %d)", st, err, pending)
	}
	if s.Count("/cache/prefetches/server-1/"+reqID) != 2 {
		t.Errorf("polls %d", s.Count("/cache/prefetches/server-1/"+reqID))
	}
	// The completion was consumed: the next poll is a 404.
	_, err = c.PrefetchStatus(ctx(), "server-1", reqID)
	if ae := as[*APIError](t, err); ae.Kind != KindUnknownJob || !strings.Contains(ae.Hint, "consumes") {
		t.Errorf("%+v", ae)
	}
	// Chunk 0 is back in L1.
	res, _ := c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599), ChunkSize: 256}})
	if h := res.PrefixHit(PlacementFilter{Tier: TierL1, InstanceID: "server-1"}); h.Tokens != 256 {
		t.Errorf("after prefetch %+v", h)
	}
	// Sub-chunk: noop; unknown instance: 404.
	if sub, err = c.Prefetch(ctx(), PrefetchRequest{InstanceID: "server-1", TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(1, 3), ChunkSize: 256}}); err != nil ||
		!submitIs(sub, PrefetchSubmitResult{InstanceID: "server-1", Status: "noop"}) {
		t.Errorf("noop %+v %v", sub, err)
	}
	_, err = c.Prefetch(ctx(), PrefetchRequest{InstanceID: "server-9", TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(1, 3)}})
	if ae := as[*APIError](t, err); ae.Kind != KindUnknownInstance || ae.Detail != "no MP server registered with instance_id='server-9'" {
		t.Errorf("%+v", ae)
	}
	// A model without a layout on the MP server: its 503 relayed as 502.
	_, err = c.Prefetch(ctx(), PrefetchRequest{InstanceID: "server-1", TokensRequest: TokensRequest{ModelName: "other", TokenIDs: seq(0, 599)}})
	if ae := as[*APIError](t, err); ae.Kind != KindUpstream || !strings.Contains(ae.Detail, "503 Service Unavailable") || !strings.Contains(ae.Hint, "no layout registered") {
		t.Errorf("%+v", ae)
	}
	// Prefetch submits and polls are never retried.
	s.InjectFault("/cache/prefetches", sandboxcoordinator.Fault{Times: 1, Status: 503, Body: `{"detail":"busy"}`})
	s.ResetRequests()
	if _, err := c.Prefetch(ctx(), req); err == nil || s.Count("/cache/prefetches") != 1 {
		t.Errorf("retried a submit: %v, %d requests", err, s.Count("/cache/prefetches"))
	}
}

func TestMoves(t *testing.T) {
	s, err := sandboxcoordinator.Start("", sandboxcoordinator.WithGeneration(sandboxcoordinator.GenMoves),
		sandboxcoordinator.WithMoveSettings(5*time.Millisecond, 5*time.Second, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := sandboxcoordinator.NewL2Pool("s3", "S3L2Adapter", true, 0)
	var mps []*sandboxcoordinator.MPServer
	for _, id := range []string{"server-1", "server-2"} {
		mp, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPInstanceID(id), sandboxcoordinator.WithL2(pool),
			sandboxcoordinator.WithCoordinator(s.URL(), "/events"), sandboxcoordinator.WithHeartbeat(0))
		if err != nil {
			t.Fatal(err)
		}
		defer mp.Close()
		mps = append(mps, mp)
	}
	if _, err := mps[0].Store("l1", seq(0, 599), model, 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := mps[0].Store("l2", seq(0, 599), model, 1, ""); err != nil {
		t.Fatal(err)
	}
	c := client(t, s.URL())
	if g, err := c.Detect(ctx()); err != nil || !g.Has(FeatureMoves) || g.Source != "openapi.json" {
		t.Fatalf("%s %v", g, err)
	}
	tr := TokensRequest{ModelName: model, WorldSize: 1, TokenIDs: seq(0, 599), ChunkSize: 256}
	m, err := c.Move(ctx(), MoveRequest{SourceInstanceID: "server-1", TargetInstanceID: "server-2", TokensRequest: tr})
	if err != nil || m.Status != "submitted" || len(m.MoveID) != 32 || m.Requested != 2 {
		t.Fatalf("%+v %v", m, err)
	}
	if got := lastBody(t, s, "POST", "/cache/moves"); got != `{"source_instance_id":"server-1","target_instance_id":"server-2","model_name":"`+model+`","world_size":1,"token_ids":[`+ints(0, 599)+`],"cache_salt":""}` {
		t.Errorf("move body %.150s", got)
	}
	st, err := c.WaitMove(ctx(), m.MoveID, 5*time.Millisecond, nil)
	if err != nil || st.Status != "completed" || st.Loaded != 2 || st.Missing != 0 || st.Deleted != 2 || st.Phase != "delete" {
		t.Fatalf("%+v %v", st, err)
	}
	res, _ := c.Lookup(ctx(), LookupRequest{TokensRequest: tr})
	if h := res.PrefixHit(PlacementFilter{Tier: TierL1, InstanceID: "server-2"}); h.Tokens != 512 {
		t.Errorf("target L1 %+v", h)
	}
	if h := res.PrefixHit(PlacementFilter{Tier: TierL1, InstanceID: "server-1"}); h.Tokens != 0 {
		t.Errorf("source L1 %+v", h)
	}
	if h := res.PrefixHit(PlacementFilter{Tier: TierL2, InstanceID: "server-2", SharedCounts: true}); h.Tokens != 512 {
		t.Errorf("shared L2 %+v", h)
	}
	// A repeated terminal read is fine; an unknown move is a 404.
	if _, err := c.MoveStatus(ctx(), m.MoveID); err != nil {
		t.Error(err)
	}
	_, err = c.MoveStatus(ctx(), "0000")
	if ae := as[*APIError](t, err); ae.Kind != KindUnknownJob {
		t.Errorf("%+v", ae)
	}
	if _, err := c.Move(ctx(), MoveRequest{SourceInstanceID: "a", TargetInstanceID: "a", TokensRequest: tr}); err == nil {
		t.Error("same instance accepted")
	}
	// Keep-source copies.
	m, err = c.Move(ctx(), MoveRequest{SourceInstanceID: "server-2", TargetInstanceID: "server-1", TokensRequest: tr, KeepSource: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lastBody(t, s, "POST", "/cache/moves"), `"keep_source":true`) {
		t.Error("keep_source not sent")
	}
	if st, err = c.WaitMove(ctx(), m.MoveID, 5*time.Millisecond, nil); err != nil || st.Deleted != 0 || st.Loaded != 2 {
		t.Errorf("copy %+v %v", st, err)
	}
}

func TestMPServerClient(t *testing.T) {
	for _, gen := range []sandboxcoordinator.MPRoutes{sandboxcoordinator.MPRoutesNewest, sandboxcoordinator.MPRoutes202605, sandboxcoordinator.MPRoutes202603} {
		t.Run(string(gen), func(t *testing.T) {
			mp, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPRoutes(gen), sandboxcoordinator.WithMPContext(model, 2))
			if err != nil {
				t.Fatal(err)
			}
			defer mp.Close()
			if _, err := mp.Store("l2", seq(0, 599), model, 2, "tenant"); err != nil {
				t.Fatal(err)
			}
			if _, err := mp.Store("l1", seq(0, 599), model, 2, "tenant"); err != nil {
				t.Fatal(err)
			}
			m, err := MPServerFromPeer(newPeer(t, mp.URL(), transport.Options{}))
			if err != nil {
				t.Fatal(err)
			}
			h, err := m.Healthcheck(ctx())
			if err != nil || !h.Healthy {
				t.Fatalf("%+v %v", h, err)
			}
			st, err := m.Status(ctx())
			if err != nil || st.ChunkSize != 256 || st.HashAlgorithm != "blake3" || len(st.Contexts) != 1 || st.Contexts[0].ModelName != model || st.Contexts[0].WorldSize != 2 ||
				st.Storage == nil || st.Storage.L1.TotalObjectCount != 4 || st.Storage.L2Adapters[0].StoredObjectCount != 4 {
				t.Fatalf("%+v %v", st, err)
			}
			clr, err := m.ClearCache(ctx(), ClearRequest{Tier: TierL1})
			if err != nil || clr.Status != "ok" {
				t.Fatalf("%+v %v", clr, err)
			}
			if mp.L1Len() != 0 {
				t.Error("L1 not cleared")
			}
			wantRoutes := map[string]string{"healthcheck": "GET /healthcheck", "status": "GET /status", "clear": "POST /cache/clear"}
			switch gen {
			case sandboxcoordinator.MPRoutes202605:
				wantRoutes["clear"] = "POST /clear-cache"
			case sandboxcoordinator.MPRoutes202603:
				wantRoutes = map[string]string{"healthcheck": "GET /api/healthcheck", "status": "GET /api/status", "clear": "POST /api/clear-cache"}
			}
			if gen != sandboxcoordinator.MPRoutes202603 {
				p, err := m.Objects(ctx(), ObjectsQuery{ModelName: model, PageSize: 3})
				if err != nil || len(p.Entries) != 3 || p.NextPageToken == "" || p.Entries[0].Key.CacheSalt != "tenant" || p.Entries[0].SizeBytes != 33554432 {
					t.Fatalf("objects %+v %v", p, err)
				}
				p2, err := m.Objects(ctx(), ObjectsQuery{ModelName: model, PageSize: 3, PageToken: p.NextPageToken})
				if err != nil || len(p2.Entries) != 1 || p2.NextPageToken != "" {
					t.Fatalf("page 2 %+v %v", p2, err)
				}
				d, err := m.DeleteObjects(ctx(), DeleteObjectsRequest{Keys: []Key{p.Entries[0].Key, p.Entries[1].Key}})
				if err != nil || d.Deleted != 2 || !d.OK {
					t.Fatalf("delete %+v %v", d, err)
				}
				if gen == sandboxcoordinator.MPRoutesNewest {
					wantRoutes["objects"], wantRoutes["evict"] = "GET /cache/objects", "DELETE /cache/objects"
				} else {
					wantRoutes["objects"], wantRoutes["evict"] = "GET /l2/keys", "POST /l2/keys:evict"
				}
			} else if _, err := m.Objects(ctx(), ObjectsQuery{}); err == nil {
				t.Error("2026-03 servers cannot list")
			} else if ae := as[*APIError](t, err); ae.Kind != KindRouteMissing || !strings.Contains(ae.Hint, "none of") {
				t.Errorf("%+v", ae)
			}
			got := m.Routes()
			for k, w := range wantRoutes {
				if got[k] != w {
					t.Errorf("route %s = %q, want %q", k, got[k], w)
				}
			}
		})
	}
}

func TestMPServerUnhealthy(t *testing.T) {
	mp, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithEngineNotInitialized())
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	m, _ := MPServerFromPeer(newPeer(t, mp.URL(), transport.Options{}), WithRetries(0, 0, 0))
	h, err := m.Healthcheck(ctx())
	if err != nil || h.Healthy || h.Reason != "engine not initialized" {
		t.Errorf("%+v %v", h, err)
	}
	_, err = m.Status(ctx())
	if ae := as[*APIError](t, err); ae.Kind != KindUnavailable || ae.Envelope != "error" || !strings.Contains(ae.Hint, "not initialized") {
		t.Errorf("%+v", ae)
	}
	// The coordinator client refuses an MP server.
	c := client(t, mp.URL())
	_, err = c.Detect(ctx())
	if be := as[*BadAnswerError](t, err); !strings.Contains(be.Reason, "MP server") {
		t.Errorf("%v", be)
	}
	// An adapter that cannot list: 501.
	pool := sandboxcoordinator.NewL2Pool("fs", "FSL2Adapter", false, 0)
	pool.SetListable(false)
	mp2, _ := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithL2(pool))
	defer mp2.Close()
	m2, _ := MPServerFromPeer(newPeer(t, mp2.URL(), transport.Options{}))
	_, err = m2.Objects(ctx(), ObjectsQuery{})
	if ae := as[*APIError](t, err); ae.Kind != KindNotImplemented {
		t.Errorf("%+v", ae)
	}
	if v, err := m2.Version(ctx()); err != nil || v != "0.3.1-lmcfake" {
		t.Errorf("version %q %v", v, err)
	}
	_ = errors.New
	_ = http.StatusOK
}

func quotaIs(a, b QuotaStatus) bool {
	a.Warnings, b.Warnings = nil, nil
	return a.CacheSalt == b.CacheSalt && a.QuotaLimitGB == b.QuotaLimitGB && a.QuotaExists == b.QuotaExists && a.UsageGB == b.UsageGB && a.Tier == b.Tier
}

func submitIs(a *PrefetchSubmitResult, b PrefetchSubmitResult) bool {
	return a != nil && a.InstanceID == b.InstanceID && a.RequestID == b.RequestID && a.Chunks == b.Chunks && a.Status == b.Status && len(a.Warnings) == 0
}

func TestByKeysAndChecks(t *testing.T) {
	_, c := coordinator(t)
	hs, _ := MPChunkHashes(seq(0, 599), 256)
	res, err := c.Lookup(ctx(), LookupRequest{Keys: ChunkKeys(hs, model, 1, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Chunked(1, 256); err != nil {
		t.Fatal(err)
	}
	if h := res.PrefixHit(PlacementFilter{Tier: TierL1}); h.Tokens != 512 {
		t.Errorf("%+v", h)
	}
	if err := res.Chunked(2, 256); err == nil {
		t.Error("ws 2 layout of ws 1 keys accepted")
	}
	tt, err := c.TierTotals(ctx())
	if err != nil || !tt.FromStats || tt.L1Count != 2 || tt.L2SizeBytes != 33554432 {
		t.Errorf("%+v %v", tt, err)
	}
	hc, err := c.VerifyHashing(ctx(), 4)
	// Chunk 0 was stored at position 0: the coordinator and lmc both
	// hash it back; chunk 1 needs its prefix.
	if err != nil || hc.Checked != 2 || hc.CoordinatorMatches != 1 || hc.LocalMatches != 1 || len(hc.ChunkSizes) != 1 || hc.ChunkSizes[0] != 256 {
		t.Errorf("%+v %v", hc, err)
	}
	// A coordinator with another --chunk-size resolves the stored chunks'
	// tokens to no chunk: no match, a note, and no error.
	_, c512 := coordinator(t, sandboxcoordinator.WithChunkSize(512))
	hc, err = c512.VerifyHashing(ctx(), 4)
	if err != nil || hc.Checked != 2 || hc.CoordinatorMatches != 0 || hc.LocalMatches != 1 || len(hc.Notes) != 1 || !strings.Contains(hc.Notes[0], "resolves 0 chunks from a stored chunk's 256 tokens") {
		t.Errorf("chunk size 512: %+v %v", hc, err)
	}
	// Without tier totals in the stats, the listing is summed.
	_, c2 := coordinator(t, sandboxcoordinator.WithGeneration(sandboxcoordinator.Gen202608))
	if tt, err := c2.TierTotals(ctx()); err != nil || tt.FromStats || tt.L1Count != 2 || tt.L2Count != 1 || tt.L1SizeBytes != 67108864 {
		t.Errorf("%+v %v", tt, err)
	}
}

// A poll whose answer is lost may have consumed the completion: a 404
// once the job was seen means done.
func TestPrefetchLostCompletion(t *testing.T) {
	mp, err := sandboxcoordinator.StartMPServer("", sandboxcoordinator.WithMPInstanceID("server-1"), sandboxcoordinator.WithMPIncarnation(1770000000),
		sandboxcoordinator.WithMPSeq(4), sandboxcoordinator.WithoutRegistration(), sandboxcoordinator.WithMPRequestIDs(func() string { return reqID }))
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	s, c := coordinator(t, sandboxcoordinator.WithMPServerURL(func(string, string, int) string { return mp.URL() }))
	mpSeed(t, mp, s)
	if _, err := c.Prefetch(ctx(), PrefetchRequest{InstanceID: "server-1", TokensRequest: tokens600}); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitPrefetch(ctx(), "server-1", reqID, 50*time.Millisecond, 0, func(*PrefetchStatus) {
		// While the client waits, the completion is consumed elsewhere
		// (as a poll whose answer was lost would have).
		if st, _ := rawDo(t, "GET", mp.URL()+"/cache/prefetches/"+reqID, ""); st != 200 {
			t.Errorf("MP poll %d", st)
		}
	})
	if err != nil || !st.Completed() || !st.Consumed || len(st.Warnings) != 1 {
		t.Errorf("%+v %v", st, err)
	}
	// A 404 on the first poll stays an error.
	if _, err := c.WaitPrefetch(ctx(), "server-1", "nope", time.Millisecond, 0, nil); !IsNotFound(err) {
		t.Errorf("%v", err)
	}
}
