package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/safetext"
	"lmc/internal/transport"
)

type serverVersion struct {
	Backend string   `json:"backend"`
	Address string   `json:"address"`
	Version string   `json:"version,omitempty"`
	Detail  string   `json:"detail,omitempty"`
	Paths   []string `json:"paths,omitempty"`
	Error   string   `json:"error,omitempty"`
}

type versionView struct {
	Version   string          `json:"version"`
	Commit    string          `json:"commit"`
	Date      string          `json:"date"`
	GoVersion string          `json:"go_version"`
	Platform  string          `json:"platform"`
	Servers   []serverVersion `json:"servers,omitempty"`
}

// controllerEras maps endpoints to the controller change that added them
// (spec §9.1), newest first.
var controllerEras = []struct{ path, since string }{
	{"/metrics/reset", "2026-02-18 or later"},
	{"/periodic-threads", "2026-01-27 or later"},
	{"/controller/key-stats", "2025-12-11 or later (move takes should_copy)"},
	{"/controller/workers", "2025-11-21 or later"},
	{"/query_worker_info", "2025-10-16 or later"},
	{"/decompress", "v0.3.4 (2025-08-15) or later"},
	{"/check_finish", "v0.3.0 (2025-05-26) or later"},
}

// NewCmdVersion builds `lmc version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	var b BackendFlags
	cmd := &cobra.Command{
		Use:   "version [--master A] [--admin URL] [--controller URL]",
		Short: shortFor("version"),
		Long: `Print lmc's version, commit and build date. With backend flags, also what the
servers say: the Mooncake master's version (ServiceReady), the admin API's HA
role, and the LMCache controller's era, detected from the endpoints its
OpenAPI schema lists (the controller reports no version of its own).`,
		Example: "  lmc version\n  lmc version --master 10.0.0.1:50051 --controller http://localhost:9000 -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			v := versionView{f.Build.Version, f.Build.Commit, f.Build.Date, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, nil}
			if b.Master != "" {
				sv := serverVersion{Backend: "mooncake-master", Address: b.Master}
				if addr, err := normalizeMaster(b.Master); err != nil {
					sv.Error = err.Error()
				} else if c, err := f.dialMaster(ctx, addr, b.Tenant); err != nil {
					sv.Error = err.Error()
				} else {
					sv.Version, err = c.ServiceReady(ctx)
					if err != nil {
						sv.Error = f.masterErr(addr, err).Error()
					}
					c.Close()
				}
				v.Servers = append(v.Servers, sv)
			}
			if b.Admin != "" {
				a, err := f.adminClient(b.Admin)
				if err != nil {
					return err
				}
				url := a.BaseURL()
				sv := serverVersion{Backend: "mooncake-admin", Address: url}
				if h, err := a.Health(ctx); err != nil {
					sv.Error = f.adminErr(url, err).Error()
				} else {
					sv.Detail = fmt.Sprintf("role %s, ha_state %s", h.Role, h.HAState)
				}
				v.Servers = append(v.Servers, sv)
			}
			if b.Controller != "" {
				sv, err := f.controllerVersion(ctx, b.Controller)
				if err != nil {
					return err
				}
				v.Servers = append(v.Servers, sv)
			}
			if fm == printers.JSON {
				return printers.WriteJSON(f.Out(), v)
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "lmc %s (commit %s, built %s, %s %s)\n", v.Version, v.Commit, v.Date, v.GoVersion, v.Platform)
			for _, s := range v.Servers {
				d := s.Version
				if s.Detail != "" {
					d = strings.TrimSpace(d + " " + s.Detail)
				}
				if s.Error != "" {
					d = "error: " + s.Error
				}
				fmt.Fprintf(&sb, "%s %s: %s\n", s.Backend, s.Address, d)
			}
			_, err = io.WriteString(f.Out(), safetext.EscapeText(sb.String()))
			return err
		},
	}
	addStoreFlags(cmd, &b)
	addControllerFlag(cmd, &b)
	return cmd
}

// openAPILimit bounds the controller's /openapi.json (a few dozen KiB).
const openAPILimit = 8 << 20

// controllerVersion reads /openapi.json and infers the controller's era.
// Only bad flags are an error; a failed probe is reported in the entry.
func (f *Factory) controllerVersion(ctx context.Context, rawURL string) (serverVersion, error) {
	p, err := f.peer("--controller", rawURL)
	if err != nil {
		return serverVersion{}, err
	}
	sv := serverVersion{Backend: "lmcache-controller", Address: p.Display}
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(transport.WithBodyLimit(ctx, openAPILimit), http.MethodGet, p.Base+"/openapi.json", nil)
	if err != nil {
		sv.Error = err.Error()
		return sv, nil
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		sv.Error = f.controllerErr(p.Display, err).Error()
		return sv, nil
	}
	defer resp.Body.Close()
	var doc struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		sv.Error = fmt.Sprintf("GET /openapi.json: HTTP %d, not an OpenAPI document", resp.StatusCode)
		return sv, nil
	}
	for p := range doc.Paths {
		sv.Paths = append(sv.Paths, p)
	}
	sort.Strings(sv.Paths)
	sv.Detail = "before v0.3.0 (2025-05-26)"
	for _, e := range controllerEras {
		if _, ok := doc.Paths[e.path]; ok {
			sv.Detail = e.since
			break
		}
	}
	sv.Detail = "API " + sv.Detail
	return sv, nil
}
