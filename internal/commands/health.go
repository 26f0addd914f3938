package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
	"lmc/internal/mooncake"
)

// HealthOptions are lmc health's inputs.
type HealthOptions struct {
	f        *Factory
	Backend  BackendFlags
	Instance string
	Format   printers.Format
}

type masterHealth struct {
	Address string  `json:"address"`
	OK      bool    `json:"ok"`
	Version string  `json:"version,omitempty"`
	RTTMs   float64 `json:"rtt_ms,omitempty"`
	Legacy  bool    `json:"legacy_batch_exist,omitempty"`
	Error   string  `json:"error,omitempty"`
}

type adminHealth struct {
	URL string `json:"url"`
	OK  bool   `json:"ok"`
	mooncake.Health
	Error string `json:"error,omitempty"`
}

type instanceHealth struct {
	InstanceID string                          `json:"instance_id"`
	Healthy    bool                            `json:"healthy"`
	Found      bool                            `json:"found"`
	Workers    []controllerclient.WorkerHealth `json:"workers"`
}

type controllerHealth struct {
	URL       string           `json:"url"`
	OK        bool             `json:"ok"`
	Instances []instanceHealth `json:"instances"`
	Error     string           `json:"error,omitempty"`
}

type healthView struct {
	Master     *masterHealth     `json:"master,omitempty"`
	Admin      *adminHealth      `json:"admin,omitempty"`
	Controller *controllerHealth `json:"controller,omitempty"`
	// Coordinator is the LMCache MP coordinator (coordfleet.go).
	Coordinator *coordinatorHealth `json:"coordinator,omitempty"`
}

