// LMCache's multi-process (MP) mode: the coordinator (lmcache coordinator,
// default port 9300) and the MP servers' HTTP API (lmcache server
// --http-port, default 8080). This file holds what every coordinator
// command shares: the flags, the clients (through the one HTTP transport),
// how their failures map to exit codes, the generation that answered,
// and the key parameters of the tokens form. The commands' own machinery
// is in coordlookup.go, coordops.go, coordfleet.go, coorddoctor.go and
// coordserver.go (--server).
package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"lmc/internal/coordinatorclient"
	"lmc/internal/tokenize/lmcachekey"
)

var (
	coordinatorBackend = backendKind{"an LMCache coordinator", []string{"coordinator"}}
	mpServerBackend    = backendKind{"an LMCache MP server", []string{"server"}}
)

// coordState is what one run keeps of the coordinators and MP servers it
// asked: one client per URL (a client learns its coordinator's
// generation), and each MP server's /status.
type coordState struct {
	clients  map[string]*coordinatorclient.Client
	servers  map[string]*coordinatorclient.MPServer
	statuses map[string]*coordinatorclient.MPStatus
}

func (f *Factory) coordinatorState() *coordState {
	if f.coord == nil {
		f.coord = &coordState{clients: map[string]*coordinatorclient.Client{}, servers: map[string]*coordinatorclient.MPServer{},
			statuses: map[string]*coordinatorclient.MPStatus{}}
	}
	return f.coord
}

const coordinatorFlagHelp = "LMCache MP coordinator URL (lmcache coordinator, e.g. http://HOST:9300)"

// addCoordinatorFlag registers --coordinator.
func addCoordinatorFlag(cmd *cobra.Command, b *BackendFlags) {
	cmd.Flags().StringVar(&b.Coordinator, "coordinator", "", coordinatorFlagHelp)
}

// errNoCoordinator is the one "--coordinator is required" error.
var errNoCoordinator = &UsageError{Err: errors.New("--coordinator URL is required (the LMCache MP coordinator, e.g. http://localhost:9300)")}

// coordinatorClient is the client of the coordinator at url (one per URL
// and run).
func (f *Factory) coordinatorClient(url string) (*coordinatorclient.Client, error) {
	if url == "" {
		return nil, errNoCoordinator
	}
	st := f.coordinatorState()
	if c, ok := st.clients[url]; ok {
		return c, nil
	}
	p, err := f.peer("--coordinator", url)
	if err != nil {
		return nil, err
	}
	c, err := coordinatorclient.FromPeer(p, coordinatorclient.WithTimeout(f.Timeout))
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--coordinator: %w", err)}
	}
	st.clients[url] = c
	return c, nil
}

// mpServerClient is the client of the MP server at url (flag names it for
// errors: --server).
func (f *Factory) mpServerClient(flag, url string) (*coordinatorclient.MPServer, error) {
	st := f.coordinatorState()
	if m, ok := st.servers[url]; ok {
		return m, nil
	}
	p, err := f.peer(flag, url)
	if err != nil {
		return nil, err
	}
	m, err := coordinatorclient.MPServerFromPeer(p, coordinatorclient.WithTimeout(f.Timeout))
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("%s: %w", flag, err)}
	}
	st.servers[url] = m
	return m, nil
}

// mpStatus is GET /status of the MP server at url, asked once per run.
func (f *Factory) mpStatus(ctx context.Context, url string) (*coordinatorclient.MPStatus, string, error) {
	m, err := f.mpServerClient("--server", url)
	if err != nil {
		return nil, "", err
	}
	st := f.coordinatorState()
	if s, ok := st.statuses[url]; ok {
		return s, m.BaseURL(), nil
	}
	s, err := m.Status(ctx)
	if err != nil {
		return nil, m.BaseURL(), f.mpServerErr(m.BaseURL(), err)
	}
	st.statuses[url] = s
	return s, m.BaseURL(), nil
}

