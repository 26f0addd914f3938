package commands

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/phasetime"
	"lmc/internal/transport"
)

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := newRoot(f)
	for _, c := range topCommands() {
		root.AddCommand(c.build(f))
	}
	for _, t := range helpTopics() {
		root.AddCommand(t)
	}
	strictTree(root)
	return root
}

// topCommand is one of root's commands: the names it answers to (its name,
// then its aliases; TestTopCommandsTable holds them to the built command)
// and its constructor.
type topCommand struct {
	names  []string
	build  func(*Factory) *cobra.Command
	hidden bool // as the built command is (help lists it not)
}

// topCommands are root's commands, in the order help lists them (a
// function, not a variable: demo runs Main, which builds the tree).
func topCommands() []topCommand {
	return []topCommand{
		{names: []string{"keys"}, build: NewCmdKeys},
		{names: []string{"explain"}, build: NewCmdExplain},
		{names: []string{"lookup"}, build: NewCmdLookup},
		{names: []string{"doctor"}, build: NewCmdDoctor},
		{names: []string{"health"}, build: NewCmdHealth},
		{names: []string{"move", "copy"}, build: NewCmdMove},
		{names: []string{"pin"}, build: NewCmdPin},
		{names: []string{"clear"}, build: NewCmdClear},
		{names: []string{"prefetch"}, build: NewCmdPrefetch},
		{names: []string{"task"}, build: NewCmdTask},
		{names: []string{"store"}, build: NewCmdStore},
		{names: []string{"compress"}, build: func(f *Factory) *cobra.Command { return NewCmdCompress(f, false) }},
		{names: []string{"decompress"}, build: func(f *Factory) *cobra.Command { return NewCmdCompress(f, true) }},
		{names: []string{"workers"}, build: NewCmdWorkers},
		{names: []string{"stats"}, build: NewCmdStats},
		{names: []string{"usage"}, build: NewCmdUsage},
		{names: []string{"quota"}, build: NewCmdQuota},
		{names: []string{"sandbox"}, build: NewCmdSandbox},
		{names: []string{"demo"}, build: NewCmdDemo},
		{names: []string{"config"}, build: NewCmdConfig},
		{names: []string{"__generate"}, build: newCmdGenerate, hidden: true},
		{names: []string{"version"}, build: NewCmdVersion},
	}
}

// NewCmdRootFor builds the part of the tree that args can reach: root and
// the one command they name; root alone for --version; root with stand-ins
// that carry each command's name and summary for root's own help (lmc,
// lmc help, lmc --help). Building all of it (some 600 flags) is most of
// lmc's own start-up, and a command never sees its siblings. Anything else
// (help on a command, completion, a name that is not a command, a root
// flag lmc cannot read) gets the whole tree, so help, suggestions and
// completion see every command.
func NewCmdRootFor(f *Factory, args []string) *cobra.Command {
	root := newRoot(f)
	name, ok := commandName(root, args)
	if !ok {
		return NewCmdRoot(f)
	}
	switch {
	case name == "" && !versionOnly(args), name == "help" && helpAlone(args):
		// Root's help lists each command's name and summary: stand-ins
		// carry them.
		for _, c := range topCommands() {
			root.AddCommand(&cobra.Command{Use: c.names[0], Short: shortFor(c.names[0]), Hidden: c.hidden, Run: func(*cobra.Command, []string) {}})
		}
		for _, t := range helpTopics() {
			root.AddCommand(t)
		}
	case name == "":
		// --version: root alone.
	default:
		var build func(*Factory) *cobra.Command
		for _, c := range topCommands() {
			if slices.Contains(c.names, name) {
				build = c.build
			}
		}
		if build == nil {
			return NewCmdRoot(f)
		}
		root.AddCommand(build(f))
	}
	strictTree(root)
	return root
}

// helpAlone: the arguments name no command after "help" (lmc help [flags]).
func helpAlone(args []string) bool {
	seen := false
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-"):
		case !seen && a == "help":
			seen = true
		default:
			if seen {
				return false
			}
		}
	}
	return true
}

