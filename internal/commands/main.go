// Package commands is lmc's command tree: one file per command (keys.go,
// lookup.go, doctor.go, …), each an options struct, a cobra constructor and
// a run function, and shared files that commands use and that never use a
// command's file (a test checks it):
//
//   - factory.go: the Factory (global flags, the flags given by any layer),
//     root.go the tree, main.go Main and error printing, exitcode.go the
//     exit codes;
//   - keyflags.go / keyresolve.go: the key flags and their resolution into
//     key parameters; tokeninput.go / textinput.go: prompts;
//   - backends.go: store and controller flags, the HTTP peers (through
//     internal/transport) and how their failures map to exit codes;
//   - storelookup.go, lookupviews.go, pipeline.go, watch.go: the store
//     lookup, lookup's views and printers, the batch pipeline, --watch;
//   - controllerops.go: the controller verbs' shared flags and output;
//   - contexts.go: the config file and contexts; jq.go: --jq;
//     sandboxservers.go: the sandbox's servers; messages.go: warnings and
//     other shared text.
//
// Output goes through IOStreams (terminal, colour, styles) and the printers
// (formats); data to Factory.Out, diagnostics to stderr.
package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/iostreams"
	"lmc/internal/controllerclient"
	"lmc/internal/phasetime"
	"lmc/internal/safetext"
)

// BuildInfo is stamped into the binary at build time.
type BuildInfo struct {
	Version, Commit, Date string
}

// Main runs lmc with args and returns the process exit code. It is the
// testable entry point: main only adds signals and os.Exit.
func Main(ctx context.Context, ios *iostreams.IOStreams, args []string, build BuildInfo) int {
	return runMain(ctx, ios, args, build, NewCmdRootFor)
}

// runMain is Main with the tree builder given (tests compare the partial
// tree NewCmdRootFor builds with the whole one).
func runMain(ctx context.Context, ios *iostreams.IOStreams, args []string, build BuildInfo, tree func(*Factory, []string) *cobra.Command) int {
	f := &Factory{IOStreams: ios, Build: build, Args: args, Times: phasetime.Start()}
	t := time.Now()
	root := tree(f, args)
	f.Times.Since(phasetime.Tree, t)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if jerr := f.finishJQ(); jerr != nil && err == nil {
		err = jerr
	}
	if f.Verbose {
		fmt.Fprintln(ios.ErrOut, "lmc: time: "+f.Times.Report())
	}
	if err == nil {
		return ExitOK
	}
	code := ExitCodeFor(ctx, err)
	if code == ExitInterrupted {
		fmt.Fprintln(ios.ErrOut, "lmc: interrupted")
		return code
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Silent {
		return code
	}
	printError(ios, cmd, err)
	if code == ExitOK {
		code = ExitFailed
	}
	if isCobraUsage(err) {
		code = ExitUsage
	}
	return code
}

func printError(ios *iostreams.IOStreams, cmd *cobra.Command, err error) {
	st := ios.ErrStyles()
	// Errors quote peers and files: control characters escaped (newlines
	// of a multi-line message kept).
	msg := safetext.EscapeText(oneLineSuggestion(err.Error()))
	fmt.Fprintln(ios.ErrOut, st.Error.Render("lmc:")+" "+msg)
	var ae *controllerclient.APIError
	if errors.As(err, &ae) && ae.Hint != "" {
		fmt.Fprintln(ios.ErrOut, st.Warn.Render("hint:")+" "+safetext.EscapeText(ae.Hint))
	}
	if hint := coordinatorHint(err); hint != "" {
		fmt.Fprintln(ios.ErrOut, st.Warn.Render("hint:")+" "+safetext.EscapeText(hint))
	}
	var ue *UsageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		if cmd != nil {
			fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
}

// isCobraUsage recognises cobra's own validation errors, which do not pass
// through the flag-error hook.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag", "unknown shorthand flag", "required flag", "if any flags in the group", "accepts ", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
