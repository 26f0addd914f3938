package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/transport"
)

// Factory carries what commands share. It is built fresh for every Main
// call: lmc has no package-level mutable state.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Build     BuildInfo

	// Global flag values, filled by the root command.
	Output  string
	NoColor bool
	Timeout time.Duration
	Verbose bool

	// EnvSources maps a flag name to the LMC_* variable or context that
	// set it; Given every flag set by any layer (command line, LMC_*,
	// context) to where it came from. Both are filled before a command
	// runs.
	EnvSources map[string]string
	Given      FlagSources

	// ContextName is --context; ActiveContext the context applied; Config
	// the loaded config file.
	ContextName   string
	ActiveContext string
	Config        *ConfigFile

	// Transport is --header, --cacert, --insecure, --cert, --key;
	// transport the HTTP transport built from them on first use.
	Transport TransportFlags
	transport *transport.Transport

	// JQ is --jq; jq the active filter.
	JQ string
	jq *jqFilter
}

// Getenv reads the environment (through IOStreams, so tests control it).
func (f *Factory) Getenv(k string) string { return f.IOStreams.Getenv(k) }

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "lmc <command> [flags]",
		Short: "Inspect and manage LMCache KV caches on Mooncake stores and LMCache controllers",
		Long: `lmc answers "how much of this prompt is cached, where, and why not?" for LMCache
on a Mooncake store or behind an LMCache cache controller, and acts on it.

It reproduces LMCache's chunk keys byte for byte (every hash algorithm, seed
and key format), so it can tell a key mismatch from a real miss.`,
		Example: `  # see the main job on a local sandbox
  lmc demo

  # how much of a prompt a Mooncake store holds, chunk by chunk
  lmc lookup --master 10.0.0.1:50051 --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json

  # why it does not hit (seed, hash, key format, chunk size, dtype, ranks)
  lmc doctor --admin http://10.0.0.1:9003 --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json

  # the keys LMCache computes, offline, and every input to them
  lmc keys --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 prompt.json
  lmc explain --model meta-llama/Llama-3.1-8B-Instruct --hash-seed 0 --chunk 0 prompt.json

  # the LMCache controller's view, and acting on it
  lmc lookup --controller http://localhost:9000 prompt.json
  lmc pin --controller http://localhost:9000 --instance inst1 prompt.json`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       f.Build.Version,
	}
	root.SetUsageTemplate(usageTemplate)
	root.SetVersionTemplate(fmt.Sprintf("lmc %s (commit %s, built %s)\n", f.Build.Version, f.Build.Commit, f.Build.Date))
	root.CompletionOptions.SetDefaultShellCompDirective(cobra.ShellCompDirectiveNoFileComp)
	// cobra writes help, usage and version text here; commands write
	// their data through f.Out() (the --jq buffer when --jq is given), so
	// --jq never filters help.
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetIn(f.IOStreams.In)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &UsageError{Err: err} })

	pf := root.PersistentFlags()
	pf.StringVarP(&f.Output, "output", "o", "", "output format: "+strings.Join(printers.Names(printers.All), "|")+" (default: table on a terminal, plain when piped)")
	pf.BoolVar(&f.NoColor, "no-color", false, "disable colour (also NO_COLOR, TERM=dumb, or stdout not a terminal)")
	pf.DurationVar(&f.Timeout, "timeout", 10*time.Second, "deadline for each backend request (controller reads are retried up to twice with backoff)")
	pf.BoolVar(&f.Verbose, "verbose", false, "log backend requests to stderr (credentials redacted)")
	addTransportFlags(root, &f.Transport)
	pf.StringVar(&f.JQ, "jq", "", "filter JSON output with a jq expression (implies -o json), e.g. --jq .hit_tokens")
	pf.StringVar(&f.ContextName, "context", "", "use this context from ~/.config/lmc/config.yaml (also LMC_CONTEXT)")
	_ = root.RegisterFlagCompletionFunc("context", completeContexts(f))
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(printers.Names(printers.All), cobra.ShellCompDirectiveNoFileComp))

	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := f.bindEnv(cmd); err != nil {
			return err
		}
		if err := f.applyContext(cmd); err != nil {
			return err
		}
		f.Given = givenFlags(cmd, f.EnvSources)
		if err := f.setupJQ(); err != nil {
			return err
		}
		if f.NoColor {
			f.IOStreams.SetColorEnabled(false)
		}
		return nil
	}

	root.AddCommand(
		NewCmdKeys(f),
		NewCmdExplain(f),
		NewCmdLookup(f),
		NewCmdDoctor(f),
		NewCmdHealth(f),
		NewCmdMove(f),
		NewCmdPin(f),
		NewCmdClear(f),
		NewCmdCompress(f, false),
		NewCmdCompress(f, true),
		NewCmdWorkers(f),
		NewCmdStats(f),
		NewCmdSandbox(f),
		NewCmdDemo(f),
		NewCmdConfig(f),
		newCmdGenerate(f),
		NewCmdVersion(f),
	)
	for _, t := range helpTopics() {
		root.AddCommand(t)
	}
	return root
}

// EnvName is the LMC_* variable for a flag: LMC_ + upper snake case.
func EnvName(flag string) string {
	return "LMC_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv sets every flag not given on the command line from its LMC_*
// variable (flags > environment > config > defaults).
func (f *Factory) bindEnv(cmd *cobra.Command) error {
	f.EnvSources = map[string]string{}
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" {
			return
		}
		name := EnvName(fl.Name)
		v := f.Getenv(name)
		if v == "" {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			if e := sv.Replace(splitList(v)); e != nil {
				err = &UsageError{Err: fmt.Errorf("%s=%q: %v", name, v, e)}
			}
			fl.Changed = true
		} else if e := cmd.Flags().Set(fl.Name, v); e != nil {
			err = &UsageError{Err: fmt.Errorf("%s=%q: %v", name, v, e)}
		}
		f.EnvSources[fl.Name] = "env " + name
	})
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FlagSources maps each flag that was given — on the command line, as an
// LMC_* variable or by the context — to where its value came from ("flag
// --hash", "env LMC_HASH", "context prod"). Flags left at their defaults
// are absent. It is how code outside the cobra constructors asks "did the
// user set this?".
type FlagSources map[string]string

// Has reports whether the flag was given.
func (s FlagSources) Has(name string) bool { _, ok := s[name]; return ok }

// Source is where the flag's value came from, "" when not given.
func (s FlagSources) Source(name string) string { return s[name] }

// givenFlags collects the flags set by any layer: bindEnv and applyContext
// mark what they set as changed and record it in env.
func givenFlags(cmd *cobra.Command, env map[string]string) FlagSources {
	out := FlagSources{}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if src, ok := env[fl.Name]; ok {
			out[fl.Name] = src
		} else {
			out[fl.Name] = "flag --" + fl.Name
		}
	})
	return out
}

// outputFormat validates -o for a command.
func (f *Factory) outputFormat(supported []printers.Format) (printers.Format, error) {
	fm, err := printers.Parse(f.Output, supported)
	if err != nil {
		return "", &UsageError{Err: err}
	}
	return fm.Resolve(f.IOStreams.IsStdoutTTY()), nil
}
