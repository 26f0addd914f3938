package commands

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"lmc/internal/commands/printers"
	"lmc/internal/transport"
)

// NewCmdConfig builds `lmc config`.
func NewCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Named contexts: masters, controllers and key parameters you use often",
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
	cmd.AddCommand(newCmdConfigView(f), newCmdGetContexts(f), newCmdUseContext(f), newCmdSetContext(f))
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
			names := make([]string, 0, len(cfg.Contexts))
			for n := range cfg.Contexts {
				names = append(names, n)
			}
			sort.Strings(names)
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

func newCmdUseContext(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:               "use-context NAME",
		Short:             "Make a context the default",
		Example:           "  lmc config use-context prod",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeContexts(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := f.Config
			if _, ok := cfg.Contexts[args[0]]; !ok {
				return &UsageError{Err: fmt.Errorf("no context %q in %s", args[0], cfg.path)}
			}
			cfg.CurrentContext = args[0]
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "current context is now %q\n", args[0])
			return nil
		},
	}
}

// contextFlags are the flags set-context accepts (the settings contexts hold).
var contextFlagNames = []string{"master", "admin", "controller", "tenant", "model", "hash", "hash-seed", "none-hash", "chunk-size", "save-unfull-chunk", "key-schema", "world-size", "worker-id", "dtype", "tag", "mla", "legacy-64bit", "python-version", "lmcache-config", "cache-salt", "coordinator", "server", "timeout", "header", "cacert", "insecure", "cert", "key"}

func newCmdSetContext(f *Factory) *cobra.Command {
	var unset []string
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
			if c == nil {
				c = map[string]any{}
			}
			n := 0
			cmd.Flags().Visit(func(fl *pflag.Flag) {
				if !slices.Contains(contextFlagNames, fl.Name) || f.EnvSources[fl.Name] != "" {
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
			cfg.Contexts[name] = c
			if cfg.CurrentContext == "" {
				cfg.CurrentContext = name
			}
			if err := cfg.save(); err != nil {
				return err
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "context %q saved in %s\n", name, cfg.path)
			return nil
		},
	}
	var kf KeyFlags
	var bf BackendFlags
	addKeyFlags(cmd, &kf)
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
			ctxSrc := "none"
			if f.ActiveContext != "" {
				ctxSrc = f.ActiveContext
			}
			add("context", ctxSrc, "")
			for _, name := range []string{"master", "admin", "controller", "coordinator", "server", "tenant", "timeout"} {
				src := f.Given.Source(name)
				if src == "" {
					src = "default"
				}
				add(name, transport.RedactRaw(flagString(cmd, name)), src)
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
				src := res.Source[s.key]
				if src == "" {
					src = "default"
				}
				add(s.name, s.value, src)
			}
			add("none-hash", res.NoneHashText, res.Params.NoneHashSource)
			for _, name := range []string{"world-size", "worker-id", "dtype", "python-version"} {
				src := f.Given.Source(name)
				if s := res.Source[strings.ReplaceAll(name, "-", "_")]; s != "" {
					src = s // --server's
				}
				if src == "" {
					src = "default"
				}
				add(name, cmd.Flags().Lookup(name).Value.String(), src)
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