// coordinatorErr sorts a failed coordinator call into lmc's exit codes:
// bad input the coordinator refused (400, 422) is 2, an unreachable or
// unavailable coordinator 3, everything else — an unknown instance, a
// relayed MP server failure (502), a missing feature, an answer lmc cannot
// trust, a hash mismatch — 1. The coordinator's hint prints on its own
// line.
func (f *Factory) coordinatorErr(c *coordinatorclient.Client, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err
	}
	url := c.BaseURL()
	name := "LMCache coordinator " + url
	var ae *coordinatorclient.APIError
	var hm *coordinatorclient.HashMismatchError
	var te *coordinatorclient.TransportError
	switch {
	case errors.As(err, &hm):
		return fmt.Errorf("%s: %w; 'lmc doctor --coordinator %s --server MP-SERVER-URL' compares the coordinator's hashing with the MP servers' and lmc's", name, err, url)
	case errors.Is(err, coordinatorclient.ErrUnsupported):
		if mp := f.looksLikeMPServer(c); mp != nil {
			return mp
		}
		return fmt.Errorf("%s: %w", name, err)
	case errors.As(err, &ae):
		if e := apiStatusErr(name, ae, err); e != nil {
			return e
		}
		if ae.Kind == coordinatorclient.KindRouteMissing {
			if mp := f.looksLikeMPServer(c); mp != nil {
				return mp
			}
		}
		return fmt.Errorf("%s: %w", name, err)
	case errors.As(err, &te):
		return httpErr("LMCache coordinator", url, "is lmcache coordinator running and its HTTP port, default 9300, reachable? check --coordinator", err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// apiStatusErr sorts what the coordinator and an MP server answer alike:
// a 422 or a bad request is a usage error (exit 2), unavailable is
// UnavailableError; nil for any other answer.
func apiStatusErr(name string, ae *coordinatorclient.APIError, err error) error {
	switch {
	case ae.Status == 422 || ae.Kind == coordinatorclient.KindBadRequest:
		return &UsageError{Err: fmt.Errorf("%s: %w", name, err)}
	case ae.Kind == coordinatorclient.KindUnavailable:
		return &UnavailableError{Backend: name, Err: err}
	}
	return nil
}

// looksLikeMPServer checks, after a route the coordinator should have was
// missing, whether the URL is an MP server's HTTP API (one GET
// /openapi.json, briefly).
func (f *Factory) looksLikeMPServer(c *coordinatorclient.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), wrongPortProbe)
	defer cancel()
	_, err := c.Detect(ctx)
	var ba *coordinatorclient.BadAnswerError
	if errors.As(err, &ba) && strings.Contains(ba.Reason, "MP server") {
		return &UsageError{Err: fmt.Errorf("%s is an LMCache MP server's HTTP API, not the coordinator: the coordinator listens on port 9300 by default (lmcache coordinator --port); an MP server is --server", c.BaseURL())}
	}
	return nil
}

