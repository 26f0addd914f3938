package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"lmc/internal/commands/printers"
	"lmc/internal/tokenize/lmcachekey"
	"lmc/internal/transport"
)

// NewCmdConfig builds `lmc config`.
func NewCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: shortFor("config"),
		Long: `Contexts live in ~/.config/lmc/config.yaml ($XDG_CONFIG_HOME/lmc, or $LMC_CONFIG).
Each context is a set of flag values — master, admin, controller, model, hash,
hash-seed, chunk-size, dtype, world-size, timeout, header, ... — applied when
the flag is not given on the command line or as LMC_<FLAG>. Select one with
--context NAME, LMC_CONTEXT, or 'lmc config use-context NAME'.

Precedence: flags > LMC_* environment > context > LMCache config > defaults.`,
		Example: `  lmc config set-context prod --master 10.0.0.1:50051 --admin http://10.0.0.1:9003 --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0
  lmc config use-context prod
  lmc config get-contexts
  lmc config view --resolved`,
	}
	cmd.AddCommand(newCmdConfigView(f), newCmdGetContexts(f), newCmdUseContext(f), newCmdSetContext(f),
		newCmdCurrentContext(f), newCmdDeleteContext(f), newCmdConfigUnset(f))
	return cmd
}

func newCmdGetContexts(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "get-contexts",
		Short:   "List contexts",
		Example: "  lmc config get-contexts -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			cfg := f.Config
			names := cfg.contextNames()
			if fm == printers.JSON {
				type ctxView struct {
					Name     string         `json:"name"`
					Current  bool           `json:"current"`
					Settings map[string]any `json:"settings"`
				}
				out := struct {
					Path     string    `json:"path"`
					Contexts []ctxView `json:"contexts"`
				}{Path: cfg.path, Contexts: []ctxView{}}
				for _, n := range names {
					out.Contexts = append(out.Contexts, ctxView{n, n == cfg.CurrentContext, redactSettings(cfg.Contexts[n])})
				}
				return printers.WriteJSON(f.Out(), out)
			}
			var rows [][]string
			for _, n := range names {
				cur := ""
				if n == cfg.CurrentContext {
					cur = "*"
				}
				c := cfg.Contexts[n]
				get := func(k string) string {
					if v, ok := c[k]; ok {
						return fmt.Sprint(v)
					}
					return ""
				}
				rows = append(rows, []string{cur, n, get("master"), get("admin"), get("controller"), get("model")})
			}
			if fm == printers.Plain {
				return printers.WritePlain(f.Out(), rows)
			}
			if len(rows) == 0 {
				fmt.Fprintf(f.IOStreams.ErrOut, "no contexts in %s; create one with 'lmc config set-context NAME --master ...'\n", cfg.path)
				return nil
			}
			return printers.WriteTable(f.Out(), styledHeader(f.IOStreams.Styles(), []string{"CURRENT", "NAME", "MASTER", "ADMIN", "CONTROLLER", "MODEL"}), rows)
		},
	}
}

// newCmdOnContext builds a config subcommand on one existing context NAME
// (completed from the config file): run gets the config and the name once
// the context is known to be there.
func newCmdOnContext(f *Factory, use, short, example string, run func(cfg *ConfigFile, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Example:           example,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := f.Config
			if err := cfg.haveContext(args[0]); err != nil {
				return err
			}
			return run(cfg, args[0])
		},
	}
}

func newCmdUseContext(f *Factory) *cobra.Command {
	return newCmdOnContext(f, "use-context NAME", "Make a context the default", "  lmc config use-context prod",
		func(cfg *ConfigFile, name string) error {
			cfg.CurrentContext = name
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "current context is now %q\n", name)
			return nil
		})
}

func newCmdCurrentContext(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "current-context",
		Short:   "Print the current context's name (exit 1 when none is set)",
		Example: "  lmc config current-context",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Config.CurrentContext == "" {
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("no current context in %s ('lmc config use-context NAME' sets one)", f.Config.path)}
			}
			_, err := fmt.Fprintln(f.Out(), f.Config.CurrentContext)
			return err
		},
	}
}

func newCmdDeleteContext(f *Factory) *cobra.Command {
	return newCmdOnContext(f, "delete-context NAME", "Delete a context (and unset it if it is the current one)", "  lmc config delete-context staging",
		func(cfg *ConfigFile, name string) error {
			delete(cfg.Contexts, name)
			wasCurrent := cfg.CurrentContext == name
			if wasCurrent {
				cfg.CurrentContext = ""
			}
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "context %q deleted from %s\n", name, cfg.path)
			if wasCurrent {
				fmt.Fprintln(f.IOStreams.ErrOut, "it was the current context: now none is")
			}
			return nil
		})
}

