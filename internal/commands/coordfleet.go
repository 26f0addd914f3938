// The coordinator's fleet views: health --coordinator (GET /healthz, the
// generation, the registered MP servers), workers --coordinator (GET
// /instances with heartbeat ages and P2P fields) and stats --coordinator
// (GET /directory/stats with tier totals). usage.go and quota.go are
// their own commands.
package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/coordinatorclient"
	"lmc/internal/safetext"
)

// The coordinator's liveness settings lmc assumes for heartbeat ages (its
// --instance-timeout and --health-check-interval defaults).
const (
	coordInstanceTimeout = 30 * time.Second
	coordSweepInterval   = 10 * time.Second
)

// ---------------------------------------------------------------------------
// health --coordinator

type coordinatorHealth struct {
	URL    string `json:"url"`
	OK     bool   `json:"ok"`
	Status string `json:"status,omitempty"`
	// Generation is what lmc tells of the coordinator's version, feature
	// by feature.
	Generation *coordinatorclient.Generation `json:"generation,omitempty"`
	// Instances is the number of registered MP servers.
	Instances int                 `json:"instances"`
	Instance  *coordInstanceView  `json:"instance,omitempty"`
	Missing   string              `json:"missing_instance,omitempty"`
	Error     string              `json:"error,omitempty"`
	Warnings  []string            `json:"warnings,omitempty"`
	list      []coordInstanceView // for the table
}

// checkCoordinator is health's coordinator part: liveness (/healthz,
// which checks nothing else), the generation (GET /openapi.json, or
// probes), the registered MP servers, and --instance among them.
// note records a failure; shown says whether the output holds it (the
// error field and DETAIL column) so that it is not printed again.
func (f *Factory) checkCoordinator(ctx context.Context, url, instance string, note func(err error, shown bool)) *coordinatorHealth {
	c, err := f.coordinatorClient(url)
	if err != nil {
		note(err, true)
		return &coordinatorHealth{URL: url, Error: err.Error()}
	}
	h := &coordinatorHealth{URL: c.BaseURL()}
	fail := func(err error) *coordinatorHealth {
		err = f.coordinatorErr(c, err)
		h.OK, h.Error = false, err.Error()
		note(err, true)
		return h
	}
	hz, err := c.Healthz(ctx)
	if err != nil {
		return fail(err)
	}
	h.Status, h.OK, h.Warnings = hz.Status, hz.Healthy, hz.Warnings
	if !hz.Healthy {
		note(fmt.Errorf("LMCache coordinator %s: /healthz answered status %q", c.BaseURL(), hz.Status), true)
	}
	if _, err := c.Detect(ctx); err != nil {
		return fail(err)
	}
	g := c.Generation()
	h.Generation = &g
	l, err := c.Instances(ctx)
	if err != nil {
		return fail(err)
	}
	h.Instances = len(l.Instances)
	h.list = instanceViews(c, l)
	h.Warnings = append(h.Warnings, l.Warnings...)
	if instance != "" {
		for i := range h.list {
			if h.list[i].InstanceID == instance {
				h.Instance = &h.list[i]
			}
		}
		if h.Instance == nil {
			var ids []string
			for _, in := range h.list {
				ids = append(ids, in.InstanceID)
			}
			known := "none"
			if len(ids) > 0 {
				known = strings.Join(ids, ", ")
			}
			h.OK, h.Missing = false, instance
			note(fmt.Errorf("LMCache coordinator %s: instance %q is not registered (registered: %s); an MP server registers with --coordinator-url and must heartbeat every few seconds", c.BaseURL(), instance, known), false)
		}
	}
	f.noteGeneration(c)
	return h
}

// coordinatorHealthRows are health's table rows for the coordinator.
func coordinatorHealthRows(h *coordinatorHealth) [][]string {
	if h == nil {
		return nil
	}
	ok := "ok"
	if h.Error != "" || h.Status != "healthy" {
		ok = "FAIL"
	}
	d := h.Error
	if d == "" {
		d = fmt.Sprintf("healthz %s, %s registered", h.Status, iostreams.Plural(h.Instances, "MP server"))
		if h.Generation != nil {
			d += ", generation " + h.Generation.String()
		}
	}
	rows := [][]string{{"coordinator", h.URL, "", ok, d}}
	switch {
	case h.Instance != nil:
		rows = append(rows, []string{"coordinator", h.URL, h.Instance.InstanceID, "ok", "registered " + h.Instance.Registered + ", heartbeat " + h.Instance.Heartbeat})
	case h.Missing != "":
		rows = append(rows, []string{"coordinator", h.URL, h.Missing, "FAIL", "not registered"})
	}
	return rows
}

