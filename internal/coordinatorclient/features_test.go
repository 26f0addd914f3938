package coordinatorclient

import (
	"errors"
	"strings"
	"testing"

	sc "lmc/internal/coordinatorclient/sandboxcoordinator"
)

func TestDetectGenerations(t *testing.T) {
	cases := []struct {
		gen     sc.Generation
		name    string
		present []Feature
		absent  []Feature
	}{
		{sc.Gen202606, "2026-06-23", []Feature{FeatureL2Naming, FeaturePrefetch}, []Feature{FeatureQuota, FeaturePins, FeatureDirectory, FeatureUsage}},
		{sc.Gen202607, "2026-07", []Feature{FeatureQuota, FeatureQuotaConfig, FeaturePins, FeatureDelete, FeaturePrefetch},
			[]Feature{FeatureDirectory, FeatureUsage, FeaturePinList, FeatureMoves, FeatureL2Naming}},
		{sc.Gen202608Early, "2026-08-03", []Feature{FeatureDirectory, FeatureLookupTokensRoute, FeatureDirectoryKeys},
			[]Feature{FeatureLookupTwoForm, FeatureEvents, FeatureUsage, FeatureMoves}},
		{sc.Gen202608, "2026-08-19", []Feature{FeatureLookupTwoForm, FeatureEvents, FeatureUsage, FeatureMetrics},
			[]Feature{FeatureLookupTokensRoute, FeaturePinList, FeatureMoves}},
		{sc.Gen202609, "2026-09", []Feature{FeaturePinList, FeatureUsage, FeatureLookupTwoForm}, []Feature{FeatureMoves}},
		{sc.GenMoves, "RFC #5083 (2026-09-12)", []Feature{FeatureMoves, FeaturePinList}, nil},
	}
	for _, tc := range cases {
		for _, probe := range []bool{false, true} {
			name := string(tc.gen) + "/openapi"
			opts := []sc.Option{sc.WithGeneration(tc.gen)}
			if probe {
				name = string(tc.gen) + "/probes"
				opts = append(opts, sc.WithoutOpenAPI())
			}
			t.Run(name, func(t *testing.T) {
				s, c := coordinator(t, opts...)
				g, err := c.Detect(ctx())
				if err != nil {
					t.Fatal(err)
				}
				if g.Name != tc.name {
					t.Errorf("generation %s, want %s", g, tc.name)
				}
				for _, f := range tc.present {
					if g.Support(f) != Present {
						t.Errorf("%s: %s", f, g.Support(f))
					}
				}
				for _, f := range tc.absent {
					if g.Support(f) != Absent {
						t.Errorf("%s: %s, want absent", f, g.Support(f))
					}
				}
				want := "openapi.json"
				if probe {
					want = "probes"
				}
				if g.Source != want {
					t.Errorf("source %s", g.Source)
				}
				// Probes change nothing: no pin, no job, no key touched.
				for _, r := range s.Requests() {
					if r.Method != "GET" && r.Body != "{}" {
						t.Errorf("a probe sent %s %s %s", r.Method, r.Path, r.Body)
					}
				}
				if n := s.PinCount(h0, model, 16777472, ""); n != 0 {
					t.Errorf("pins %d", n)
				}
			})
		}
	}
}