func newCmdConfigUnset(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "unset current-context",
		Short:   "Go back to no current context",
		Example: "  lmc config unset current-context",
		Args:    cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"current-context"}, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "current-context" {
				return &UsageError{Err: fmt.Errorf("unset %s: only current-context can be unset (remove a context's setting with 'lmc config set-context NAME --unset SETTING')", args[0])}
			}
			cfg := f.Config
			if cfg.CurrentContext == "" {
				fmt.Fprintln(f.IOStreams.ErrOut, "no current context was set")
				return nil
			}
			old := cfg.CurrentContext
			cfg.CurrentContext = ""
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "current context %q unset: commands use no context now\n", old)
			return nil
		},
	}
}

// haveContext is nil when context name exists; else the usage error names
// the contexts there are.
func (cfg *ConfigFile) haveContext(name string) error {
	if _, ok := cfg.Contexts[name]; ok {
		return nil
	}
	names := cfg.contextNames()
	msg := fmt.Sprintf("no context %q in %s", name, cfg.path)
	if s := closest(name, names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	} else if len(names) > 0 {
		msg += " (contexts: " + strings.Join(names, ", ") + ")"
	}
	return &UsageError{Err: errors.New(msg)}
}

// contextGlobalFlags are the global flags a context may hold (besides every
// flag of set-context itself); output, colour, verbosity, --jq and
// --context are per run.
var contextGlobalFlags = []string{"timeout", "header", "cacert", "insecure", "cert", "key"}

// isContextSetting reports whether a context may hold flag name.
func isContextSetting(cmd *cobra.Command, name string) bool {
	if name == "unset" || name == "help" {
		return false
	}
	return cmd.LocalNonPersistentFlags().Lookup(name) != nil || slices.Contains(contextGlobalFlags, name)
}

// contextSettings lists the settings a context may hold.
func contextSettings(cmd *cobra.Command) []string {
	var out []string
	cmd.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if isContextSetting(cmd, fl.Name) {
			out = append(out, fl.Name)
		}
	})
	return append(out, contextGlobalFlags...)
}

// validateContext checks the settings set-context is given with the rules
// the flags follow, so a bad value fails when it is saved, not later in
// another command. (Numeric ranges are checked before any command runs.)
func (f *Factory) validateContext(ctx context.Context, name string, kf KeyFlags, b BackendFlags, headers []string) error {
	bad := func(flag string, err error) error {
		return &UsageError{Err: fmt.Errorf("context %q: --%s: %v", name, flag, err)}
	}
	if m := b.Master; m != "" {
		if strings.Contains(m, "://") && !strings.HasPrefix(m, "mooncakestore://") {
			return bad("master", fmt.Errorf("%q: the master's RPC address is HOST:PORT with no scheme (for the HTTP admin API use --admin)", m))
		}
		if _, err := normalizeMaster(m); err != nil {
			return bad("master", err)
		}
	}
	for flag, v := range map[string]string{"admin": b.Admin, "controller": b.Controller} {
		if v != "" {
			if _, err := transport.ParseURL(v); err != nil {
				return bad(flag, err)
			}
		}
	}
	for _, h := range headers {
		if _, err := transport.ParseHeader(h); err != nil {
			return bad("header", err)
		}
	}
	// The key settings through the same resolution as the commands.
	if kf.Model == "" {
		kf.Model = "(any)"
	}
	if kf.HashSeed != "" {
		if _, err := lmcachekey.ParseSeed(kf.HashSeed); err != nil {
			return bad("hash-seed", err)
		}
	}
	if _, err := f.resolveKeysLenient(ctx, &kf, FlagSources{}); err != nil {
		return &UsageError{Err: fmt.Errorf("context %q: %v", name, err)}
	}
	return nil
}

func newCmdSetContext(f *Factory) *cobra.Command {
	var unset []string
	var kf KeyFlags
	var bf BackendFlags
	cmd := &cobra.Command{
		Use:   "set-context NAME [--master A] [--controller URL] [--model M] [--hash H] [--hash-seed S] ...",
		Short: "Create or update a context from flags",
		Example: `  lmc config set-context prod --master 10.0.0.1:50051 --model meta-llama/Llama-3.1-8B-Instruct --hash sha256_cbor --hash-seed 0
  lmc config set-context prod --unset hash-seed`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := f.Config
			name := args[0]
			c := cfg.Contexts[name]
			created := c == nil
			if c == nil {
				c = map[string]any{}
			}
			settings := contextSettings(cmd)
			for _, u := range unset {
				if !slices.Contains(settings, u) {
					msg := fmt.Sprintf("--unset %s: no such setting", u)
					if s := closest(u, settings); len(s) > 0 {
						msg += "; did you mean " + strings.Join(s, " or ") + "?"
					}
					return &UsageError{Err: errors.New(msg)}
				}
				if _, ok := c[u]; !ok {
					return &UsageError{Err: fmt.Errorf("--unset %s: context %q does not set it", u, name)}
				}
			}
			n := 0
			cmd.Flags().Visit(func(fl *pflag.Flag) {
				if !isContextSetting(cmd, fl.Name) || f.EnvSources[fl.Name] != "" {
					return
				}

				if sv, ok := fl.Value.(pflag.SliceValue); ok {
					c[fl.Name] = sv.GetSlice()
				} else {
					c[fl.Name] = fl.Value.String()
				}
				n++
			})
			for _, u := range unset {
				delete(c, u)
				n++
			}
			if n == 0 {
				return &UsageError{Err: errors.New("nothing to set: give settings as flags, e.g. --master HOST:PORT --model M")}
			}
			if err := f.validateContext(cmd.Context(), name, kf, bf, f.Transport.Headers); err != nil {
				return err
			}
			cfg.Contexts[name] = c
			if err := cfg.save(); err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "created"
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "context %q %s in %s\n", name, verb, cfg.path)
			if cfg.CurrentContext != name {
				fmt.Fprintf(f.IOStreams.ErrOut, "use it with --context %s, or make it the default: lmc config use-context %s\n", name, name)
			}
			return nil

		},
	}
	var ef EngineFlags
	addKeyFlags(cmd, &kf)
	addEngineFlags(cmd, &ef, scopeContext)
	addStoreFlags(cmd, &bf)
	addControllerFlag(cmd, &bf)
	addCoordinatorFlag(cmd, &bf)
	cmd.Flags().StringSliceVar(&unset, "unset", nil, "remove these settings from the context")
	return cmd
}

