package commands

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/coordinatorclient"
	"lmc/internal/safetext"
)

// maxQuotaGB bounds a quota or default limit (1 PiB).
const maxQuotaGB = 1 << 20

// NewCmdQuota builds `lmc quota`.
func NewCmdQuota(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quota",
		Short: shortFor("quota"),
		Long: `Read and set the LMCache MP coordinator's L2 quotas (/quota): fleet-wide, per
cache_salt, in GiB. They are soft: a salt over its limit gets its least
recently used unpinned keys deleted on the coordinator's next eviction cycle.
Salts without a quota follow the default limit ('lmc quota default'); with no
default (the boot state) they are exempt, and a default of 0 makes every salt
without a quota evictable. The empty salt is written _default (or '').

Writes (set, delete, default with a value) ask first on a terminal and need
--yes elsewhere; --dry-run shows the request and the current value.

These are the coordinator's quotas, not an MP server's node-local /quota
(--eviction-policy IsolatedLRU): never drive both against one L2.`,
		Example: `  lmc quota list --coordinator http://localhost:9300
  lmc quota get user-a --coordinator http://localhost:9300 -o json
  lmc quota set user-a 5.5 --coordinator http://localhost:9300 --yes
  lmc quota delete user-a --coordinator http://localhost:9300 --yes
  lmc quota default none --coordinator http://localhost:9300 --yes`,
	}
	cmd.AddCommand(newCmdQuotaList(f), newCmdQuotaGet(f), newCmdQuotaSet(f), newCmdQuotaDelete(f), newCmdQuotaDefault(f))
	return cmd
}

// quotaSalt reads a SALT argument: _default and ” are the empty salt.
func quotaSalt(arg string) (string, error) {
	salt := arg
	if salt == "_default" {
		salt = ""
	}
	if err := coordinatorclient.ValidateCacheSalt(salt); err != nil {
		return "", &UsageError{Err: fmt.Errorf("salt %q: %v", arg, err)}
	}
	return salt, nil
}

// quotaSaltArgs reads what get, set and delete start with: -o, then the
// SALT argument.
func quotaSaltArgs(f *Factory, args []string) (printers.Format, string, error) {
	fm, err := f.outputFormat(quotaFormats)
	if err != nil {
		return "", "", err
	}
	salt, err := quotaSalt(args[0])
	return fm, salt, err
}

func saltName(s string) string {
	if s == "" {
		return "_default"
	}
	return s
}

// parseGiB reads a limit in GiB: a finite number 0..maxQuotaGB.
func parseGiB(what, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > maxQuotaGB {
		return 0, &UsageError{Err: fmt.Errorf("%s %q: give GiB as a number 0..%d (e.g. 5.5)", what, s, maxQuotaGB)}
	}
	return v, nil
}

func quotaTier(flag string) (coordinatorclient.Tier, error) {
	t, err := parseTier("--tier", flag)
	if err != nil {
		return "", err
	}
	if t == coordinatorclient.TierAll {
		return "", &UsageError{Err: errors.New("--tier all: quota usage is accounted per tier; use l1 or l2")}
	}
	return t, nil
}

type quotaCmd struct {
	f      *Factory
	b      BackendFlags
	tier   string
	yes    bool
	dryRun bool
	verify bool
	// write: the subcommand changes something (set, delete, default with a
	// value).
	writes bool
}

// errNeedsYes refuses a quota write off a terminal without --yes.
func errNeedsYes() error {
	return &UsageError{Err: errors.New("refusing to change a quota without --yes when not on a terminal")}
}

func (q *quotaCmd) client() (*coordinatorclient.Client, error) {
	if q.writes && !q.yes && !q.dryRun && !q.f.IOStreams.CanPrompt() {
		return nil, errNeedsYes()
	}
	if _, err := q.f.backendSet(&q.b, coordinatorBackend, coordinatorBackend); err != nil {
		return nil, err
	}
	return q.f.coordinatorClient(q.b.Coordinator)
}

