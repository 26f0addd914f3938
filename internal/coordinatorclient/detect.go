package coordinatorclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Detect learns the coordinator's generation: from GET /openapi.json
// (the exact routes of the running version, one request), or, when the
// docs are off, by probing. Probes are reads, or POSTs with an empty body
// that every generation rejects with 422 before doing anything (moves,
// prefetches, deletes, the lookup), so nothing is started or changed.
// Features known only from fields (access counts, tier totals) stay
// unknown until an answer shows them. The result is kept: call Generation
// for it later without a request.
func (c *Client) Detect(ctx context.Context) (Generation, error) {
	a, err := c.do(ctx, call{rt: rOpenAPI, limit: openAPILimit})
	if err == nil {
		o, derr := DecodeOpenAPI(a.body)
		if derr == nil {
			if strings.Contains(o.Title, "LMCache HTTP API") {
				return Generation{}, c.bad(rOpenAPI, a, "this is an MP server's HTTP API (%q), not the coordinator", o.Title)
			}
			c.mu.Lock()
			c.feat.fromOpenAPI(o)
			c.feat.detected = true
			c.mu.Unlock()
			return c.Generation(), nil
		}
	} else if te := (*TransportError)(nil); errors.As(err, &te) {
		return Generation{}, err
	}
	if err := c.probe(ctx); err != nil {
		return Generation{}, err
	}
	return c.Generation(), nil
}

// probeResult is what one probe says: present, absent (404 "Not Found"
// or 405), or an error to stop on.
func (c *Client) probeRoute(ctx context.Context, cl call, f Feature, presentOn ...int) (Support, *answer, error) {
	cl.accept = append(cl.accept, presentOn...)
	cl.rt.retry = true
	a, err := c.do(ctx, cl)
	if err == nil {
		c.learn(f, Present, cl.rt.method+" "+cl.rt.pattern+" answered "+httpStatus(a.status))
		return Present, a, nil
	}
	if ae, ok := routeMissing(err); ok {
		c.learn(f, Absent, ae.Method+" "+ae.Route+" answered "+httpStatus(ae.Status))
		return Absent, nil, nil
	}
	var te *TransportError
	if errors.As(err, &te) {
		return Unknown, nil, err
	}
	return Unknown, nil, nil // another error: says nothing about the route
}

func httpStatus(s int) string {
	return strings.TrimSpace(strconv.Itoa(s) + " " + http.StatusText(s))
}

func (c *Client) probe(ctx context.Context) error {
	c.mu.Lock()
	c.feat.source = "probes"
	c.mu.Unlock()
	empty := map[string]any{}
	probes := []struct {
		cl call
		f  Feature
		ok []int
	}{
		{call{rt: rHealthz, limit: 64 << 10}, FeatureHealthz, nil},
		{call{rt: rUsage, limit: listingLimit}, FeatureUsage, nil},
		{call{rt: rStats, limit: listingLimit}, FeatureDirectory, nil},
		{call{rt: rKeys, query: url.Values{"limit": {"1"}}, limit: smallLimit}, FeatureDirectoryKeys, nil},
		{call{rt: rQuotaConfig, limit: smallLimit}, FeatureQuotaConfig, nil},
		{call{rt: rPrefetch, body: empty, limit: smallLimit}, FeaturePrefetch, []int{422}},
		{call{rt: rDelete, body: empty, limit: smallLimit}, FeatureDelete, []int{422}},
		{call{rt: rMove, body: empty, limit: smallLimit}, FeatureMoves, []int{400, 422}},
		{call{rt: rMetrics, limit: metricsLimit}, FeatureMetrics, nil},
	}
	for _, p := range probes {
		if _, _, err := c.probeRoute(ctx, p.cl, p.f, p.ok...); err != nil {
			return err
		}
	}
	// Quotas: /quota, else the /l2 naming of June 2026.
	if s, _, err := c.probeRoute(ctx, call{rt: rQuotaList, limit: listingLimit}, FeatureQuota); err != nil {
		return err
	} else if s == Absent {
		if _, _, err := c.probeRoute(ctx, call{rt: rL2Status, limit: listingLimit}, FeatureL2Naming); err != nil {
			return err
		}
	} else {
		c.learn(FeatureL2Naming, Absent, "GET /quota answered")
	}
	// Pins: GET lists them (newest); 405 means POST/DELETE only.
	a, err := c.do(ctx, call{rt: rPinList, query: url.Values{"limit": {"1"}}, limit: smallLimit})
	switch ae, missing := routeMissing(err); {
	case err == nil:
		_ = a
		c.learn(FeaturePinList, Present, "GET /cache/pins answered")
		c.learn(FeaturePins, Present, "GET /cache/pins answered")
	case missing && ae.Status == http.StatusMethodNotAllowed:
		c.learn(FeaturePinList, Absent, "GET /cache/pins answered 405")
		c.learn(FeaturePins, Present, "GET /cache/pins answered 405 (POST and DELETE only)")
	case missing:
		c.learn(FeaturePinList, Absent, "GET /cache/pins answered 404")
		c.learn(FeaturePins, Absent, "GET /cache/pins answered 404")
	default:
		var te *TransportError
		if errors.As(err, &te) {
			return err
		}
	}
	// The lookup's form: an empty body is a 422 for the two-form model
	// and {"results": []} for the keys-only one.
	if c.support(FeatureDirectory) == Present {
		a, err := c.do(ctx, call{rt: rLookup, body: empty, limit: smallLimit, accept: []int{422}})
		switch {
		case err != nil:
			var te *TransportError
			if errors.As(err, &te) {
				return err
			}
		case a.status == http.StatusUnprocessableEntity:
			c.learn(FeatureLookupTwoForm, Present, "POST /directory/lookup {} answered 422 (exactly one of keys or token_ids)")
			c.learn(FeatureLookupTokensRoute, Absent, "inferred from the two-form lookup")
			c.learn(FeatureEvents, Present, "inferred from the two-form lookup (both came mid-August 2026)")
		default:
			c.learn(FeatureLookupTwoForm, Absent, "POST /directory/lookup {} answered 200 (keys-only lookup)")
			c.learn(FeatureLookupTokensRoute, Present, "inferred from the keys-only lookup")
			c.learn(FeatureEvents, Absent, "inferred from the keys-only lookup (/directory/events then)")
		}
		if st, err := c.DirectoryStats(ctx); err == nil && st.NumKeys != nil {
			c.fieldSeen(FeatureTierTotals, st.HasTierTotals, "directory stats")
		}
	} else {
		for _, f := range []Feature{FeatureLookupTwoForm, FeatureLookupTokensRoute, FeatureDirectoryKeys, FeatureAccessCount, FeatureTierTotals} {
			c.learn(f, Absent, "no key directory")
		}
		if c.support(FeatureUsage) == Absent {
			c.learn(FeatureEvents, Absent, "no key directory and no usage")
		}
	}
	if c.support(FeatureUsage) == Present {
		c.learn(FeatureEvents, Present, "inferred from /instances/usage (after mid-August 2026)")
	}
	c.mu.Lock()
	c.feat.detected = true
	c.mu.Unlock()
	return nil
}
