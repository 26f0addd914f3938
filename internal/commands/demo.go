package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

const demoModel = "meta-llama/Llama-3.1-8B-Instruct"

// demoTokens is a deterministic 1000-token prompt (3 full chunks of 256 and
// a partial one), with IDs spread over a Llama-3-sized vocabulary.
func demoTokens() []uint32 {
	out := make([]uint32, 1000)
	out[0] = 128000 // <|begin_of_text|>
	x := uint32(2026)
	for i := 1; i < len(out); i++ {
		x = x*1664525 + 1013904223
		out[i] = x % 128000
	}
	return out
}

// NewCmdDemo builds `lmc demo`.
func NewCmdDemo(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: shortFor("demo"),
		Long: `Start a sandbox (a local Mooncake master and LMCache controller, see 'lmc
sandbox') on free loopback ports, store a sample prompt's chunk keys with one
chunk missing, and run the main commands against it, printing each command
line and its output. Nothing outside this process is touched.`,
		Example: "  lmc demo",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ios := f.IOStreams
			ctx := cmd.Context()
			sb, err := startSandbox(sandboxConfig{masterAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", controllerAddr: "127.0.0.1:0", diskTier: true})
			if err != nil {
				return err
			}
			defer sb.close()
			dir, err := os.MkdirTemp("", "lmc-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			tokens := demoTokens()
			prompt := filepath.Join(dir, "prompt.json")
			head := filepath.Join(dir, "prompt-head.json")
			if err := writeTokenFile(prompt, tokens); err != nil {
				return err
			}
			if err := writeTokenFile(head, tokens[:300]); err != nil {
				return err
			}
			// The demo is a presentation: render tables even when piped
			// (colour still follows the terminal and NO_COLOR).
			ios.SetStdoutTTY(true)
			keyArgs := []string{"--model", demoModel, "--hash-seed", "0"}
			kf := DefaultKeyFlags()
			kf.Model, kf.HashSeed = demoModel, "0"
			res, err := f.resolveKeys(ctx, &kf, FlagSources{"model": "demo", "hash-seed": "demo"})
			if err != nil {
				return err
			}
			stored, total, err := sb.populate(ctx, res.Params, tokens, map[int]bool{1: true}, map[int]bool{2: true}, 2)
			if err != nil {
				return err
			}
			st := ios.Styles()
			say := func(s string) { fmt.Fprintln(ios.Out, st.Muted.Render("# "+s)) }
			fmt.Fprintf(ios.Out, "%s\n", st.Bold.Render("lmc demo"))
			say(fmt.Sprintf("sandbox: Mooncake master %s, admin %s, controller %s", sb.master.Addr(), sb.master.AdminURL(), sb.controllerURL()))
			say(fmt.Sprintf("stored %d of %d chunk keys of a 1000-token prompt (chunk 1 left out; chunk 2 evicted from memory, kept on disk); the controller's instance %q holds it all", stored, total, SandboxInstance))
			steps := []struct {
				note string
				args []string
			}{
				{"the Mooncake keys LMCache computes for the prompt", append(append([]string{"keys"}, keyArgs...), prompt)},
				{"how much the engine would find, asked over the master's native RPC", append(append([]string{"lookup", "--master", sb.master.Addr()}, keyArgs...), prompt)},
				{"the same through the read-only admin API, with placement (memory and disk tiers)", append(append([]string{"lookup", "--admin", sb.master.AdminURL(), "--placement"}, keyArgs...), prompt)},
				{"the LMCache controller's view, per instance", []string{"lookup", "--controller", sb.controllerURL(), prompt}},
				{"pin the first 300 tokens (chunk 0) in the sandbox instance", []string{"pin", "--controller", sb.controllerURL(), "--instance", SandboxInstance, head}},
				{"clear the instance: only the pinned chunk stays", []string{"clear", "--controller", sb.controllerURL(), "--instance", SandboxInstance, "--yes", "--verify"}},
				{"look up again", []string{"lookup", "--controller", sb.controllerURL(), prompt}},
			}
			for _, s := range steps {
				fmt.Fprintln(ios.Out)
				say(s.note)
				fmt.Fprintln(ios.Out, st.Bold.Render("$ lmc "+strings.Join(s.args, " ")))
				if code := Main(ctx, ios, s.args, f.Build); code != 0 {
					return &ExitError{Code: code, Err: fmt.Errorf("demo step 'lmc %s' exited %d", s.args[0], code)}
				}
			}
			fmt.Fprintln(ios.Out)
			say("next: 'lmc sandbox' keeps these running for your own scripts; 'lmc doctor' explains misses")
			return nil
		},
	}
}

func writeTokenFile(path string, tokens []uint32) error {
	var b strings.Builder
	b.WriteString("[")
	for i, t := range tokens {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(uint64(t), 10))
	}
	b.WriteString("]\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