// mpServerErr sorts a failed MP server call like coordinatorErr does.
func (f *Factory) mpServerErr(url string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	name := "LMCache MP server " + url
	var ae *coordinatorclient.APIError
	var te *coordinatorclient.TransportError
	var fe *coordinatorclient.FailedError
	switch {
	case errors.As(err, &ae):
		if e := apiStatusErr(name, ae, err); e != nil {
			return e
		}
	case errors.As(err, &fe):
		return fmt.Errorf("%s: %w", name, err)
	case errors.As(err, &te):
		return httpErr("LMCache MP server", url, "is lmcache server running with its HTTP API on this port (--http-port, default 8080)? check --server", err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// coordGeneration is the JSON of the coordinator generation that
// answered.
type coordGeneration struct {
	Name    string `json:"name"`
	Label   string `json:"label,omitempty"`
	AtLeast bool   `json:"at_least"`
	Source  string `json:"source,omitempty"`
	Text    string `json:"text"`
}

func generationOf(c *coordinatorclient.Client) *coordGeneration {
	g := c.Generation()
	return &coordGeneration{Name: g.Name, Label: g.Label, AtLeast: g.AtLeast, Source: g.Source, Text: g.String()}
}

// noteGeneration says on stderr, with --verbose, which coordinator
// generation answered.
func (f *Factory) noteGeneration(c *coordinatorclient.Client) {
	if !f.Verbose || c == nil {
		return
	}
	g := c.Generation()
	src := g.Source
	if src == "" {
		src = "nothing asked"
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "> coordinator %s answers as generation %s (from %s)\n", c.BaseURL(), g.String(), src)
}

// ---------------------------------------------------------------------------
// Flags added to commands other engineers' flags share: they are
// registered only when the command does not have them yet (so the call
// goes last in a constructor), and read by name, whoever registered them.

func ensureString(cmd *cobra.Command, name, value, usage string) {
	if cmd.Flags().Lookup(name) == nil {
		cmd.Flags().String(name, value, usage)
	}
}

func ensureStringArray(cmd *cobra.Command, name, usage string) {
	if cmd.Flags().Lookup(name) == nil {
		cmd.Flags().StringArray(name, nil, usage)
	}
}

func ensureInt(cmd *cobra.Command, name string, value int, usage string) {
	if cmd.Flags().Lookup(name) == nil {
		cmd.Flags().Int(name, value, usage)
	}
}

func ensureBool(cmd *cobra.Command, name, usage string) {
	if cmd.Flags().Lookup(name) == nil {
		cmd.Flags().Bool(name, false, usage)
	}
}

func ensureBoolP(cmd *cobra.Command, name, short, usage string) {
	if cmd.Flags().Lookup(name) == nil {
		if short != "" && cmd.Flags().ShorthandLookup(short) != nil {
			short = ""
		}
		cmd.Flags().BoolP(name, short, false, usage)
	}
}

func ensureDuration(cmd *cobra.Command, name string, value time.Duration, usage string) {
	if cmd.Flags().Lookup(name) == nil {
		cmd.Flags().Duration(name, value, usage)
	}
}

func flagValue(cmd *cobra.Command, name string) *pflag.Flag { return cmd.Flags().Lookup(name) }

func flagString(cmd *cobra.Command, name string) string {
	if fl := flagValue(cmd, name); fl != nil {
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			return strings.Join(sv.GetSlice(), ",")
		}
		return fl.Value.String()
	}
	return ""
}

func flagStrings(cmd *cobra.Command, name string) []string {
	if fl := flagValue(cmd, name); fl != nil {
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			return sv.GetSlice()
		}
		if s := fl.Value.String(); s != "" {
			return []string{s}
		}
	}
	return nil
}

func flagInt(cmd *cobra.Command, name string, def int) int {
	if fl := flagValue(cmd, name); fl != nil {
		if n, err := strconv.Atoi(fl.Value.String()); err == nil {
			return n
		}
	}
	return def
}

func flagBool(cmd *cobra.Command, name string) bool {
	if fl := flagValue(cmd, name); fl != nil {
		b, _ := strconv.ParseBool(fl.Value.String())
		return b
	}
	return false
}

func flagDuration(cmd *cobra.Command, name string, def time.Duration) time.Duration {
	if fl := flagValue(cmd, name); fl != nil {
		if d, err := time.ParseDuration(fl.Value.String()); err == nil {
			return d
		}
	}
	return def
}

// addCoordinatorKeyFlags gives a command that sends the coordinator a
// token sequence the parameters of its keys: model, world size, cache
// salt, and the chunk size lmc checks the answer with (or --server).
func addCoordinatorKeyFlags(cmd *cobra.Command) {
	d := DefaultKeyFlags()
	ensureString(cmd, "model", "", "model name exactly as the engines' --model (the coordinator keys with it; --server can tell it)")
	ensureInt(cmd, "world-size", d.WorldSize, "engine world size (TP x PP): the ranks whose keys the coordinator resolves")
	ensureString(cmd, "cache-salt", "", "the requests' cache_salt (MP-mode key namespace)")
	ensureInt(cmd, "chunk-size", d.ChunkSize, "tokens per chunk, as the coordinator's --chunk-size (checked against its answer; --server tells it)")
	ensureStringArray(cmd, "server", serverFlagHelp)
}

// keyFlagsOf reads the key flags a command has by name (defaults for the
// others).
func keyFlagsOf(cmd *cobra.Command) KeyFlags {
	k := DefaultKeyFlags()
	for name, p := range map[string]*string{"model": &k.Model, "hash": &k.Hash, "hash-seed": &k.HashSeed, "none-hash": &k.NoneHash,
		"key-schema": &k.KeySchema, "dtype": &k.DType, "python-version": &k.PythonVersion, "cache-salt": &k.CacheSalt, "lmcache-config": &k.LMCacheConfig} {
		if fl := flagValue(cmd, name); fl != nil {
			*p = fl.Value.String()
		}
	}
	k.ChunkSize = flagInt(cmd, "chunk-size", k.ChunkSize)
	k.WorldSize = flagInt(cmd, "world-size", k.WorldSize)
	k.WorkerID = flagInt(cmd, "worker-id", k.WorkerID)
	k.Layer = flagInt(cmd, "layer", k.Layer)
	k.MLA = flagBool(cmd, "mla")
	k.SaveUnfull = flagBool(cmd, "save-unfull-chunk")
	k.Legacy64Bit = flagBool(cmd, "legacy-64bit")
	if fl := flagValue(cmd, "tag"); fl != nil {
		k.Tags = flagStrings(cmd, "tag")
	}
	k.Servers = flagStrings(cmd, "server")
	return k
}

// inputFlagsOf reads the token input flags a command has by name.
func inputFlagsOf(cmd *cobra.Command) InputFlags {
	in := InputFlags{Tokens: flagString(cmd, "tokens")}
	t := &in.Text
	t.Text, t.PromptFile, t.Messages = flagString(cmd, "text"), flagString(cmd, "prompt-file"), flagString(cmd, "messages")
	t.TokenizeURL, t.TokenizeModel, t.Tokenizer = flagString(cmd, "tokenize-url"), flagString(cmd, "tokenize-model"), flagString(cmd, "tokenizer")
	t.AddSpecial = true
	if fl := flagValue(cmd, "add-special-tokens"); fl != nil {
		t.AddSpecial = flagBool(cmd, "add-special-tokens")
	}
	return in
}

// ensureInputFlags gives a command token input if it has none.
func ensureInputFlags(cmd *cobra.Command) {
	if cmd.Flags().Lookup("tokens") == nil {
		addInputFlags(cmd, &InputFlags{})
	}
}

// ---------------------------------------------------------------------------
// The key parameters of a tokens-form request.

// coordKeys are a token sequence's key parameters for the coordinator:
// what the tokens form sends (model, world size, salt), the chunk size lmc
// checks the answer with, and lmc's own key engine for the cross-check
// (nil when the key flags do not let lmc hash: the coordinator still
// hashes).
type coordKeys struct {
	Res         *Resolved
	Model       string
	WorldSize   int
	Salt        string
	ChunkSize   int
	ChunkSource string
	// Engine hashes the chunks as the coordinator should (the MP key
	// schema); nil when lmc cannot.
	Engine   *lmcachekey.Engine
	Warnings []string
}

// resolveCoordKeys resolves the key flags for the coordinator: the key
// schema is mp unless given (the coordinator's directory is keyed by it),
// and --server's parameters apply. A missing seed for a non-blake3
// algorithm only turns lmc's cross-check off.
func (f *Factory) resolveCoordKeys(ctx context.Context, k *KeyFlags, given FlagSources) (*coordKeys, error) {
	g := FlagSources{}
	for n, s := range given {
		g[n] = s
	}
	if !g.Has("key-schema") {
		k.KeySchema = string(lmcachekey.SchemaMP)
		g["key-schema"] = "implied by --coordinator (its directory holds MP-mode keys)"
	}
	res, err := f.resolveKeys(ctx, k, g)
	var warnings []string
	if err != nil && errors.Is(err, lmcachekey.ErrNoSeed) {
		k.NoneHash = "0"
		if res, err = f.resolveKeys(ctx, k, g); err == nil {
			warnings = append(warnings, fmt.Sprintf("hash %s without --hash-seed: lmc does not cross-check the coordinator's chunk hashes (the coordinator hashes the tokens itself)", res.Params.Algorithm))
			res.Params.NoneHashSource = "unknown"
		}
		if err == nil {
			ck := coordKeysOf(res)
			ck.Engine = nil
			ck.Warnings = append(append(ck.Warnings, warnings...), res.Warnings...)
			return ck, nil
		}
	}
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) && strings.HasPrefix(ue.Error(), "no model name") {
			return nil, &UsageError{Err: errors.New("no model name: pass --model exactly as the engines' --model (the coordinator keys with it), or --server URL of an MP server, whose /status names the models it serves")}
		}
		return nil, err
	}
	ck := coordKeysOf(res)
	ck.Warnings = append(ck.Warnings, res.Warnings...)
	if res.Params.Schema != lmcachekey.SchemaMP {
		ck.Engine = nil
		ck.Warnings = append(ck.Warnings, fmt.Sprintf("--key-schema %s: the coordinator's directory holds MP-mode keys; lmc does not cross-check its hashes", res.Params.Schema))
		return ck, nil
	}
	p := res.Params
	if p.SaveUnfullChunk {
		p.SaveUnfullChunk = false // the coordinator keys complete chunks only
		ck.Warnings = append(ck.Warnings, "--save-unfull-chunk: the coordinator resolves complete chunks only; the trailing partial chunk has no key there")
	}
	if e, err := lmcachekey.NewEngine(p); err == nil {
		ck.Engine = e
	}
	return ck, nil
}

