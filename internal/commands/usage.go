package commands

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/coordinatorclient"
	"lmc/internal/safetext"
)

type usageView struct {
	Source     string           `json:"source"`
	Backend    string           `json:"backend"`
	Generation *coordGeneration `json:"generation"`
	// Instances are the MP servers' private compartments; SharedModules the
	// fleet-shared pools, counted once.
	Instances     []coordinatorclient.InstanceUsage `json:"instances"`
	SharedModules []coordinatorclient.ModuleUsage   `json:"shared_modules"`
	Warnings      []string                          `json:"warnings,omitempty"`
}

// NewCmdUsage builds `lmc usage`.
func NewCmdUsage(f *Factory) *cobra.Command {
	var b BackendFlags
	var instance string
	cmd := &cobra.Command{
		Use:   "usage --coordinator URL [--instance I]",
		Short: shortFor("usage"),
		Long: `Show the memory the LMCache MP coordinator accounts for (GET /instances/usage,
or /instances/{id}/usage with --instance): per MP server its private
compartments (L1 per medium, each private L2 adapter) and the fleet-shared
pools (a shared S3 bucket or CXL pool, counted once), bytes used against the
capacity each server declared. A capacity that was not declared (0) shows as
"--" and its share as "unknown": unknown is never 0. Usage comes from the
servers' cache events, so it needs --coordinator-event-reporting on them.

JSON (-o json): {"source": "coordinator", "backend", "generation",
"instances": [{"instance_id", "registered", "declared_capacity", "modules":
[{"tier", "backend", "shared", "used_bytes", "capacity_bytes",
"usage_ratio"}]}], "shared_modules": [...]}, with usage_ratio null when
unknown.

Exit codes: 0, 1 when the coordinator predates fleet usage (2026-08-19) or
does not know the instance, 3 unreachable.`,
		Example: `  lmc usage --coordinator http://localhost:9300
  lmc usage --coordinator http://localhost:9300 --instance server-1 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			if _, err := f.backendSet(&b, coordinatorBackend, coordinatorBackend); err != nil {
				return err
			}
			c, err := f.coordinatorClient(b.Coordinator)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			v := usageView{Source: "coordinator", Backend: c.BaseURL(), Instances: []coordinatorclient.InstanceUsage{}, SharedModules: []coordinatorclient.ModuleUsage{}}
			if instance != "" {
				u, err := c.InstanceUsage(ctx, instance)
				if err != nil {
					return f.coordinatorErr(c, err)
				}
				v.Instances, v.Warnings = append(v.Instances, *u), u.Warnings
			} else {
				u, err := c.FleetUsage(ctx)
				if err != nil {
					return f.coordinatorErr(c, err)
				}
				v.Instances, v.SharedModules, v.Warnings = u.Instances, u.SharedModules, u.Warnings
				if v.Instances == nil {
					v.Instances = []coordinatorclient.InstanceUsage{}
				}
				if v.SharedModules == nil {
					v.SharedModules = []coordinatorclient.ModuleUsage{}
				}
			}
			for i := range v.Instances {
				if v.Instances[i].Modules == nil {
					v.Instances[i].Modules = []coordinatorclient.ModuleUsage{}
				}
			}
			v.Generation = generationOf(c)
			f.noteGeneration(c)
			warn(f.IOStreams, v.Warnings)
			if fm == printers.JSON {
				return printers.WriteJSON(f.Out(), v)
			}
			return writeUsage(f, fm, v)
		},
	}
	addCoordinatorFlag(cmd, &b)
	cmd.Flags().StringVar(&instance, "instance", "", "only this MP server instance")
	return cmd
}

func writeUsage(f *Factory, fm printers.Format, v usageView) error {
	plain := fm == printers.Plain
	row := func(inst, reg string, m coordinatorclient.ModuleUsage) []string {
		used, capa, share := printers.Bytes(m.UsedBytes), "--", "unknown"
		if plain {
			used, capa, share = strconv.FormatInt(m.UsedBytes, 10), strconv.FormatInt(m.CapacityBytes, 10), "unknown"
		}
		if m.CapacityBytes > 0 && !plain {
			capa = printers.Bytes(m.CapacityBytes)
		}
		if m.UsageRatio != nil {
			share = fmt.Sprintf("%.1f %%", 100**m.UsageRatio)
			if plain {
				share = strconv.FormatFloat(*m.UsageRatio, 'g', -1, 64)
			}
		}
		return []string{inst, reg, m.Tier, m.Backend, used, capa, share}
	}
	var rows [][]string
	for _, in := range v.Instances {
		reg := "yes"
		if !in.Registered {
			reg = "no"
		}
		if len(in.Modules) == 0 {
			rows = append(rows, []string{in.InstanceID, reg, "-", "-", "0", "--", "unknown"})
		}
		for _, m := range in.Modules {
			rows = append(rows, row(in.InstanceID, reg, m))
		}
	}
	for _, m := range v.SharedModules {
		rows = append(rows, row("(shared)", "-", m))
	}
	if plain {
		return printers.WritePlain(f.Out(), rows)
	}
	out := safetext.NewWriter(f.Out())
	if len(rows) > 0 {
		if err := printers.WriteTable(out, styledHeader(f.IOStreams.Styles(), []string{"INSTANCE", "REGISTERED", "TIER", "BACKEND", "USED", "CAPACITY", "USAGE"}), rows); err != nil {
			return err
		}
	}
	var used int64
	for _, in := range v.Instances {
		for _, m := range in.Modules {
			used += m.UsedBytes
		}
	}
	for _, m := range v.SharedModules {
		used += m.UsedBytes
	}
	_, err := fmt.Fprintf(out, "%s used on %s and %s (capacity -- and usage unknown: not declared)\n", printers.Bytes(used),
		iostreams.Plural(len(v.Instances), "MP server"), iostreams.Plural(len(v.SharedModules), "shared pool"))
	return err
}
