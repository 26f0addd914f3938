package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

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
	if isUnavailable(err) {
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
	c, err := controllerclient.New(normalizeHTTP(url), opts...)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--controller: %w", err)}
	}
	return c, nil
}
