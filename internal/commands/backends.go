package commands

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
	"lmc/internal/mooncake"
)

// BackendFlags select the store or controller to talk to.
type BackendFlags struct {
	Master     string
	Admin      string
	Controller string
	Tenant     string
}

func addStoreFlags(cmd *cobra.Command, b *BackendFlags) {
	fl := cmd.Flags()
	fl.StringVar(&b.Master, "master", "", "Mooncake master RPC address HOST:PORT (default port 50051); also from the LMCache config")
	fl.StringVar(&b.Admin, "admin", "", "Mooncake master admin HTTP URL (e.g. http://HOST:9003): read-only, grants no leases")
	fl.StringVar(&b.Tenant, "tenant", mooncake.DefaultTenant, "Mooncake tenant (LMCache uses \"default\")")
}

func addControllerFlag(cmd *cobra.Command, b *BackendFlags) {
	cmd.Flags().StringVar(&b.Controller, "controller", "", "LMCache cache controller URL (e.g. http://HOST:9000)")
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

func normalizeHTTP(u string) string {
	u = strings.TrimSpace(u)
	if u != "" && !strings.Contains(u, "://") {
		u = "http://" + u
	}
	return strings.TrimSuffix(u, "/")
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
	var pe *mooncake.ProtocolError
	connLost := !errors.As(err, &pe) && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
	if isUnavailable(err) || connLost {
		return &UnavailableError{Backend: "Mooncake master " + addr, Err: fmt.Errorf("%w (is mooncake_master running and is its RPC port, default 50051, reachable from here? check --master)", err)}
	}
	return fmt.Errorf("Mooncake master %s: %w", addr, err)
}

func (f *Factory) adminErr(url string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if isUnavailable(err) {
		return &UnavailableError{Backend: "Mooncake admin API " + url, Err: fmt.Errorf("%w (is the master's HTTP port, --metrics_port default 9003, reachable? check --admin)", err)}
	}
	return fmt.Errorf("Mooncake admin API %s: %w", url, err)
}

func (f *Factory) controllerErr(url string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if controllerclient.IsUnavailable(err) || isUnavailable(err) {
		return &UnavailableError{Backend: "LMCache controller " + url, Err: fmt.Errorf("%w (is the controller running and its HTTP port, default 9000, reachable? check --controller)", err)}
	}
	var ae *controllerclient.APIError
	if errors.As(err, &ae) && ae.Status == 422 {
		return &UsageError{Err: fmt.Errorf("LMCache controller %s: %w", url, err)}
	}
	return fmt.Errorf("LMCache controller %s: %w", url, err)
}

func (f *Factory) controllerClient(url string) (*controllerclient.Client, error) {
	opts := []controllerclient.Option{controllerclient.WithTimeout(f.Timeout), controllerclient.WithUserAgent("lmc/" + f.Build.Version)}
	if f.Verbose {
		opts = append(opts, controllerclient.WithVerbose(f.IOStreams.ErrOut))
	}
	hs, err := parseHeaders(f.Transport.Headers)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	for _, h := range hs {
		opts = append(opts, controllerclient.WithHeader(h[0], h[1]))
	}
	t := f.Transport
	if t.CACert != "" || t.Insecure || t.Cert != "" || t.Key != "" {
		if (t.Cert == "") != (t.Key == "") {
			return nil, &UsageError{Err: errors.New("--cert and --key go together")}
		}
		f.warnInsecure()
		opts = append(opts, controllerclient.WithTLS(controllerclient.TLSConfig{CAFile: t.CACert, CertFile: t.Cert, KeyFile: t.Key, InsecureSkipVerify: t.Insecure}))
	}
	var c *controllerclient.Client
	c, err = controllerclient.New(normalizeHTTP(url), opts...)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--controller: %w", err)}
	}
	return c, nil
}

// TransportFlags are the HTTP client settings for the controller and the
// admin API: extra headers (auth), TLS.
type TransportFlags struct {
	Headers  []string
	CACert   string
	Insecure bool
	Cert     string
	Key      string
}