// commandName is the first argument that is not a root flag or its value
// ("" when there is none); ok is false when an argument is a flag root
// does not define (it may take a value: which argument names the command
// is then unknown).
func commandName(root *cobra.Command, args []string) (name string, ok bool) {
	pf := root.PersistentFlags()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return "", false
		case strings.HasPrefix(a, "--"):
			n, _, hasValue := strings.Cut(a[2:], "=")
			fl := pf.Lookup(n)
			if fl == nil {
				if n == "version" || n == "help" {
					continue
				}
				return "", false
			}
			if !hasValue && fl.NoOptDefVal == "" {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			fl := pf.ShorthandLookup(a[1:2])
			if fl == nil {
				if a == "-v" || a == "-h" {
					continue
				}
				return "", false
			}
			if len(a) == 2 && fl.NoOptDefVal == "" {
				i++
			}
		default:
			return a, true
		}
	}
	return "", true
}

// versionOnly: the arguments ask for the version and nothing else that
// needs the tree (help, or no flag at all, lists the commands).
func versionOnly(args []string) bool {
	v := false
	for _, a := range args {
		switch a {
		case "--version", "-v":
			v = true
		case "--help", "-h":
			return false
		}
	}
	return v
}

// newRoot is the root command and its persistent flags, without commands.
func newRoot(f *Factory) *cobra.Command {
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
	root.SetUsageFunc(func(c *cobra.Command) error {
		var b strings.Builder
		if err := f.writeUsage(&b, c); err != nil {
			return err
		}
		_, err := io.WriteString(c.OutOrStderr(), fitLines(b.String(), f.helpWidth()))
		return err
	})
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if err := f.writeHelp(c.OutOrStdout(), c); err != nil {
			fmt.Fprintln(f.IOStreams.ErrOut, "lmc: writing help:", err)
		}
	})
	root.SetVersionTemplate(fmt.Sprintf("lmc %s (commit %s, built %s)\n", f.Build.Version, f.Build.Commit, f.Build.Date))
	root.CompletionOptions.SetDefaultShellCompDirective(cobra.ShellCompDirectiveNoFileComp)
	// cobra writes help, usage and version text here; commands write
	// their data through f.Out() (the --jq buffer when --jq is given), so
	// --jq never filters help.
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetIn(f.IOStreams.In)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &UsageError{Err: flagSuggestion(cmd, err)} })

	pf := root.PersistentFlags()
	pf.StringVarP(&f.Output, "output", "o", "", "output format: "+strings.Join(printers.Names(printers.All), "|")+" (default: table on a terminal, plain when piped)")
	pf.BoolVar(&f.NoColor, "no-color", false, "disable colour (also NO_COLOR, TERM=dumb, or stdout not a terminal)")
	pf.DurationVar(&f.Timeout, "timeout", 10*time.Second, "deadline for each backend request (controller reads are retried up to twice with backoff)")
	pf.BoolVar(&f.Verbose, "verbose", false, "log backend requests, and where the time went, to stderr (credentials redacted)")
	addTransportFlags(root, &f.Transport)
	pf.StringVar(&f.JQ, "jq", "", "filter JSON output with a jq expression (implies -o json), e.g. --jq .hit_tokens")
	pf.StringVar(&f.ContextName, "context", "", "use this context from ~/.config/lmc/config.yaml (also LMC_CONTEXT)")
	_ = root.RegisterFlagCompletionFunc("context", completeContexts(f))
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(printers.Names(printers.All), cobra.ShellCompDirectiveNoFileComp))

	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		defer f.Times.Since(phasetime.Tree, time.Now()) // the tree itself: Main
		if err := f.bindEnv(cmd); err != nil {
			return err
		}
		if err := f.applyContext(cmd); err != nil {
			return err
		}
		f.Given = givenFlags(cmd, f.EnvSources)
		for _, h := range f.Transport.Headers {
			if _, err := transport.ParseHeader(h); err != nil {
				return &UsageError{Err: fmt.Errorf("-H: %w", err)}
			}
		}
		if err := checkRanges(cmd, f.Given); err != nil {
			return err
		}
		if err := f.setupJQ(); err != nil {
			return err
		}
		if f.NoColor {
			f.IOStreams.SetColorEnabled(false)
		}
		return nil
	}

	return root
}
