package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
	"lmc/internal/mooncake"
	"lmc/internal/transport"
)

// BackendFlags select the store or controller to talk to.
type BackendFlags struct {
	Master     string
	Admin      string
	Controller string
	Tenant     string
	// Coordinator is an LMCache MP coordinator (coordinator.go); Server an
	// MP server's HTTP API (clear --server).
	Coordinator string
	Server      string
}

func addStoreFlags(cmd *cobra.Command, b *BackendFlags) {
	inGroup(cmd, groupBackend, func() { defineStoreFlags(cmd, b) })
}

func defineStoreFlags(cmd *cobra.Command, b *BackendFlags) {
	fl := cmd.Flags()
	fl.StringVar(&b.Master, "master", "", "Mooncake master RPC address HOST:PORT (default port 50051); also from the LMCache config")
	fl.StringVar(&b.Admin, "admin", "", "Mooncake master admin HTTP URL (e.g. http://HOST:9003): read-only, grants no leases")
	fl.StringVar(&b.Tenant, "tenant", mooncake.DefaultTenant, "Mooncake tenant (LMCache uses \"default\")")
}

func addControllerFlag(cmd *cobra.Command, b *BackendFlags) {
	inGroup(cmd, groupBackend, func() {
		cmd.Flags().StringVar(&b.Controller, "controller", "", "LMCache cache controller URL (e.g. http://HOST:9000)")
	})
}

// normalizeMaster adds Mooncake's default port to a bare host.
func normalizeMaster(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	addr = strings.TrimPrefix(addr, "mooncakestore://")
	addr = strings.TrimSuffix(addr, "/")
	if addr == "" {
		return "", errors.New("empty master address")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return net.JoinHostPort(addr, "50051"), nil
		}
		return "", fmt.Errorf("master address %q: expected HOST:PORT", addr)
	}
	return addr, nil
}

// dialMaster connects to the master and classifies failures.
func (f *Factory) dialMaster(ctx context.Context, addr, tenant string) (*mooncake.Client, error) {
	start := time.Now()
	defer func() {
		if f.Verbose {
			fmt.Fprintf(f.IOStreams.ErrOut, "> dial %s (%s)\n", addr, time.Since(start).Round(time.Microsecond))
		}
	}()
	c, err := mooncake.Dial(ctx, addr, mooncake.WithDialTimeout(f.Timeout), mooncake.WithCallTimeout(f.Timeout), mooncake.WithTenant(tenant))
	if err != nil {
		return nil, f.masterErr(addr, err)
	}
	return c, nil
}

// masterErr turns a master RPC failure into an error naming the address,
// with the exit code it deserves (3 when unreachable).
func (f *Factory) masterErr(addr string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return err // the wrong-port explanation
	}
	if hint := rpcAtHTTP(addr, err); hint != nil {
		return hint
	}
	// A frame that does not parse is the master answering wrongly, not an
	// unreachable one, even when it ends early.
	var pe *mooncake.ProtocolError
	if !errors.As(err, &pe) && transport.Classify(err) == transport.ClassUnreachable {
		return &UnavailableError{Backend: "Mooncake master " + addr, Err: fmt.Errorf("%w (is mooncake_master running and is its RPC port, default 50051, reachable from here? check --master)", err)}
	}
	return fmt.Errorf("Mooncake master %s: %w", addr, err)
}

// httpErr sorts a failed HTTP request to a peer into lmc's exit codes:
// unreachable in time (3, with where to look), and everything else (1): a
// configuration mistake such as https:// against plain HTTP or a refused
// certificate (said so: retrying does not help), or a peer that answered
// wrongly.
func httpErr(peer, display, hint string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	switch transport.Classify(err) {
	case transport.ClassUnreachable:
		return &UnavailableError{Backend: peer + " " + display, Err: fmt.Errorf("%w (%s)", err, hint)}
	case transport.ClassConfig:
		return fmt.Errorf("%s %s: %w (a TLS or scheme mismatch, not a network problem: check the URL's http/https and --cacert/--cert/--key/--insecure)", peer, display, err)
	}
	return fmt.Errorf("%s %s: %w", peer, display, err)
}