func coordKeysOf(res *Resolved) *coordKeys {
	p := res.Params
	src := res.Source["chunk_size"]
	if src == "" {
		src = "default"
	}
	return &coordKeys{Res: res, Model: p.Model, WorldSize: p.KeyWorldSize(), Salt: p.CacheSalt, ChunkSize: p.ChunkSize, ChunkSource: src}
}

// tokensRequest is the tokens form of a prompt.
func (ck *coordKeys) tokensRequest(tokens []uint32) coordinatorclient.TokensRequest {
	return coordinatorclient.TokensRequest{ModelName: ck.Model, WorldSize: ck.WorldSize, TokenIDs: tokens, CacheSalt: ck.Salt, ChunkSize: ck.ChunkSize}
}

// chunkHashes are lmc's own hashes of the prompt's chunks (nil when lmc
// cannot hash).
func (ck *coordKeys) chunkHashes(tokens []uint32) ([]string, error) {
	if ck.Engine == nil {
		return nil, nil
	}
	return coordinatorclient.EngineChunkHashes(ck.Engine, tokens)
}

// checkTokens refuses what the coordinator would refuse before sending:
// more tokens than one request carries, a salt it cannot key, '@' in the
// model name.
func (ck *coordKeys) checkTokens(tokens []uint32) error {
	switch {
	case len(tokens) > coordinatorclient.MaxTokenIDs:
		return &UsageError{Err: fmt.Errorf("%d tokens: the coordinator takes at most %d per request (shorten the prompt)", len(tokens), coordinatorclient.MaxTokenIDs)}
	case strings.Contains(ck.Model, "@"):
		return &UsageError{Err: fmt.Errorf("--model %q contains '@', which LMCache cannot key", ck.Model)}
	case ck.WorldSize > coordinatorclient.MaxWorldSize:
		return &UsageError{Err: fmt.Errorf("--world-size %d: the coordinator's kv_rank holds at most %d ranks", ck.WorldSize, coordinatorclient.MaxWorldSize)}
	}
	if err := coordinatorclient.ValidateCacheSalt(ck.Salt); err != nil {
		return &UsageError{Err: fmt.Errorf("--cache-salt: %v", err)}
	}
	return nil
}

// chunkSizeHint explains a chunk count that disagrees with lmc's chunk
// size when that size was only the default.
func (ck *coordKeys) chunkSizeHint(err error) error {
	var ba *coordinatorclient.BadAnswerError
	if errors.As(err, &ba) && ck.ChunkSource == "default" && strings.Contains(ba.Reason, "chunk") {
		return fmt.Errorf("%w; lmc assumed chunk size %d, the default: pass --server URL of an MP server (its /status has the fleet's chunk size) or --chunk-size", err, ck.ChunkSize)
	}
	return err
}

// coordinatorHint is the hint of a coordinator or MP server error, for
// the "hint:" line (main.go).
func coordinatorHint(err error) string {
	var ae *coordinatorclient.APIError
	if errors.As(err, &ae) {
		return ae.Hint
	}
	var ba *coordinatorclient.BadAnswerError
	if errors.As(err, &ba) {
		return ba.Hint
	}
	return ""
}

// orElse is s, or def when s is empty.
func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