// NewCmdHealth builds `lmc health`.
func NewCmdHealth(f *Factory) *cobra.Command {
	o := &HealthOptions{f: f}
	cmd := &cobra.Command{
		Use:   "health (--master ADDR [--admin URL] | --controller URL [--instance I] | --coordinator URL [--instance I])",
		Short: shortFor("health"),
		Long: `Check the backends: the Mooncake master's version and round-trip time over its
RPC, the admin API's view of HA (role, state, leader), or the controller's
per-worker health of each instance (all instances when --instance is not given).
With --coordinator, the LMCache MP coordinator's liveness (/healthz, which
checks nothing else), the generation that answers, and the registered MP
servers (--instance: that one must be registered). --instance without
--controller or --coordinator, and a --tenant other than "default" without
--master, would check nothing and are refused (exit 2).

Exit codes: 0 all healthy, 1 something answered unhealthy, 3 unreachable.`,
		Example: `  lmc health --master 10.0.0.1:50051 --admin http://10.0.0.1:9003
  lmc health --controller http://localhost:9000 --instance inst1 -o json
  lmc health --coordinator http://localhost:9300 --instance server-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Format, err = f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON}); err != nil {
				return err
			}
			return healthRun(cmd.Context(), o)
		},
	}
	addStoreFlags(cmd, &o.Backend)
	addControllerFlag(cmd, &o.Backend)
	addCoordinatorFlag(cmd, &o.Backend)
	cmd.Flags().StringVar(&o.Instance, "instance", "", "controller instance id (default: every registered instance)")
	return cmd
}

func healthRun(ctx context.Context, o *HealthOptions) error {
	f := o.f
	b := o.Backend
	if b.Master == "" && b.Admin == "" && b.Controller == "" && b.Coordinator == "" {
		return &UsageError{Err: errors.New("nothing to check: pass --master, --admin or --controller, or --coordinator")}
	}
	// --instance names a controller's or coordinator's instance and
	// --tenant the master RPC's: without them the check would say ok for
	// an instance or tenant it never looked at.
	if b.Controller == "" && b.Coordinator == "" {
		if err := refuse(f, notContext, "names a controller's or coordinator's instance, and neither is checked: add --controller URL or --coordinator URL", "instance"); err != nil {
			return err
		}
	}
	if b.Master == "" && b.Tenant != mooncake.DefaultTenant {
		if err := refuse(f, notContext, "is the Mooncake master RPC's tenant, and --master is not checked (the admin API serves the default tenant only): add --master ADDR", "tenant"); err != nil {
			return err
		}
	}
	var v healthView
	// Failures shown in the output (the DETAIL column, the JSON error
	// fields) are not printed again; the others go to stderr.
	var firstErr, firstUnshown error
	note := func(err error, shown bool) {
		if firstErr == nil {
			firstErr = err
		}
		if !shown && firstUnshown == nil {
			firstUnshown = err
		}
	}
	if b.Master != "" {
		addr, err := normalizeMaster(b.Master)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("--master: %w", err)}
		}
		mh := &masterHealth{Address: addr}
		v.Master = mh
		c, err := f.dialMaster(ctx, addr, b.Tenant)
		if err == nil {
			var rtts []time.Duration
			for i := 0; i < 5 && err == nil; i++ {
				start := time.Now()
				cctx, stop := ctx, func() {}
				if i == 0 {
					cctx, stop = watchRPC(ctx, addr)
				}
				mh.Version, err = c.ServiceReady(cctx)
				err = rpcCause(cctx, err)
				stop()
				rtts = append(rtts, time.Since(start))
			}
			c.Close()
			if err == nil {
				sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
				mh.RTTMs = float64(rtts[len(rtts)/2].Microseconds()) / 1000
				mh.OK = true
			} else {
				err = f.masterErr(addr, err)
			}
		}
		if err != nil {
			mh.Error = err.Error()
			note(err, true)
		}
	}
	if b.Admin != "" {
		a, err := f.adminClient(b.Admin)
		if err != nil {
			return err
		}
		url := a.BaseURL()
		ah := &adminHealth{URL: url}
		v.Admin = ah
		ah.Health, err = a.Health(ctx)
		if err != nil {
			err = f.adminErr(url, err)
			ah.Error = err.Error()
			note(err, true)
		} else {
			ah.OK = ah.Status == "ok" && ah.ServiceReady
			if !ah.OK {
				note(fmt.Errorf("Mooncake admin API %s: status %q, service_ready %v", url, ah.Status, ah.ServiceReady), true)
			}
		}
	}
	if b.Controller != "" {
		c, err := f.controllerClient(b.Controller)
		if err != nil {
			return err
		}
		ch := &controllerHealth{URL: c.BaseURL(), Instances: []instanceHealth{}}
		v.Controller = ch
		ids := []string{o.Instance}
		if o.Instance == "" {
			ids = nil
			ws, err := c.AllWorkers(ctx)
			if err != nil {
				err = f.controllerErr(c.BaseURL(), err)
				ch.Error = err.Error()
				note(err, true)
			} else {
				seen := map[string]bool{}
				for _, w := range ws.Workers {
					if !seen[w.InstanceID] {
						seen[w.InstanceID] = true
						ids = append(ids, w.InstanceID)
					}
				}
				sort.Strings(ids)
			}
		}
		ch.OK = ch.Error == ""
		for _, id := range ids {
			h, err := c.Health(ctx, id)
			if err != nil {
				err = f.controllerErr(c.BaseURL(), err)
				ch.Error, ch.OK = err.Error(), false
				note(err, true)
				break
			}
			ih := instanceHealth{InstanceID: id, Healthy: h.Healthy(), Found: h.Found(), Workers: h.Workers}
			if ih.Workers == nil {
				ih.Workers = []controllerclient.WorkerHealth{}
			}
			if !ih.Healthy {
				ch.OK = false
				if !ih.Found {
					note(fmt.Errorf("LMCache controller %s: instance %q is not registered (no workers); 'lmc workers' lists the registered ones", c.BaseURL(), id), false)
				} else {
					note(fmt.Errorf("LMCache controller %s: instance %q is unhealthy", c.BaseURL(), id), false)
				}
			}
			ch.Instances = append(ch.Instances, ih)
		}
	}
	if b.Coordinator != "" {
		v.Coordinator = f.checkCoordinator(ctx, b.Coordinator, o.Instance, note)
	}
	if err := writeHealth(f, o.Format, v); err != nil {
		return err
	}
	switch {
	case firstUnshown != nil:
		return &ExitError{Code: ExitCodeFor(ctx, firstErr), Err: firstUnshown}
	case firstErr != nil:
		// Every failure is in the output already: its exit code, without
		// printing it a second time.
		return &ExitError{Code: ExitCodeFor(ctx, firstErr), Err: firstErr, Silent: true}
	}
	return nil
}

func writeHealth(f *Factory, fm printers.Format, v healthView) error {
	ios := f.IOStreams
	if fm == printers.JSON {
		return printers.WriteJSON(f.Out(), v)
	}
	st := ios.Styles()
	ok := func(b bool) string {
		if b {
			return "ok"
		}
		return "FAIL"
	}
	header := []string{"BACKEND", "ADDRESS", "INSTANCE", "STATUS", "DETAIL"}
	var rows [][]string
	if m := v.Master; m != nil {
		d := m.Error
		if m.OK {
			d = fmt.Sprintf("version %s, rtt %.2f ms", m.Version, m.RTTMs)
		}
		rows = append(rows, []string{"master", m.Address, "", ok(m.OK), d})
	}
	if a := v.Admin; a != nil {
		d := a.Error
		if a.Error == "" {
			d = fmt.Sprintf("role %s, ha_state %s, service_ready %v", a.Role, a.HAState, a.ServiceReady)
			if a.LeaderAddress != nil {
				d += ", leader " + *a.LeaderAddress
			}
		}
		rows = append(rows, []string{"admin", a.URL, "", ok(a.OK), d})
	}
	if c := v.Controller; c != nil {
		if c.Error != "" || len(c.Instances) == 0 {
			d := c.Error
			if d == "" {
				d = "no instances registered"
			}
			rows = append(rows, []string{"controller", c.URL, "", ok(c.OK), d})
		}
		for _, in := range c.Instances {
			d := "not registered"
			if in.Found {
				d = ""
				for i, w := range in.Workers {
					if i > 0 {
						d += ", "
					}
					d += "worker " + strconv.Itoa(w.WorkerID) + ": " + w.Meaning
				}
			}
			rows = append(rows, []string{"controller", c.URL, in.InstanceID, ok(in.Healthy), d})
		}
	}
	rows = append(rows, coordinatorHealthRows(v.Coordinator)...)
	if fm == printers.Plain {
		return printers.WritePlain(f.Out(), rows)
	}
	for _, r := range rows {
		if r[3] == "ok" {
			r[3] = st.Hit.Render(r[3])
		} else {
			r[3] = st.Miss.Render(r[3])
		}
	}
	return printers.WriteTable(f.Out(), styledHeader(st, header), rows)
}
