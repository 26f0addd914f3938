// --server: the key parameters an MP server (lmcache server --http-port)
// reports in GET /status — chunk size, hash algorithm, and the models and
// world sizes of its cache contexts. Every command with key flags takes
// them from there (below the flags, above the LMCache config and the
// defaults), and explain and config view --resolved name the source.
package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/coordinatorclient"
	"lmc/internal/tokenize/lmcachekey"
)

const serverFlagHelp = "LMCache MP server HTTP API URL (lmcache server --http-port, e.g. http://HOST:8080): its /status gives the chunk size, hash algorithm, model and world size (repeatable: the servers must agree)"

// addServerFlag registers --server (repeatable).
func addServerFlag(cmd *cobra.Command, servers *[]string) {
	cmd.Flags().StringArrayVar(servers, "server", nil, serverFlagHelp)
}

// serverStatusView is what one MP server reported.
type serverStatusView struct {
	URL           string                             `json:"url"`
	Route         string                             `json:"route"`
	EngineType    string                             `json:"engine_type,omitempty"`
	ChunkSize     int                                `json:"chunk_size"`
	HashAlgorithm string                             `json:"hash_algorithm"`
	Contexts      []coordinatorclient.MPCacheContext `json:"contexts"`
}

// serverParams is what --server told the key resolution.
type serverParams struct {
	Servers []serverStatusView `json:"servers"`
	// Disagreements name parameters the servers do not agree on.
	Disagreements []string `json:"disagreements,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

func (s *serverParams) warnings() []string {
	if s == nil {
		return nil
	}
	return append(append([]string{}, s.Disagreements...), s.Warnings...)
}

// serverSource names a value's source.
func serverSource(url, field string) string {
	return "MP server " + url + " (/status " + field + ")"
}

// applyServerParams asks every --server for its /status and fills the key
// flags the user did not give from the first one: chunk size, hash
// algorithm, the mp key schema, and the model and world size when its
// cache contexts name exactly one. Given flags win; a given value that
// differs from the server's is a warning. It returns given with the
// sources of what it filled.
func (f *Factory) applyServerParams(ctx context.Context, k *KeyFlags, given FlagSources) (FlagSources, *serverParams, error) {
	if len(k.Servers) == 0 {
		return given, nil, nil
	}
	g := FlagSources{}
	for n, s := range given {
		g[n] = s
	}
	sp := &serverParams{Servers: []serverStatusView{}}
	for _, raw := range k.Servers {
		st, url, err := f.mpStatus(ctx, raw)
		if err != nil {
			return nil, nil, err
		}
		sp.Servers = append(sp.Servers, serverStatusView{URL: url, Route: st.Route, EngineType: st.EngineType, ChunkSize: st.ChunkSize,
			HashAlgorithm: st.HashAlgorithm, Contexts: st.Contexts})
	}
	first := sp.Servers[0]
	for _, s := range sp.Servers[1:] {
		if s.ChunkSize != first.ChunkSize {
			sp.Disagreements = append(sp.Disagreements, fmt.Sprintf("MP servers disagree on the chunk size: %s has %d, %s %d; the coordinator keys with one --chunk-size, so the other server's chunks never match (lmc uses %d)",
				first.URL, first.ChunkSize, s.URL, s.ChunkSize, first.ChunkSize))
		}
		if s.HashAlgorithm != first.HashAlgorithm {
			sp.Disagreements = append(sp.Disagreements, fmt.Sprintf("MP servers disagree on the hash algorithm: %s has %q, %s %q; their keys differ (lmc uses %q)",
				first.URL, first.HashAlgorithm, s.URL, s.HashAlgorithm, first.HashAlgorithm))
		}
	}
	differs := func(flag, have, server, field string) {
		sp.Warnings = append(sp.Warnings, fmt.Sprintf("--%s %s (%s) differs from %s's %s %s: keys computed with it do not match that server's", flag, have, g.Source(flag), first.URL, field, server))
	}
	// The key schema: an MP server keys with the mp schema.
	if !g.Has("key-schema") {
		k.KeySchema = string(lmcachekey.SchemaMP)
		g["key-schema"] = "implied by --server (an MP server keys with the mp schema)"
	} else if k.KeySchema != string(lmcachekey.SchemaMP) {
		sp.Warnings = append(sp.Warnings, fmt.Sprintf("--key-schema %s (%s): MP servers key with the mp schema", k.KeySchema, g.Source("key-schema")))
	}
	// The chunk size.
	if cs := first.ChunkSize; cs > 0 {
		switch {
		case !g.Has("chunk-size"):
			k.ChunkSize = cs
			g["chunk-size"] = serverSource(first.URL, "chunk_size")
		case k.ChunkSize != cs:
			differs("chunk-size", strconv.Itoa(k.ChunkSize), strconv.Itoa(cs), "chunk_size")
		}
	} else {
		sp.Warnings = append(sp.Warnings, first.URL+" does not report chunk_size in /status: lmc keeps --chunk-size")
	}
	// The hash algorithm.
	if name := first.HashAlgorithm; name != "" {
		alg, err := lmcachekey.ParseAlgorithm(name)
		switch {
		case err != nil:
			sp.Warnings = append(sp.Warnings, fmt.Sprintf("%s reports hash_algorithm %q, which lmc does not know: keys use --hash %s", first.URL, name, k.Hash))
		case !g.Has("hash"):
			k.Hash = string(alg)
			g["hash"] = serverSource(first.URL, "hash_algorithm")
		case !strings.EqualFold(strings.ReplaceAll(k.Hash, "-", "_"), string(alg)):
			differs("hash", k.Hash, name, "hash_algorithm")
		}
	}
	// Model and world size from the cache contexts.
	var models []string
	for _, c := range first.Contexts {
		if c.ModelName != "" && !slices.Contains(models, c.ModelName) {
			models = append(models, c.ModelName)
		}
	}
	sort.Strings(models)
	switch {
	case !g.Has("model") && len(models) == 1:
		k.Model = models[0]
		g["model"] = serverSource(first.URL, "cache_context_meta")
	case !g.Has("model") && len(models) > 1:
		sp.Warnings = append(sp.Warnings, fmt.Sprintf("%s serves %d models (%s): pass --model", first.URL, len(models), strings.Join(models, ", ")))
	case g.Has("model") && len(models) > 0 && !slices.Contains(models, k.Model):
		sp.Warnings = append(sp.Warnings, fmt.Sprintf("--model %q (%s) has no cache context on %s, which serves %s: nothing of it is stored there", k.Model, g.Source("model"), first.URL, strings.Join(models, ", ")))
	}
	var sizes []int
	for _, c := range first.Contexts {
		if c.ModelName == k.Model && c.WorldSize > 0 && !slices.Contains(sizes, c.WorldSize) {
			sizes = append(sizes, c.WorldSize)
		}
	}
	switch {
	case !g.Has("world-size") && len(sizes) == 1:
		k.WorldSize = sizes[0]
		g["world-size"] = serverSource(first.URL, "cache_context_meta")
	case g.Has("world-size") && len(sizes) > 0 && !slices.Contains(sizes, k.WorldSize):
		var s []string
		for _, n := range sizes {
			s = append(s, strconv.Itoa(n))
		}
		differs("world-size", strconv.Itoa(k.WorldSize), strings.Join(s, " or "), "world size of "+k.Model)
	}
	return g, sp, nil
}