// tierClient starts a read (list, get): the --tier it reads usage of, and
// the client.
func (q *quotaCmd) tierClient() (coordinatorclient.Tier, *coordinatorclient.Client, error) {
	tier, err := quotaTier(q.tier)
	if err != nil {
		return "", nil, err
	}
	c, err := q.client()
	if err != nil {
		return "", nil, err
	}
	return tier, c, nil
}

// writeClient starts a salt's write (set, delete): the client, and the
// salt's L2 quota as it is now.
func (q *quotaCmd) writeClient(ctx context.Context, salt string) (*coordinatorclient.Client, *coordinatorclient.QuotaStatus, error) {
	q.writes = true
	c, err := q.client()
	if err != nil {
		return nil, nil, err
	}
	now, err := q.l2Quota(ctx, c, salt)
	if err != nil {
		return nil, nil, err
	}
	return c, now, nil
}

// l2Quota reads a salt's L2 quota and usage.
func (q *quotaCmd) l2Quota(ctx context.Context, c *coordinatorclient.Client, salt string) (*coordinatorclient.QuotaStatus, error) {
	s, err := c.Quota(ctx, salt, coordinatorclient.TierL2)
	if err != nil {
		return nil, q.f.coordinatorErr(c, err)
	}
	return s, nil
}

func (q *quotaCmd) flags(cmd *cobra.Command, tier, write bool) {
	addCoordinatorFlag(cmd, &q.b)
	if tier {
		cmd.Flags().StringVar(&q.tier, "tier", "", "usage of this tier: l2 (the default; quotas are L2 only) or l1")
		_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions([]string{"l1", "l2"}, cobra.ShellCompDirectiveNoFileComp))
	}
	if write {
		cmd.Flags().BoolVarP(&q.yes, "yes", "y", false, "do not ask for confirmation")
		cmd.Flags().BoolVar(&q.dryRun, "dry-run", false, "show the request and the current value; change nothing")
		cmd.Flags().BoolVar(&q.verify, "verify", false, "read the value back afterwards")
	}
}

// quotaView is the JSON of every quota subcommand.
type quotaView struct {
	Source     string                          `json:"source"`
	Backend    string                          `json:"backend"`
	Generation *coordGeneration                `json:"generation"`
	Operation  string                          `json:"operation"`
	Tier       string                          `json:"tier,omitempty"`
	TotalGB    *float64                        `json:"total_gb,omitempty"`
	Quotas     []coordinatorclient.QuotaStatus `json:"by_cache_salt,omitempty"`
	Quota      *coordinatorclient.QuotaStatus  `json:"quota,omitempty"`
	// Default is the default limit (default_limit_gb; null: exempt).
	Default  *coordinatorclient.QuotaConfig      `json:"default,omitempty"`
	Result   *coordinatorclient.QuotaWriteResult `json:"result,omitempty"`
	DryRun   bool                                `json:"dry_run,omitempty"`
	Request  string                              `json:"request,omitempty"`
	Warning  string                              `json:"warning,omitempty"`
	Verify   *coordinatorclient.QuotaStatus      `json:"verify,omitempty"`
	Warnings []string                            `json:"warnings,omitempty"`
}

func (q *quotaCmd) write(c *coordinatorclient.Client, fm printers.Format, v quotaView, text string, rows [][]string) error {
	f := q.f
	v.Source, v.Backend, v.Generation = "coordinator", c.BaseURL(), generationOf(c)
	f.noteGeneration(c)
	warn(f.IOStreams, v.Warnings)
	switch fm {
	case printers.JSON:
		return printers.WriteJSON(f.Out(), v)
	case printers.Plain:
		return printers.WritePlain(f.Out(), rows)
	}
	out := safetext.NewWriter(f.Out())
	_, err := fmt.Fprint(out, text)
	return err
}

// writeDryRun is a write's --dry-run: what it would do and the request it
// would send.
func (q *quotaCmd) writeDryRun(c *coordinatorclient.Client, fm printers.Format, v quotaView, request, would string) error {
	v.DryRun, v.Request = true, request
	return q.write(c, fm, v, "dry run: would "+would+"\nwould send: "+request+"\n"+warnLine(v.Warning), nil)
}

var quotaFormats = []printers.Format{printers.Table, printers.Plain, printers.JSON}

func gb(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " GiB" }

