package coordinatorclient

// Feature detection (spec §9, §11.3). The coordinator has no version
// route and its info.version is always 1.0.0, so lmc tells generations
// apart by the routes they serve (GET /openapi.json lists them; without
// it, by probing) and by the fields of their answers. The knowledge is
// kept per Client, i.e. per base URL, and grows with every answer.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Feature is a capability that appeared (or went) at some point of the
// coordinator's history.
type Feature string

// Features, oldest first.
const (
	FeatureHealthz           Feature = "healthz"
	FeatureL2Naming          Feature = "l2-naming"
	FeatureQuota             Feature = "quota"
	FeaturePrefetch          Feature = "prefetch"
	FeatureDelete            Feature = "delete"
	FeaturePins              Feature = "pins"
	FeatureQuotaConfig       Feature = "quota-config"
	FeatureDirectory         Feature = "directory"
	FeatureLookupTokensRoute Feature = "lookup-tokens-route"
	FeatureDirectoryKeys     Feature = "directory-keys"
	FeatureLookupTwoForm     Feature = "lookup-two-form"
	FeatureEvents            Feature = "events"
	FeatureUsage             Feature = "usage"
	FeatureAccessCount       Feature = "access-count"
	FeatureTierTotals        Feature = "tier-totals"
	FeaturePinList           Feature = "pin-list"
	FeatureMoves             Feature = "moves"
	FeatureMetrics           Feature = "metrics"
)

// FeatureDoc describes a feature.
type FeatureDoc struct {
	Feature Feature
	Title   string
	// Since is when it appeared (spec §11.1), Until when it went.
	Since, Until string
	// ByField: detected from answers' fields rather than routes.
	ByField bool
	// Missing is the hint when a coordinator lacks it.
	Missing string
}

// FeatureDocs lists every feature in the order it appeared.
var FeatureDocs = []FeatureDoc{
	{Feature: FeatureHealthz, Title: "GET /healthz", Since: "2026-06-02"},
	{Feature: FeatureL2Naming, Title: "the /l2 quota routes", Since: "2026-06", Until: "2026-06-30",
		Missing: "the /l2 naming predates 2026-06-30"},
	{Feature: FeaturePrefetch, Title: "warm prefetch (/cache/prefetches)", Since: "2026-06-23",
		Missing: "warm prefetch needs a coordinator from 2026-06-23 on"},
	{Feature: FeatureQuota, Title: "quotas (/quota)", Since: "2026-06-30",
		Missing: "quotas need a coordinator from 2026-06-30 on, started with its eviction controller (routes a controller owns are mounted only if it was built)"},
	{Feature: FeatureDelete, Title: "deletes (/cache/delete)", Since: "2026-07-03",
		Missing: "deletes need a coordinator from 2026-07-03 on"},
	{Feature: FeaturePins, Title: "pins (/cache/pins)", Since: "2026-07-07",
		Missing: "pins need a coordinator from 2026-07-07 on, started with its eviction controller"},
	{Feature: FeatureQuotaConfig, Title: "the default quota (/quota/config)", Since: "2026-07",
		Missing: "the default quota needs a coordinator from July 2026 on"},
	{Feature: FeatureDirectory, Title: "the key directory (/directory)", Since: "2026-07-28",
		Missing: "this coordinator predates the key directory (2026-07-28): it cannot look keys up; use lmc lookup --master against the store, or upgrade LMCache"},
	{Feature: FeatureLookupTokensRoute, Title: "keys-only lookups (POST /directory/lookup_tokens)", Since: "2026-07-28", Until: "mid-August 2026"},
	{Feature: FeatureDirectoryKeys, Title: "the keys listing (/directory/keys)", Since: "2026-08-03",
		Missing: "the keys listing needs a coordinator from 2026-08-03 on"},
	{Feature: FeatureMetrics, Title: "GET /metrics", Since: "2026-08",
		Missing: "metrics are off (--disable-metrics or --otlp-endpoint) or predate August 2026"},
	{Feature: FeatureLookupTwoForm, Title: "two-form /directory/lookup", Since: "mid-August 2026"},
	{Feature: FeatureEvents, Title: "POST /events", Since: "mid-August 2026"},
	{Feature: FeatureUsage, Title: "fleet memory usage (/instances/usage)", Since: "2026-08-19",
		Missing: "this coordinator predates fleet usage (2026-08-19)"},
	{Feature: FeatureTierTotals, Title: "tier totals in /directory/stats", Since: "2026-08-28", ByField: true},
	{Feature: FeatureAccessCount, Title: "access counts", Since: "2026-09-01", ByField: true},
	{Feature: FeaturePinList, Title: "the pin listing (GET /cache/pins)", Since: "2026-09",
		Missing: "this coordinator pins and unpins but does not list pins (GET /cache/pins came in September 2026)"},
	{Feature: FeatureMoves, Title: "moves (/cache/moves)", Since: "RFC #5083 (2026-09-12)",
		Missing: "this coordinator has no move API (proposed in RFC #5083); move by prefetching on the target and deleting on the source"},
}