func addTransportFlags(cmd *cobra.Command, t *TransportFlags) {
	fl := cmd.PersistentFlags()
	fl.StringArrayVarP(&t.Headers, "header", "H", nil, "extra HTTP header 'Name: value' for the controller and admin API (repeatable; e.g. Authorization)")
	fl.StringVar(&t.CACert, "cacert", "", "PEM file of CAs to trust for https:// controller/admin URLs")
	fl.BoolVar(&t.Insecure, "insecure", false, "do not verify the server's TLS certificate (warns)")
	fl.StringVar(&t.Cert, "cert", "", "client certificate PEM file (with --key)")
	fl.StringVar(&t.Key, "key", "", "client private key PEM file (with --cert)")
	_ = cmd.MarkFlagFilename("cacert", "pem", "crt")
	_ = cmd.MarkFlagFilename("cert", "pem", "crt")
	_ = cmd.MarkFlagFilename("key", "pem", "key")
}

// parseHeaders splits "Name: value" entries.
func parseHeaders(hs []string) ([][2]string, error) {
	var out [][2]string
	for _, h := range hs {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("header %q: expected 'Name: value'", redactHeaderArg(h))
		}
		out = append(out, [2]string{name, strings.TrimSpace(value)})
	}
	return out, nil
}

func redactHeaderArg(h string) string {
	name, _, ok := strings.Cut(h, ":")
	if !ok {
		if len(h) > 12 {
			return h[:12] + "…"
		}
		return h
	}
	return name + ": <redacted>"
}

func (f *Factory) warnInsecure() {
	if f.Transport.Insecure && !f.warnedInsecure {
		f.warnedInsecure = true
		warn(f.IOStreams, []string{"--insecure: TLS certificates are not verified; anyone on the path can read and change the traffic"})
	}
}

// adminClient builds the Mooncake admin API client with the transport
// settings (headers, TLS, verbose logging with credentials redacted).
func (f *Factory) adminClient(url string) (*mooncake.Admin, error) {
	hs, err := parseHeaders(f.Transport.Headers)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	t := f.Transport
	if (t.Cert == "") != (t.Key == "") {
		return nil, &UsageError{Err: errors.New("--cert and --key go together")}
	}
	tlsCfg, err := buildTLS(t)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if tlsCfg != nil {
		f.warnInsecure()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	var rt http.RoundTripper = tr
	rt = &headerTransport{base: rt, headers: hs, verbose: f.verboseOut()}
	hc := &http.Client{Transport: rt, Timeout: f.Timeout}
	a, err := mooncake.NewAdmin(url, mooncake.WithHTTPClient(hc))
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--admin: %w", err)}
	}
	return a, nil
}

func (f *Factory) verboseOut() io.Writer {
	if f.Verbose {
		return f.IOStreams.ErrOut
	}
	return nil
}

func buildTLS(t TransportFlags) (*tls.Config, error) {
	if t.CACert == "" && !t.Insecure && t.Cert == "" {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: t.Insecure, MinVersion: tls.VersionTLS12}
	if t.CACert != "" {
		pem, err := os.ReadFile(t.CACert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cacert %s: no PEM certificates found", t.CACert)
		}
		c.RootCAs = pool
	}
	if t.Cert != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %v", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// headerTransport adds headers and, with --verbose, logs each request with
// credential-bearing headers redacted.
type headerTransport struct {
	base    http.RoundTripper
	headers [][2]string
	verbose io.Writer
}

func (h *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for _, kv := range h.headers {
		req.Header.Set(kv[0], kv[1])
	}
	start := time.Now()
	resp, err := h.base.RoundTrip(req)
	if h.verbose != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "> %s %s\n", req.Method, req.URL.Redacted())
		names := make([]string, 0, len(req.Header))
		for k := range req.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range req.Header[k] {
				fmt.Fprintf(&b, "> %s: %s\n", k, controllerclient.RedactHeader(k, v))
			}
		}
		if err != nil {
			fmt.Fprintf(&b, "< error after %s: %v\n", time.Since(start).Round(time.Microsecond), err)
		} else {
			fmt.Fprintf(&b, "< %s (%s)\n", resp.Status, time.Since(start).Round(time.Microsecond))
		}
		io.WriteString(h.verbose, b.String())
	}
	return resp, err
}

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
	if !standby && !isUnavailable(err) {
		var ua *UnavailableError
		if !errors.As(err, &ua) {
			return err
		}
	}
	lctx, cancel := context.WithTimeout(ctx, f.Timeout)
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