func newCmdQuotaList(f *Factory) *cobra.Command {
	q := &quotaCmd{f: f}
	cmd := &cobra.Command{
		Use:     "list --coordinator URL [--tier l2|l1]",
		Short:   "Usage and quota of every cache salt (GET /quota)",
		Example: "  lmc quota list --coordinator http://localhost:9300\n  lmc quota list --coordinator http://localhost:9300 --tier l1 -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat(quotaFormats)
			if err != nil {
				return err
			}
			tier, c, err := q.tierClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			l, err := c.Quotas(ctx, tier)
			if err != nil {
				return f.coordinatorErr(c, err)
			}
			v := quotaView{Operation: "list", Tier: string(l.Tier), TotalGB: &l.TotalGB, Quotas: l.ByCacheSalt, Warnings: l.Warnings}
			if v.Quotas == nil {
				v.Quotas = []coordinatorclient.QuotaStatus{}
			}
			if d, err := c.QuotaDefault(ctx); err == nil {
				v.Default = d
			} else if !errors.Is(err, coordinatorclient.ErrUnsupported) {
				return f.coordinatorErr(c, err)
			}
			var rows, plain [][]string
			for _, s := range v.Quotas {
				limit := "-"
				if s.QuotaExists {
					limit = gb(s.QuotaLimitGB)
				}
				share := "-"
				if s.QuotaExists && s.QuotaLimitGB > 0 {
					share = fmt.Sprintf("%.1f %%", 100*s.UsageGB/s.QuotaLimitGB)
				}
				rows = append(rows, []string{saltName(s.CacheSalt), limit, gb(s.UsageGB), share})
				plain = append(plain, quotaPlainRow(s.CacheSalt, &s))
			}
			var b strings.Builder
			if len(rows) > 0 {
				if err := printers.WriteTable(&b, styledHeader(f.IOStreams.Styles(), []string{"SALT", "QUOTA", "USAGE (" + strings.ToUpper(string(l.Tier)) + ")", "OF QUOTA"}), rows); err != nil {
					return err
				}
			}
			fmt.Fprintf(&b, "%s in %s in all; %s\n", gb(l.TotalGB), strings.ToUpper(string(l.Tier)), defaultText(v.Default))
			return q.write(c, fm, v, b.String(), plain)
		},
	}
	q.flags(cmd, true, false)
	return cmd
}

// quotaPlainRow is a salt's -o plain row: salt, quota exists, limit and
// usage in GiB.
func quotaPlainRow(salt string, s *coordinatorclient.QuotaStatus) []string {
	return []string{saltName(salt), strconv.FormatBool(s.QuotaExists), strconv.FormatFloat(s.QuotaLimitGB, 'g', -1, 64), strconv.FormatFloat(s.UsageGB, 'g', -1, 64)}
}

func defaultText(d *coordinatorclient.QuotaConfig) string {
	switch {
	case d == nil:
		return "the default limit is unknown (no /quota/config here)"
	case d.DefaultLimitGB == nil:
		return "no default limit: salts without a quota are exempt from eviction"
	case *d.DefaultLimitGB == 0:
		return "default limit 0: every salt without a quota is evictable"
	}
	return "default limit " + gb(*d.DefaultLimitGB) + " for salts without a quota"
}

func newCmdQuotaGet(f *Factory) *cobra.Command {
	q := &quotaCmd{f: f}
	cmd := &cobra.Command{
		Use:     "get SALT --coordinator URL [--tier l2|l1]",
		Short:   "One cache salt's quota and usage (GET /quota/{salt})",
		Example: "  lmc quota get user-a --coordinator http://localhost:9300\n  lmc quota get _default --coordinator http://localhost:9300 -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, salt, err := quotaSaltArgs(f, args)
			if err != nil {
				return err
			}
			tier, c, err := q.tierClient()
			if err != nil {
				return err
			}
			s, err := c.Quota(cmd.Context(), salt, tier)
			if err != nil {
				return f.coordinatorErr(c, err)
			}
			v := quotaView{Operation: "get", Tier: string(s.Tier), Quota: s, Warnings: s.Warnings}
			text := fmt.Sprintf("salt %s: no quota; %s in %s\n", saltName(salt), gb(s.UsageGB), strings.ToUpper(string(s.Tier)))
			if s.QuotaExists {
				text = fmt.Sprintf("salt %s: quota %s, %s used in %s\n", saltName(salt), gb(s.QuotaLimitGB), gb(s.UsageGB), strings.ToUpper(string(s.Tier)))
			}
			return q.write(c, fm, v, text, [][]string{quotaPlainRow(salt, s)})
		},
	}
	q.flags(cmd, true, false)
	return cmd
}

