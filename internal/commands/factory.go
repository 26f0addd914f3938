package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"lmc/internal/commands/iostreams"
	"lmc/internal/commands/printers"
	"lmc/internal/phasetime"
	"lmc/internal/transport"
)

// Factory carries what commands share. It is built fresh for every Main
// call: lmc has no package-level mutable state.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Build     BuildInfo
	// Args is the command line as given (for hints that repeat it).
	Args []string

	// Global flag values, filled by the root command.
	Output  string
	NoColor bool
	Timeout time.Duration
	Verbose bool

	// Times sums where the command's time goes (--verbose prints it).
	Times *phasetime.Recorder

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

	// coord keeps the coordinator clients and MP server answers of this
	// run (coordinator.go).
	coord *coordState
}

// Getenv reads the environment (through IOStreams, so tests control it).
func (f *Factory) Getenv(k string) string { return f.IOStreams.Getenv(k) }

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

// usageErr is a usage error about flag's value, naming where the value came
// from when it was not the command line ("from context prod", "from env
// LMC_HASH"): a bad value in a context is found in that context.
func (s FlagSources) usageErr(flag string, err error) error {
	if src := s.Source(flag); src != "" && src != "flag --"+flag {
		return &UsageError{Err: fmt.Errorf("--%s (from %s): %w", flag, src, err)}
	}
	return &UsageError{Err: err}
}

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