func TestOlderCoordinators(t *testing.T) {
	t.Run("no directory", func(t *testing.T) {
		_, c := coordinator(t, sc.WithGeneration(sc.Gen202607))
		_, err := c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599)}})
		u := as[*UnsupportedError](t, err)
		if !errors.Is(err, ErrUnsupported) || u.Feature != FeatureDirectory || !strings.Contains(u.Hint, "2026-07-28") || !strings.Contains(err.Error(), "key directory") {
			t.Errorf("%v", err)
		}
		if g := c.Generation(); g.Support(FeatureDirectory) != Absent {
			t.Errorf("%s", g)
		}
		// Known now: the next lookup is refused without a request.
		if _, err := c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599)}}); !errors.Is(err, ErrUnsupported) {
			t.Error(err)
		}
		if _, err := c.FleetUsage(ctx()); !errors.Is(err, ErrUnsupported) {
			t.Errorf("usage: %v", err)
		}
		if _, err := c.DirectoryStats(ctx()); !errors.Is(err, ErrUnsupported) {
			t.Errorf("stats: %v", err)
		}
		// Quotas and pins exist there.
		if q, err := c.Quotas(ctx(), ""); err != nil || q.TotalGB != 0.03125 {
			t.Errorf("quotas %+v %v", q, err)
		}
	})
	t.Run("l2 naming", func(t *testing.T) {
		_, c := coordinator(t, sc.WithGeneration(sc.Gen202606))
		_, err := c.Quotas(ctx(), "")
		u := as[*UnsupportedError](t, err)
		if u.Feature != FeatureQuota || !strings.Contains(u.Hint, "/l2") || c.Generation().Support(FeatureL2Naming) != Present {
			t.Errorf("%v", err)
		}
		if _, err := c.Pin(ctx(), TokensRequest{ModelName: model, TokenIDs: seq(0, 599)}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("pins: %v", err)
		}
	})
	t.Run("keys-only lookup", func(t *testing.T) {
		s, c := coordinator(t, sc.WithGeneration(sc.Gen202608Early))
		req := LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599), ChunkSize: 256}}
		res, err := c.Lookup(ctx(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Route != "/directory/lookup_tokens" || res.HasTokenIDs || res.HasAccessCount || res.Chunks != 2 {
			t.Errorf("%+v", res)
		}
		if h := res.PrefixHit(PlacementFilter{}); h.Tokens != 512 {
			t.Errorf("%+v", h)
		}
		g := c.Generation()
		if g.Support(FeatureLookupTwoForm) != Absent || g.Support(FeatureLookupTokensRoute) != Present {
			t.Errorf("%s", g)
		}
		// The next one goes straight to lookup_tokens.
		if _, err := c.Lookup(ctx(), req); err != nil || s.Count("/directory/lookup") != 1 || s.Count("/directory/lookup_tokens") != 2 {
			t.Errorf("%v, %d/%d", err, s.Count("/directory/lookup"), s.Count("/directory/lookup_tokens"))
		}
		// The keys form answers without chunks.
		res, err = c.Lookup(ctx(), LookupRequest{Keys: []Key{{ChunkHashHex: h0, ModelName: model, KVRank: 16777472}}})
		if err != nil || res.Chunks != 1 || len(res.Results[0].Placements) != 2 || res.HasTokenIDs {
			t.Errorf("keys form %+v %v", res, err)
		}
		st, err := c.DirectoryStats(ctx())
		if err != nil || st.Streams["server-1"].LastSeq == nil || *st.Streams["server-1"].LastSeq != 4 || st.HasTierTotals || len(st.Warnings) != 0 {
			t.Errorf("stats %+v %v", st, err)
		}
		p, err := c.Keys(ctx(), KeysQuery{})
		if err != nil || p.HasAccessCount || p.Total != 2 {
			t.Errorf("keys %+v %v", p, err)
		}
	})
	t.Run("no access counts, no pin listing", func(t *testing.T) {
		_, c := coordinator(t, sc.WithGeneration(sc.Gen202608))
		res, err := c.Lookup(ctx(), LookupRequest{TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599), ChunkSize: 256}})
		if err != nil || res.HasAccessCount || !res.HasTokenIDs {
			t.Fatalf("%+v %v", res, err)
		}
		g := c.Generation()
		if g.Support(FeatureAccessCount) != Absent || g.Name != "2026-08 (mid)" && g.Name != "mid-August 2026" {
			t.Errorf("%s", g)
		}
		_, err = c.Pins(ctx(), PinsQuery{})
		if u := as[*UnsupportedError](t, err); u.Feature != FeaturePinList || c.Generation().Support(FeaturePins) != Present {
			t.Errorf("%v", err)
		}
		if st, err := c.DirectoryStats(ctx()); err != nil || st.HasTierTotals || st.Blend == nil || st.Blend.NumClaims != nil {
			t.Errorf("stats %+v %v", st, err)
		}
		if c.Generation().Support(FeatureTierTotals) != Absent {
			t.Error("tier totals")
		}
	})
	t.Run("no moves", func(t *testing.T) {
		s, c := coordinator(t)
		mr := MoveRequest{SourceInstanceID: "server-1", TargetInstanceID: "server-2", TokensRequest: TokensRequest{ModelName: model, TokenIDs: seq(0, 599)}}
		_, err := c.Move(ctx(), mr)
		if u := as[*UnsupportedError](t, err); u.Feature != FeatureMoves || !strings.Contains(u.Hint, "RFC #5083") {
			t.Errorf("%v", err)
		}
		if _, err := c.Move(ctx(), mr); !errors.Is(err, ErrUnsupported) || s.Count("/cache/moves") != 1 {
			t.Errorf("%v, %d", err, s.Count("/cache/moves"))
		}
	})
	t.Run("no eviction controller", func(t *testing.T) {
		_, c := coordinator(t, sc.WithoutEvictionController())
		_, err := c.Quotas(ctx(), "")
		if u := as[*UnsupportedError](t, err); u.Feature != FeatureQuota || !strings.Contains(u.Hint, "eviction controller") {
			t.Errorf("%v", err)
		}
	})
}