func (f *Factory) adminErr(url string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if hint := f.httpPortHint("--admin", url, err); hint != nil {
		return hint
	}
	return httpErr("Mooncake admin API", url, "is the master's HTTP port, --metrics_port default 9003, reachable? check --admin", err)
}

func (f *Factory) controllerErr(url string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if hint := f.httpPortHint("--controller", url, err); hint != nil {
		return hint
	}
	var ae *controllerclient.APIError
	if errors.As(err, &ae) {
		if ae.Status == 422 {
			return &UsageError{Err: fmt.Errorf("LMCache controller %s: %w", url, err)}
		}
		if ae.Kind == controllerclient.KindUnavailable {
			return &UnavailableError{Backend: "LMCache controller " + url, Err: err}
		}
	}
	return httpErr("LMCache controller", url, "is the controller running and its HTTP port, default 9000, reachable? check --controller", err)
}

// TransportFlags are the global HTTP settings of every HTTP peer: extra
// headers (auth) and TLS.
type TransportFlags struct {
	Headers  []string
	CACert   string
	Insecure bool
	Cert     string
	Key      string
}

func addTransportFlags(cmd *cobra.Command, t *TransportFlags) {
	fl := cmd.PersistentFlags()
	fl.StringArrayVarP(&t.Headers, "header", "H", nil, "extra HTTP header 'Name: value' for every HTTP peer (repeatable; e.g. Authorization); sent only to the host given, never after a redirect to another")
	fl.StringVar(&t.CACert, "cacert", "", "PEM file of CAs to trust for https:// URLs")
	fl.BoolVar(&t.Insecure, "insecure", false, "do not verify the server's TLS certificate (warns)")
	fl.StringVar(&t.Cert, "cert", "", "client certificate PEM file (with --key)")
	fl.StringVar(&t.Key, "key", "", "client private key PEM file (with --cert)")
	_ = cmd.MarkFlagFilename("cacert", "pem", "crt")
	_ = cmd.MarkFlagFilename("cert", "pem", "crt")
	_ = cmd.MarkFlagFilename("key", "pem", "key")
}

// httpTransport is the one HTTP transport of this run, built from the
// global flags on first use.
func (f *Factory) httpTransport() (*transport.Transport, error) {
	if f.transport != nil {
		return f.transport, nil
	}
	o := transport.Options{
		CAFile: f.Transport.CACert, CertFile: f.Transport.Cert, KeyFile: f.Transport.Key, Insecure: f.Transport.Insecure,
		Timeout: f.Timeout, UserAgent: "lmc/" + f.Build.Version,
	}
	for _, h := range f.Transport.Headers {
		hd, err := transport.ParseHeader(h)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("-H: %w", err)}
		}
		o.Headers = append(o.Headers, hd)
	}
	if f.Verbose {
		o.Verbose = f.IOStreams.ErrOut
	}
	t, err := transport.New(o)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if o.Insecure {
		warn(f.IOStreams, []string{"--insecure: TLS certificates are not verified; anyone on the path can read and change the traffic"})
	}
	f.transport = t
	return t, nil
}

// peer is the HTTP peer named by flag (e.g. "--admin") at rawURL.
func (f *Factory) peer(flag, rawURL string) (*transport.Peer, error) {
	t, err := f.httpTransport()
	if err != nil {
		return nil, err
	}
	p, err := t.Peer(rawURL)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("%s: %w", flag, err)}
	}
	return p, nil
}

// errNoController is the one "--controller is required" error.
var errNoController = &UsageError{Err: errors.New("--controller URL is required (the LMCache cache controller, e.g. http://localhost:9000)")}