// FeatureInfo returns the documentation of f.
func FeatureInfo(f Feature) FeatureDoc {
	for _, d := range FeatureDocs {
		if d.Feature == f {
			return d
		}
	}
	return FeatureDoc{Feature: f, Title: string(f)}
}

// Support is what is known of a feature.
type Support int8

// Support states.
const (
	Unknown Support = iota
	Present
	Absent
)

func (s Support) String() string {
	switch s {
	case Present:
		return "present"
	case Absent:
		return "absent"
	}
	return "unknown"
}

// MarshalText renders the state for JSON output.
func (s Support) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// FeatureState is one feature's state and what told it.
type FeatureState struct {
	Feature  Feature `json:"feature"`
	Support  Support `json:"support"`
	Evidence string  `json:"evidence,omitempty"`
}

// features is the mutable knowledge of one Client (guarded by its mutex).
type features struct {
	state    map[Feature]FeatureState
	source   string
	detected bool
}

func newFeatures() *features { return &features{state: map[Feature]FeatureState{}} }

func (f *features) get(ft Feature) Support { return f.state[ft].Support }

// set records s unless the feature is already known (first evidence wins,
// except that an observed field beats a schema guess).
func (f *features) set(ft Feature, s Support, evidence string, override bool) {
	if cur, ok := f.state[ft]; ok && cur.Support != Unknown && !override {
		return
	}
	f.state[ft] = FeatureState{Feature: ft, Support: s, Evidence: evidence}
}

// Generation is what lmc can tell of the coordinator's version.
type Generation struct {
	// Name is the date of the newest feature seen ("2026-09-01"), or
	// "unknown".
	Name string `json:"name"`
	// Label names that feature.
	Label string `json:"label"`
	// AtLeast is true when features not yet probed could make it newer.
	AtLeast bool `json:"at_least"`
	// Source is "openapi.json", "probes", "answers" or "" (nothing known).
	Source   string         `json:"source"`
	Features []FeatureState `json:"features"`
}

func (g Generation) String() string {
	if g.Name == "unknown" {
		return "unknown (nothing asked yet)"
	}
	s := g.Name + " (" + g.Label + ")"
	if g.AtLeast {
		s = "≥ " + s
	}
	return s
}

// Has reports a feature as present.
func (g Generation) Has(f Feature) bool {
	for _, s := range g.Features {
		if s.Feature == f {
			return s.Support == Present
		}
	}
	return false
}

// Support returns what is known of f.
func (g Generation) Support(f Feature) Support {
	for _, s := range g.Features {
		if s.Feature == f {
			return s.Support
		}
	}
	return Unknown
}

// generation summarises f: the newest feature present names it; AtLeast
// says that a newer feature is still unknown. Features that went away
// (the /l2 naming, lookup_tokens) and metrics (which can be turned off)
// name a generation but do not make it uncertain.
func (f *features) generation() Generation {
	g := Generation{Name: "unknown", Source: f.source}
	last := -1
	for i, d := range FeatureDocs {
		st, ok := f.state[d.Feature]
		if !ok {
			st = FeatureState{Feature: d.Feature}
		}
		g.Features = append(g.Features, st)
		if st.Support == Present {
			g.Name, g.Label, last = d.Since, d.Title, i
		}
	}
	for i := last + 1; i < len(FeatureDocs); i++ {
		switch FeatureDocs[i].Feature {
		case FeatureL2Naming, FeatureLookupTokensRoute, FeatureMetrics:
			continue
		}
		if g.Features[i].Support == Unknown {
			g.AtLeast = true
		}
	}
	return g
}