// ---------------------------------------------------------------------------
// workers --coordinator

type coordInstanceView struct {
	coordinatorclient.Instance
	// HeartbeatAgeS is how long ago the instance heartbeat, in seconds;
	// HeartbeatExact false means it is a bound (the coordinator does not
	// report heartbeats: a listed instance heartbeat within
	// --instance-timeout + --health-check-interval, 40 s by default).
	HeartbeatAgeS  float64 `json:"heartbeat_age_s"`
	HeartbeatExact bool    `json:"heartbeat_age_exact"`
	Registered     string  `json:"-"`
	Heartbeat      string  `json:"-"`
}

func instanceViews(c *coordinatorclient.Client, l *coordinatorclient.InstanceList) []coordInstanceView {
	now := time.Now()
	out := make([]coordInstanceView, 0, len(l.Instances))
	for _, in := range l.Instances {
		age, exact := in.HeartbeatAge(now, coordInstanceTimeout, coordSweepInterval)
		v := coordInstanceView{Instance: in, HeartbeatAgeS: age.Round(time.Millisecond).Seconds(), HeartbeatExact: exact}
		if v.Metadata == nil {
			v.Metadata = map[string]string{}
		}
		v.Registered = epochText(in.RegistrationTime, false)
		v.Heartbeat = age.Round(time.Second).String() + " ago"
		if !exact {
			v.Heartbeat = "≤ " + v.Heartbeat
		}
		out = append(out, v)
	}
	return out
}

type coordWorkersView struct {
	Source       string              `json:"source"`
	Backend      string              `json:"backend"`
	Generation   *coordGeneration    `json:"generation"`
	HasP2PFields bool                `json:"has_p2p_fields"`
	Instances    []coordInstanceView `json:"instances"`
	Warnings     []string            `json:"warnings,omitempty"`
}

// fleetCoordinator is the client of workers' and stats' --coordinator:
// nil, with no error, when the controller is meant.
func (f *Factory) fleetCoordinator(b *BackendFlags) (*coordinatorclient.Client, error) {
	kind, err := f.backendSet(b, controllerBackend, controllerBackend, coordinatorBackend)
	if err != nil || kind.name != coordinatorBackend.name {
		return nil, err
	}
	return f.coordinatorClient(b.Coordinator)
}

// coordinatorWorkers is workers --coordinator; done is false when the
// controller is meant.
func (f *Factory) coordinatorWorkers(ctx context.Context, b *BackendFlags, instance string, fm printers.Format) (bool, error) {
	c, err := f.fleetCoordinator(b)
	if err != nil || c == nil {
		return err != nil, err
	}
	l, err := c.Instances(ctx)
	if err != nil {
		return true, f.coordinatorErr(c, err)
	}
	v := coordWorkersView{Source: "coordinator", Backend: c.BaseURL(), HasP2PFields: l.HasP2PFields, Instances: []coordInstanceView{}, Warnings: l.Warnings}
	for _, in := range instanceViews(c, l) {
		if instance == "" || in.InstanceID == instance {
			v.Instances = append(v.Instances, in)
		}
	}
	v.Generation = generationOf(c)
	f.noteGeneration(c)
	warn(f.IOStreams, v.Warnings)
	if instance != "" && len(v.Instances) == 0 {
		warn(f.IOStreams, []string{fmt.Sprintf("instance %q is not registered with the coordinator %s", instance, c.BaseURL())})
	}
	if fm == printers.JSON {
		return true, printers.WriteJSON(f.Out(), v)
	}
	var rows [][]string
	for _, in := range v.Instances {
		p2p, mq := "-", "-"
		if in.HasP2PFields {
			p2p, mq = orElse(in.P2PAdvertisedURL, "-"), strconv.Itoa(in.MQPort)
		}
		hb := in.Heartbeat
		reg := in.Registered
		if fm == printers.Plain {
			reg = epochText(in.RegistrationTime, true)
			hb = strconv.FormatFloat(in.HeartbeatAgeS, 'f', 3, 64)
		}
		rows = append(rows, []string{in.InstanceID, in.IP, strconv.Itoa(in.HTTPPort), p2p, mq, reg, hb})
	}
	if fm == printers.Plain {
		return true, printers.WritePlain(f.Out(), rows)
	}
	st := f.IOStreams.Styles()
	out := safetext.NewWriter(f.Out())
	if len(rows) > 0 {
		if err := printers.WriteTable(out, styledHeader(st, []string{"INSTANCE", "IP", "HTTP PORT", "P2P URL", "MQ PORT", "REGISTERED", "HEARTBEAT"}), rows); err != nil {
			return true, err
		}
	}
	_, err = fmt.Fprintf(out, "%s registered with coordinator %s (heartbeat ages are bounds: the coordinator drops a server %s after its last heartbeat)\n",
		iostreams.Plural(len(v.Instances), "MP server"), c.BaseURL(), coordInstanceTimeout+coordSweepInterval)
	return true, err
}