// requiredController is the client of --controller, which the command needs.
func (f *Factory) requiredController(url string) (*controllerclient.Client, error) {
	if url == "" {
		return nil, errNoController
	}
	return f.controllerClient(url)
}

func (f *Factory) controllerClient(url string) (*controllerclient.Client, error) {
	p, err := f.peer("--controller", url)
	if err != nil {
		return nil, err
	}
	c, err := controllerclient.New(p, controllerclient.WithTimeout(f.Timeout))
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--controller: %w", err)}
	}
	return c, nil
}

// adminClient builds the Mooncake admin API client; its BaseURL is the
// URL to print.
func (f *Factory) adminClient(url string) (*mooncake.Admin, error) {
	p, err := f.peer("--admin", url)
	if err != nil {
		return nil, err
	}
	a, err := mooncake.NewAdmin(p)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--admin: %w", err)}
	}
	return a, nil
}

// leaderHintTimeout bounds the GET /leader asked after a failure.
const leaderHintTimeout = 2 * time.Second

// withLeaderHint adds where the HA leader is when a master is unreachable
// (with HA only the leader serves RPC) or its admin API says it is a
// standby (-1011, service plane not active): any master's GET /leader
// names the leader.
func (f *Factory) withLeaderHint(ctx context.Context, a *mooncake.Admin, err error) error {
	if a == nil || err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var me *mooncake.MasterError
	standby := errors.As(err, &me) && me.Code == mooncake.CodeUnavailableInCurrentMode
	if !standby && transport.Classify(err) != transport.ClassUnreachable {
		var ua *UnavailableError
		if !errors.As(err, &ua) {
			return err
		}
	}
	// A peer that ran out of time is not asked again: that would double
	// the wait. Otherwise the question gets what is left of the deadline,
	// at most leaderHintTimeout.
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return err
	}
	budget := min(f.Timeout, leaderHintTimeout)
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl))
	}
	if budget <= 0 {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	l, lerr := a.Leader(lctx)
	if lerr != nil || !l.Present || l.LeaderAddress == nil {
		return err
	}
	hint := fmt.Errorf("%w; the HA leader is %s (GET %s/leader): use --master %s and that master's admin URL", err, *l.LeaderAddress, a.BaseURL(), *l.LeaderAddress)
	var ua *UnavailableError
	if errors.As(err, &ua) {
		return &UnavailableError{Backend: ua.Backend, Err: fmt.Errorf("%w; the HA leader is %s (GET %s/leader): use --master %s", ua.Err, *l.LeaderAddress, a.BaseURL(), *l.LeaderAddress)}
	}
	return hint
}

// logRPC writes one line per master RPC to stderr with --verbose.
func (f *Factory) logRPC(method, addr, tenant string, keys int, start time.Time, err error) {
	if !f.Verbose {
		return
	}
	res := "ok"
	if err != nil {
		res = "error: " + err.Error()
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "> rpc %s %s (%d keys, tenant %s)\n< %s (%s)\n", method, addr, keys, tenant, res, time.Since(start).Round(time.Microsecond))
}

// backendKind is a system lmc can ask: the Mooncake store (master and/or
// admin API) or the LMCache controller.
type backendKind struct {
	name  string   // "store", "controller"
	flags []string // the flags that name it
}

var (
	storeBackend      = backendKind{"a Mooncake store", []string{"master", "admin"}}
	controllerBackend = backendKind{"an LMCache controller", []string{"controller"}}
)

// givenBy says which layers count when a path refuses a flag it would
// ignore: any (flag, LMC_*, context), all but a context (whose value serves
// the context's other backends, as backendSet sets them aside), or the
// command line alone (LMC_* values serve other commands too).
type givenBy int

const (
	anyLayer givenBy = iota
	notContext
	commandLine
)

// gave reports whether flag name was given by the layers by counts.
func (f *Factory) gave(name string, by givenBy) bool {
	src := f.Given.Source(name)
	switch by {
	case notContext:
		return src != "" && !strings.HasPrefix(src, "context ")
	case commandLine:
		return src == "flag --"+name
	}
	return f.Given.Has(name)
}