// OpenAPIRoutes is what GET /openapi.json says: method+path pairs and the
// property names of its component schemas.
type OpenAPIRoutes struct {
	Title      string
	Routes     map[string][]string // path -> sorted methods (upper case)
	Properties map[string]bool     // every property name in components.schemas
}

// Has reports whether path is served with method.
func (o *OpenAPIRoutes) Has(method, path string) bool {
	for _, m := range o.Routes[path] {
		if m == method {
			return true
		}
	}
	return false
}

// DecodeOpenAPI decodes the parts of an OpenAPI document lmc reads.
func DecodeOpenAPI(body []byte) (*OpenAPIRoutes, error) {
	raw, err := document(body)
	if err != nil {
		return nil, err
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title string `json:"title"`
		} `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not an OpenAPI document: %v", err)
	}
	if doc.OpenAPI == "" || doc.Paths == nil {
		return nil, fmt.Errorf("not an OpenAPI document (no openapi version or paths)")
	}
	o := &OpenAPIRoutes{Title: doc.Info.Title, Routes: map[string][]string{}, Properties: map[string]bool{}}
	for p, ops := range doc.Paths {
		var ms []string
		for m := range ops {
			switch um := strings.ToUpper(m); um {
			case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS":
				ms = append(ms, um)
			}
		}
		sort.Strings(ms)
		o.Routes[p] = ms
	}
	for _, s := range doc.Components.Schemas {
		for k := range s.Properties {
			o.Properties[k] = true
		}
	}
	return o, nil
}

// fromOpenAPI sets every route feature from the document.
func (f *features) fromOpenAPI(o *OpenAPIRoutes) {
	f.source = "openapi.json"
	yes := func(ft Feature, ok bool, what string) {
		s := Absent
		ev := "GET /openapi.json does not list " + what
		if ok {
			s, ev = Present, "GET /openapi.json lists "+what
		}
		f.set(ft, s, ev, true)
	}
	yes(FeatureHealthz, o.Has("GET", "/healthz"), "GET /healthz")
	yes(FeatureL2Naming, o.Has("GET", "/l2/status"), "GET /l2/status")
	yes(FeatureQuota, o.Has("GET", "/quota"), "GET /quota")
	yes(FeatureQuotaConfig, o.Has("GET", "/quota/config"), "GET /quota/config")
	yes(FeaturePrefetch, o.Has("POST", "/cache/prefetches"), "POST /cache/prefetches")
	yes(FeatureDelete, o.Has("POST", "/cache/delete"), "POST /cache/delete")
	yes(FeaturePins, o.Has("POST", "/cache/pins"), "POST /cache/pins")
	yes(FeaturePinList, o.Has("GET", "/cache/pins"), "GET /cache/pins")
	dir := o.Has("POST", "/directory/lookup")
	yes(FeatureDirectory, dir, "POST /directory/lookup")
	lt := o.Has("POST", "/directory/lookup_tokens")
	yes(FeatureLookupTokensRoute, lt, "POST /directory/lookup_tokens")
	if dir {
		if lt {
			f.set(FeatureLookupTwoForm, Absent, "GET /openapi.json lists /directory/lookup_tokens (keys-only /directory/lookup)", true)
		} else {
			f.set(FeatureLookupTwoForm, Present, "GET /openapi.json lists /directory/lookup without /directory/lookup_tokens", true)
		}
	} else {
		f.set(FeatureLookupTwoForm, Absent, "GET /openapi.json does not list /directory/lookup", true)
	}
	yes(FeatureDirectoryKeys, o.Has("GET", "/directory/keys"), "GET /directory/keys")
	yes(FeatureEvents, o.Has("POST", "/events"), "POST /events")
	yes(FeatureUsage, o.Has("GET", "/instances/usage"), "GET /instances/usage")
	yes(FeatureMoves, o.Has("POST", "/cache/moves"), "POST /cache/moves")
	yes(FeatureMetrics, o.Has("GET", "/metrics"), "GET /metrics")
	if len(o.Properties) > 0 {
		if o.Properties["access_count"] {
			f.set(FeatureAccessCount, Present, "GET /openapi.json has an access_count property", false)
		} else if dir {
			f.set(FeatureAccessCount, Absent, "GET /openapi.json has no access_count property", false)
		}
	}
}