// confirmWrite asks before a quota write.
func (q *quotaCmd) confirmWrite(ctx context.Context, c *coordinatorclient.Client, question string) error {
	if q.dryRun || q.f.skipConfirmation(q.yes) {
		return nil
	}
	if !q.f.IOStreams.CanPrompt() {
		return errNeedsYes()
	}
	where := "coordinator " + c.BaseURL()
	if q.f.ActiveContext != "" {
		where += " (context " + q.f.ActiveContext + ")"
	}
	ok, err := q.f.confirm(ctx, question+" on "+where+"?")
	if err != nil {
		return err
	}
	if !ok {
		return &ExitError{Code: ExitFailed, Err: errors.New("quota change cancelled")}
	}
	return nil
}

func newCmdQuotaSet(f *Factory) *cobra.Command {
	q := &quotaCmd{f: f}
	cmd := &cobra.Command{
		Use:   "set SALT GIB --coordinator URL [--yes] [--dry-run]",
		Short: "Set a cache salt's L2 quota in GiB (PUT /quota/{salt})",
		Long: `Set a cache salt's fleet-wide L2 quota, in GiB (0..1048576; the coordinator
stores bytes, so the value read back can differ in the last digits). Over the
limit, the salt's least recently used unpinned L2 keys are deleted on the next
eviction cycle.`,
		Example: "  lmc quota set user-a 5.5 --coordinator http://localhost:9300 --yes\n  lmc quota set _default 10 --coordinator http://localhost:9300 --dry-run",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, salt, err := quotaSaltArgs(f, args)
			if err != nil {
				return err
			}
			limit, err := parseGiB("GIB", args[1])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, now, err := q.writeClient(ctx, salt)
			if err != nil {
				return err
			}
			v := quotaView{Operation: "set", Tier: "l2", Quota: now}
			was := "no quota"
			if now.QuotaExists {
				was = "quota " + gb(now.QuotaLimitGB)
			}
			if limit < now.UsageGB {
				v.Warning = fmt.Sprintf("salt %s uses %s of L2, more than %s: the coordinator will evict its LRU unpinned keys on its next cycle", saltName(salt), gb(now.UsageGB), gb(limit))
			}
			if q.dryRun {
				return q.writeDryRun(c, fm, v, fmt.Sprintf(`PUT %s/quota/%s {"limit_gb": %s}`, c.BaseURL(), saltName(salt), strconv.FormatFloat(limit, 'f', -1, 64)),
					fmt.Sprintf("set the L2 quota of salt %s to %s (now %s, %s used)", saltName(salt), gb(limit), was, gb(now.UsageGB)))
			}
			if err := q.confirmWrite(ctx, c, fmt.Sprintf("Set the L2 quota of salt %s to %s (now %s, %s used)", saltName(salt), gb(limit), was, gb(now.UsageGB))); err != nil {
				return err
			}
			r, err := q.sendWrite(ctx, c, &v, salt, &limit, func() (*coordinatorclient.QuotaWriteResult, error) { return c.SetQuota(ctx, salt, limit) })
			if err != nil {
				return err
			}
			return q.write(c, fm, v, fmt.Sprintf("✓ L2 quota of salt %s set to %s (was %s)\n%s%s", saltName(salt), gb(r.LimitGB), was, warnLine(v.Warning), verifyLine(v.Verify)),
				[][]string{{saltName(salt), r.Status, strconv.FormatFloat(r.LimitGB, 'g', -1, 64)}})
		},
	}
	q.flags(cmd, false, true)
	return cmd
}