type resolvedSetting struct {
	Setting string `json:"setting"`
	Value   string `json:"value"`
	Source  string `json:"source"`
}

func newCmdConfigView(f *Factory) *cobra.Command {
	var resolved bool
	var kf KeyFlags
	var bf BackendFlags
	cmd := &cobra.Command{
		Use:   "view [--resolved]",
		Short: "Show the config file, or every effective setting and where it came from",
		Long: `Without --resolved: the config file (header values redacted).
With --resolved: every setting lmc would use now — from flags given here,
LMC_* variables, the selected context, the LMCache config, or defaults — and
its source.`,
		Example: "  lmc config view\n  lmc config view --resolved --context prod -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			cfg := f.Config
			if !resolved {
				red := &ConfigFile{CurrentContext: cfg.CurrentContext, Contexts: map[string]map[string]any{}}
				for n, c := range cfg.Contexts {
					red.Contexts[n] = redactSettings(c)
				}
				if fm == printers.JSON {
					return printers.WriteJSON(f.Out(), map[string]any{"path": cfg.path, "current-context": red.CurrentContext, "contexts": red.Contexts})
				}
				b, err := yaml.Marshal(red)
				if err != nil {
					return err
				}
				fmt.Fprintf(f.IOStreams.ErrOut, "# %s\n", cfg.path)
				_, err = f.Out().Write(b)
				return err
			}
			var rows []resolvedSetting
			add := func(name, value, source string) {
				rows = append(rows, resolvedSetting{name, value, source})
			}
			add("context", orString(f.ActiveContext, "none"), "")
			for _, name := range []string{"master", "admin", "controller", "coordinator", "server", "tenant", "timeout"} {
				add(name, transport.RedactRaw(flagString(cmd, name)), orString(f.Given.Source(name), "default"))
			}
			// key parameters through the same resolution as the commands
			kf.Model = orString(kf.Model, "(none)")
			res, err := f.resolveKeysLenient(cmd.Context(), &kf, f.Given)
			if err != nil {
				return err
			}
			p := res.Params
			for _, s := range []struct{ name, value, key string }{
				{"model", p.Model, "model"}, {"hash", string(p.Algorithm), "hash_algorithm"}, {"chunk-size", fmt.Sprint(p.ChunkSize), "chunk_size"},
				{"save-unfull-chunk", fmt.Sprint(p.SaveUnfullChunk), "save_unfull_chunk"}, {"key-schema", string(p.Schema), "key_schema"},
			} {
				add(s.name, s.value, orString(res.Source[s.key], "default"))
			}
			add("none-hash", res.NoneHashText, res.Params.NoneHashSource)
			for _, name := range []string{"world-size", "worker-id", "dtype", "python-version"} {
				src := f.Given.Source(name)
				if s := res.Source[strings.ReplaceAll(name, "-", "_")]; s != "" {
					src = s // --server's
				}
				add(name, cmd.Flags().Lookup(name).Value.String(), orString(src, "default"))
			}
			if addr, src := res.Config.MasterAddress(); addr != "" && bf.Master == "" {
				add("master (LMCache config)", addr, src)
			}
			if fm == printers.JSON {
				return printers.WriteJSON(f.Out(), map[string]any{"settings": rows})
			}
			var tr [][]string
			for _, r := range rows {
				tr = append(tr, []string{r.Setting, r.Value, r.Source})
			}
			if fm == printers.Plain {
				return printers.WritePlain(f.Out(), tr)
			}
			return printers.WriteTable(f.Out(), styledHeader(f.IOStreams.Styles(), []string{"SETTING", "VALUE", "SOURCE"}), tr)
		},
	}
	cmd.Flags().BoolVar(&resolved, "resolved", false, "show effective settings and their sources")
	addKeyFlags(cmd, &kf)
	addStoreFlags(cmd, &bf)
	addControllerFlag(cmd, &bf)
	addCoordinatorFlag(cmd, &bf)
	return cmd
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