// refuse is the usage error for the first of names given (by) on a path
// that does not take it: "--NAME why".
func refuse(f *Factory, by givenBy, why string, names ...string) error {
	for _, name := range names {
		if f.gave(name, by) {
			return &UsageError{Err: fmt.Errorf("--%s %s", name, why)}
		}
	}
	return nil
}

// refuseKeyFlagsGiven refuses the key and input flags given on the command
// line to a clear that has no prompt (why says what it removes instead).
// --server (an MP server to clear) and --lmcache-config (which can name the
// master) are not refused.
func refuseKeyFlagsGiven(f *Factory, cmd *cobra.Command, why string) error {
	var names []string
	for _, name := range append(flagsIn(cmd, groupKey), flagsIn(cmd, groupInput)...) {
		if name != "lmcache-config" && name != "server" {
			names = append(names, name)
		}
	}
	return refuse(f, commandLine, "selects a prompt's keys, and there is no prompt: "+why, names...)
}

// backendSet says, for a command that can ask several systems, which one
// the user meant. A backend named on the command line or in LMC_* replaces
// the context's backends of the other kinds (a context may hold both a
// store and a controller); two kinds named explicitly are an error naming
// where each came from; two kinds from the context alone leave the choice
// to the command (prefer).
func (f *Factory) backendSet(b *BackendFlags, prefer backendKind, kinds ...backendKind) (backendKind, error) {
	value := func(flag string) string {
		switch flag {
		case "master":
			return b.Master
		case "admin":
			return b.Admin
		case "controller":
			return b.Controller
		case "coordinator":
			return b.Coordinator
		case "server":
			return b.Server
		}
		return ""
	}
	clear := func(k backendKind) {
		for _, fl := range k.flags {
			switch fl {
			case "master":
				b.Master = ""
			case "admin":
				b.Admin = ""
			case "controller":
				b.Controller = ""
			case "coordinator":
				b.Coordinator = ""
			case "server":
				b.Server = ""
			}
		}
	}
	var explicit, fromContext []backendKind
	where := map[string]string{}
	for _, k := range kinds {
		exp, ctx := false, false
		for _, fl := range k.flags {
			if value(fl) == "" {
				continue
			}
			src := f.Given.Source(fl)
			if src == "" {
				src = "default"
			}
			where[k.name] += fmt.Sprintf("--%s (%s)", fl, src) + " "
			if strings.HasPrefix(src, "context ") {
				ctx = true
			} else {
				exp = true
			}
		}
		switch {
		case exp:
			explicit = append(explicit, k)
		case ctx:
			fromContext = append(fromContext, k)
		}
	}
	switch {
	case len(explicit) > 1:
		return backendKind{}, &UsageError{Err: fmt.Errorf("%s and %s are different systems: give one of %sand %s",
			explicit[0].name, explicit[1].name, where[explicit[0].name], strings.TrimSpace(where[explicit[1].name]))}
	case len(explicit) == 1:
		for _, k := range fromContext {
			clear(k) // the command line names the system: the context's other one steps aside
		}
		return explicit[0], nil
	case len(fromContext) > 1:
		if !slices.ContainsFunc(fromContext, func(k backendKind) bool { return k.name == prefer.name }) {
			prefer = fromContext[0] // the command's preference is not in the context: the first kind asked is
		}
		for _, k := range fromContext {
			if k.name != prefer.name {
				clear(k)
			}
		}
		if f.IOStreams.ShowHints() {
			fmt.Fprintf(f.IOStreams.ErrOut, "context %s names %s and %s: asking %s (name the other on the command line to ask it)\n",
				f.ActiveContext, fromContext[0].name, fromContext[1].name, prefer.name)
		}
		return prefer, nil
	case len(fromContext) == 1:
		return fromContext[0], nil
	}
	return backendKind{}, nil
}
