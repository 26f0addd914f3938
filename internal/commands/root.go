package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/transport"
)

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

	root.AddCommand(
		NewCmdKeys(f),
		NewCmdExplain(f),
		NewCmdLookup(f),
		NewCmdDoctor(f),
		NewCmdHealth(f),
		NewCmdMove(f),
		NewCmdPin(f),
		NewCmdClear(f),
		NewCmdPrefetch(f),
		NewCmdTask(f),
		NewCmdStore(f),
		NewCmdCompress(f, false),
		NewCmdCompress(f, true),
		NewCmdWorkers(f),
		NewCmdStats(f),
		NewCmdUsage(f),
		NewCmdQuota(f),
		NewCmdSandbox(f),
		NewCmdDemo(f),
		NewCmdConfig(f),
		newCmdGenerate(f),
		NewCmdVersion(f),
	)
	for _, t := range helpTopics() {
		root.AddCommand(t)
	}
	strictTree(root)
	return root
}