// sendWrite sends a salt's write (set, delete) and records its result in
// v; with --verify it reads the quota back into v.Verify (limit: the one
// written, nil for a removal).
func (q *quotaCmd) sendWrite(ctx context.Context, c *coordinatorclient.Client, v *quotaView, salt string, limit *float64, send func() (*coordinatorclient.QuotaWriteResult, error)) (*coordinatorclient.QuotaWriteResult, error) {
	r, err := send()
	if err != nil {
		return nil, q.f.coordinatorErr(c, err)
	}
	v.Result, v.Warnings = r, r.Warnings
	if q.verify {
		if v.Verify, err = q.readBack(ctx, c, salt, limit); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// readBack is --verify: the quota as the coordinator now reports it
// (limit nil: there must be none).
func (q *quotaCmd) readBack(ctx context.Context, c *coordinatorclient.Client, salt string, limit *float64) (*coordinatorclient.QuotaStatus, error) {
	s, err := q.l2Quota(ctx, c, salt)
	if err != nil {
		return nil, err
	}
	switch {
	case limit == nil && s.QuotaExists:
		return s, &ExitError{Code: ExitFailed, Err: fmt.Errorf("LMCache coordinator %s: the quota of salt %s is still there (%s) after its removal", c.BaseURL(), saltName(salt), gb(s.QuotaLimitGB))}
	case limit != nil && (!s.QuotaExists || !sameGiB(s.QuotaLimitGB, *limit)):
		return s, &ExitError{Code: ExitFailed, Err: fmt.Errorf("LMCache coordinator %s: the quota of salt %s reads back as %s (exists %v), not %s", c.BaseURL(), saltName(salt), gb(s.QuotaLimitGB), s.QuotaExists, gb(*limit))}
	}
	return s, nil
}

// sameGiB reports whether a limit read back is the one written, up to the
// rounding of the coordinator's bytes.
func sameGiB(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, want)
}

func warnLine(w string) string {
	if w == "" {
		return ""
	}
	return "! " + w + "\n"
}

func verifyLine(s *coordinatorclient.QuotaStatus) string {
	if s == nil {
		return ""
	}
	if !s.QuotaExists {
		return fmt.Sprintf("verify: no quota; %s used\n", gb(s.UsageGB))
	}
	return fmt.Sprintf("verify: quota %s, %s used\n", gb(s.QuotaLimitGB), gb(s.UsageGB))
}

func newCmdQuotaDelete(f *Factory) *cobra.Command {
	q := &quotaCmd{f: f}
	cmd := &cobra.Command{
		Use:     "delete SALT --coordinator URL [--yes] [--dry-run]",
		Short:   "Remove a cache salt's L2 quota (DELETE /quota/{salt})",
		Long:    "Remove a cache salt's L2 quota: the salt then follows the default limit\n('lmc quota default'), or is exempt from eviction when there is none.",
		Example: "  lmc quota delete user-a --coordinator http://localhost:9300 --yes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, salt, err := quotaSaltArgs(f, args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, now, err := q.writeClient(ctx, salt)
			if err != nil {
				return err
			}
			v := quotaView{Operation: "delete", Tier: "l2", Quota: now}
			if !now.QuotaExists {
				v.Warning = fmt.Sprintf("salt %s has no quota: nothing to remove", saltName(salt))
			}
			then := "follows the default limit"
			if d, err := c.QuotaDefault(ctx); err == nil {
				v.Default = d
				then = "then: " + defaultText(d)
			}
			if q.dryRun {
				return q.writeDryRun(c, fm, v, fmt.Sprintf("DELETE %s/quota/%s", c.BaseURL(), saltName(salt)),
					fmt.Sprintf("remove the L2 quota of salt %s (%s)", saltName(salt), then))
			}
			if now.QuotaExists {
				if err := q.confirmWrite(ctx, c, fmt.Sprintf("Remove the L2 quota of salt %s (%s; %s)", saltName(salt), gb(now.QuotaLimitGB), then)); err != nil {
					return err
				}
			}
			r, err := q.sendWrite(ctx, c, &v, salt, nil, func() (*coordinatorclient.QuotaWriteResult, error) { return c.DeleteQuota(ctx, salt) })
			if err != nil {
				return err
			}
			text := fmt.Sprintf("✓ removed the L2 quota of salt %s (%s)\n", saltName(salt), then)
			if r.Status == "not_found" {
				v.Warning = fmt.Sprintf("salt %s had no quota: nothing changed", saltName(salt))
				text = warnLine(v.Warning)
			}
			text += verifyLine(v.Verify)
			return q.write(c, fm, v, text, [][]string{{saltName(salt), r.Status}})
		},
	}
	q.flags(cmd, false, true)
	return cmd
}