// ---------------------------------------------------------------------------
// stats --coordinator

type coordTierTotals struct {
	L1Count     int64 `json:"l1_count"`
	L1SizeBytes int64 `json:"l1_size_bytes"`
	L2Count     int64 `json:"l2_count"`
	L2SizeBytes int64 `json:"l2_size_bytes"`
	// FromStats: /directory/stats reported them (newest coordinators);
	// otherwise lmc summed the keys listing.
	FromStats bool `json:"from_stats"`
}

type coordStatsView struct {
	Source     string           `json:"source"`
	Backend    string           `json:"backend"`
	Generation *coordGeneration `json:"generation"`
	*coordinatorclient.DirectoryStats
	TierTotals *coordTierTotals `json:"tier_totals,omitempty"`
}

// coordinatorStats is stats --coordinator; done is false when the
// controller is meant.
func (f *Factory) coordinatorStats(ctx context.Context, b *BackendFlags, fm printers.Format) (bool, error) {
	c, err := f.fleetCoordinator(b)
	if err != nil || c == nil {
		return err != nil, err
	}
	st, err := c.DirectoryStats(ctx)
	if err != nil {
		return true, f.coordinatorErr(c, err)
	}
	v := coordStatsView{Source: "coordinator", Backend: c.BaseURL(), DirectoryStats: st}
	if st.HasTierTotals && st.L1Count != nil && st.L2Count != nil && st.L1SizeBytes != nil && st.L2SizeBytes != nil {
		v.TierTotals = &coordTierTotals{L1Count: *st.L1Count, L1SizeBytes: *st.L1SizeBytes, L2Count: *st.L2Count, L2SizeBytes: *st.L2SizeBytes, FromStats: true}
	} else if tt, err := c.TierTotals(ctx); err == nil {
		v.TierTotals = &coordTierTotals{L1Count: tt.L1Count, L1SizeBytes: tt.L1SizeBytes, L2Count: tt.L2Count, L2SizeBytes: tt.L2SizeBytes, FromStats: tt.FromStats}
	} else if !coordinatorclient.IsUnavailable(err) {
		st.Warnings = append(st.Warnings, "no tier totals: "+f.coordinatorErr(c, err).Error())
	} else {
		return true, f.coordinatorErr(c, err)
	}
	v.Generation = generationOf(c)
	f.noteGeneration(c)
	warn(f.IOStreams, st.Warnings)
	if fm == printers.JSON {
		return true, printers.WriteJSON(f.Out(), v)
	}
	var ids []string
	for id := range st.L1KeysByInstance {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var rows [][]string
	for _, id := range ids {
		rows = append(rows, []string{id, strconv.FormatInt(st.L1KeysByInstance[id], 10)})
	}
	if fm == printers.Plain {
		return true, printers.WritePlain(f.Out(), rows)
	}
	out := safetext.NewWriter(f.Out())
	if len(rows) > 0 {
		if err := printers.WriteTable(out, styledHeader(f.IOStreams.Styles(), []string{"INSTANCE", "L1 KEYS"}), rows); err != nil {
			return true, err
		}
	}
	return true, writeDirectorySummary(out, &v)
}

func writeDirectorySummary(out io.Writer, v *coordStatsView) error {
	num := func(p *int64) string {
		if p == nil {
			return "?"
		}
		return strconv.FormatInt(*p, 10)
	}
	line := fmt.Sprintf("%s keys, %s placements in the coordinator's directory", num(v.NumKeys), num(v.NumPlacements))
	if t := v.TierTotals; t != nil {
		line += fmt.Sprintf("; L1 %d placements (%s), L2 %d (%s)", t.L1Count, printers.Bytes(t.L1SizeBytes), t.L2Count, printers.Bytes(t.L2SizeBytes))
		if !t.FromStats {
			line += " summed from the keys listing"
		}
	}
	if b := v.Blend; b != nil && b.NumChunks > 0 {
		line += fmt.Sprintf("; blend index %d chunks", b.NumChunks)
	}
	_, err := fmt.Fprintln(out, line)
	return err
}

// epochText renders epoch seconds in UTC (RFC 3339 with nanoseconds for
// scripts).
func epochText(sec float64, precise bool) string {
	if sec <= 0 {
		return "-"
	}
	t := time.Unix(0, int64(sec*float64(time.Second))).UTC()
	if precise {
		return t.Format(time.RFC3339Nano)
	}
	return t.Format("2006-01-02 15:04:05Z")
}