func newCmdQuotaDefault(f *Factory) *cobra.Command {
	q := &quotaCmd{f: f}
	cmd := &cobra.Command{
		Use:   "default [GIB|none] --coordinator URL [--yes] [--dry-run]",
		Short: "Read or set the default L2 limit of salts without a quota (/quota/config)",
		Long: `Without an argument, show the default L2 limit of salts without a quota
(GET /quota/config). With one, set it (PUT): GIB (0..1048576), or none for no
default (salts without a quota are then exempt from eviction). 0 makes every
salt without a quota evictable. --yes, --dry-run and --verify go with a value
only.`,
		Example: "  lmc quota default --coordinator http://localhost:9300\n  lmc quota default 0 --coordinator http://localhost:9300 --yes\n  lmc quota default none --coordinator http://localhost:9300 --yes",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat(quotaFormats)
			if err != nil {
				return err
			}
			var limit *float64
			if len(args) == 1 && !strings.EqualFold(args[0], "none") {
				l, err := parseGiB("GIB", args[0])
				if err != nil {
					return err
				}
				limit = &l
			}
			q.writes = len(args) == 1
			if !q.writes {
				if err := refuse(f, notContext, "applies to setting the default (lmc quota default GIB|none): without a value quota default only reads it", "dry-run", "verify", "yes"); err != nil {
					return err
				}
			}
			c, err := q.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			now, err := c.QuotaDefault(ctx)
			if err != nil {
				return f.coordinatorErr(c, err)
			}
			v := quotaView{Operation: "default", Tier: "l2", Default: now, Warnings: now.Warnings}
			if len(args) == 0 {
				return q.write(c, fm, v, defaultText(now)+"\n", [][]string{{defaultValue(now.DefaultLimitGB)}})
			}
			v.Operation = "set-default"
			if limit != nil && *limit == 0 {
				v.Warning = "a default of 0 makes every salt without a quota evictable on the next eviction cycle"
			}
			if q.dryRun {
				return q.writeDryRun(c, fm, v, fmt.Sprintf(`PUT %s/quota/config {"default_limit_gb": %s}`, c.BaseURL(), strings.Replace(defaultValue(limit), "none", "null", 1)),
					fmt.Sprintf("set the default L2 limit to %s (now: %s)", defaultValue(limit), defaultText(now)))
			}
			if err := q.confirmWrite(ctx, c, fmt.Sprintf("Set the default L2 limit of salts without a quota to %s (now: %s)", defaultValue(limit), defaultText(now))); err != nil {
				return err
			}
			r, err := c.SetQuotaDefault(ctx, limit)
			if err != nil {
				return f.coordinatorErr(c, err)
			}
			v.Default = r
			text := "✓ " + defaultText(r) + "\n" + warnLine(v.Warning)
			if q.verify {
				back, err := c.QuotaDefault(ctx)
				if err != nil {
					return f.coordinatorErr(c, err)
				}
				if (back.DefaultLimitGB == nil) != (limit == nil) || limit != nil && !sameGiB(*back.DefaultLimitGB, *limit) {
					return &ExitError{Code: ExitFailed, Err: fmt.Errorf("LMCache coordinator %s: the default limit reads back as %s, not %s", c.BaseURL(), defaultValue(back.DefaultLimitGB), defaultValue(limit))}
				}
				text += "verify: " + defaultText(back) + "\n"
			}
			return q.write(c, fm, v, text, [][]string{{defaultValue(r.DefaultLimitGB)}})
		},
	}
	q.flags(cmd, false, true)
	return cmd
}

func defaultValue(p *float64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
