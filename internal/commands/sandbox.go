package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/tokenize/enginekey"
	"lmc/internal/tokenize/lmcachekey"
	"lmc/internal/tokenize/rankhit"
)

type sandboxView struct {
	Master     string `json:"master"`
	Admin      string `json:"admin"`
	Controller string `json:"controller"`
	Instance   string `json:"instance"`
	Stored     int    `json:"stored_keys"`
	sandboxFleetView
	// Segments are the nodes' segment names (what move --to takes).
	Segments []string `json:"segments"`
}

// NewCmdSandbox builds `lmc sandbox`.
func NewCmdSandbox(f *Factory) *cobra.Command {
	var cfg sandboxConfig
	var keys KeyFlags
	var ef EngineFlags
	var in InputFlags
	var dropChunks, evictChunks string
	var nodes int
	var populate string
	var ops sandboxOpsFlags
	cmd := &cobra.Command{
		Use:   "sandbox [--master-addr A] [--admin-addr A] [--controller-addr A] [--coordinator-addr A] [--populate FILE]",
		Short: shortFor("sandbox"),
		Long: `Run, in the foreground until interrupted, a local Mooncake master that speaks
the real RPC protocol and admin HTTP API, and a local LMCache controller that
speaks the real REST API (with one instance, "sandbox"). They are the same
implementations lmc's own tests use: metadata only, no KV bytes, state in
memory, loopback by default.

--populate FILE stores the prompt's chunk keys (computed with the key flags, as
'lmc keys' does) the way a storage node would, leaving out --drop-chunks, with
replicas spread over --nodes made-up nodes; the controller admits the same
tokens for the sandbox instance. --disk-tier models a master with a storage
backend (--root_fs_dir): every object also gets a DISK replica under
/mnt/mooncake (metadata only, nothing is written), and --evict-memory-chunks
drops the memory replicas of those chunks, as eviction does, so they are
served from disk.

With --engine sglang|vllm, --populate stores every rank's objects of each page
or block the way that engine writes them (the key flags as for 'lmc keys
--engine …'); --drop-chunks and --evict-memory-chunks then count pages or
blocks, and the controller is not told (it knows LMCache's chunks only).
--coordinator-addr also runs an LMCache MP coordinator and --mp-servers MP
servers (server-1, …) that register with it, heartbeat and stream their cache
events, with one fleet-shared L2 mooncake_store pool. --populate then stores
the prompt on server-1 (L1 dram and L2) and the same chunks' MP-mode keys of
every rank in the master (--key-schema mp is implied), so 'lookup
--coordinator' and 'lookup --master --key-schema mp' agree; dropped chunks are
left out of both, and --evict-memory-chunks drops those chunks from server-1's
L1.

` + sandboxOpsHelp + `

When ready it prints the addresses (one "name value" per line, or -o json) and
an example command, then serves until Ctrl-C or SIGTERM.`,
		Example: `  lmc sandbox
  lmc sandbox --master-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --controller-addr 127.0.0.1:0 -o json
  lmc sandbox --populate prompt.json --model demo/model --hash-seed 0 --drop-chunks 1
  lmc sandbox --populate prompt.json --engine sglang --page-size 16 --tp-size 2 --model Qwen/Qwen3-8B
  lmc sandbox --coordinator-addr 127.0.0.1:9300 --populate prompt.json --model demo/model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			for _, a := range []string{cfg.masterAddr, cfg.adminAddr, cfg.controllerAddr, orElse(cfg.coordinatorAddr, "127.0.0.1:0")} {
				if err := loopbackOnly(a); err != nil {
					return &UsageError{Err: err}
				}
			}
			drop, err := parseIndexList(dropChunks)
			if err != nil {
				return &UsageError{Err: fmt.Errorf("--drop-chunks: %v", err)}
			}
			evict, err := parseIndexList(evictChunks)
			if err != nil {
				return &UsageError{Err: fmt.Errorf("--evict-memory-chunks: %v", err)}
			}
			eng, err := f.selectEngine(cmd, &ef)
			if err != nil {
				return err
			}
			if err := ops.parse(nodes, populate != ""); err != nil {
				return err
			}
			if cfg.coordinatorAddr != "" && (len(ops.writing) > 0 || len(ops.leased) > 0) {
				return &UsageError{Err: errors.New("--writing-chunks and --leased-chunks model keys on the master: drop --coordinator-addr to use them")}
			}
			if eng != enginekey.LMCache && !f.Given.Has("segment-mib") {
				ops.SegmentMiB = 512 << 10 // metadata only: an engine's every rank at page size 1 stores more objects than 1 GiB holds
			}
			cfg.masterOpts = ops.masterOptions()
			var p *lmcachekey.Params
			var spec *engineSpec
			var tokens []uint32
			switch {
			case populate != "" && eng != enginekey.LMCache:
				if spec, err = f.resolveEngine(&keys, &ef, eng, rankhit.AllRanks); err != nil {
					return err
				}
				warn(f.IOStreams, spec.Warnings)
			case populate != "":
				res, err := f.resolveKeys(cmd.Context(), &keys, sandboxKeySources(f, cfg, &keys))
				if err != nil {
					return err
				}
				p = &res.Params
			}
			if populate != "" {
				if tokens, err = f.oneTokenPrompt(cmd.Context(), []string{populate}, &in, keys.Model); err != nil {
					return err
				}
			}
			sb, err := startSandbox(cfg)
			if err != nil {
				return err
			}
			defer sb.close()
			fleet, err := startSandboxFleet(cfg, p, &keys)
			if err != nil {
				return err
			}
			if fleet != nil {
				defer fleet.Close()
			}
			v := sandboxView{Master: sb.master.Addr(), Admin: sb.master.AdminURL(), Controller: sb.controllerURL(), Instance: SandboxInstance, sandboxFleetView: fleetView(fleet)}
			ctx := cmd.Context()
			if v.Segments, err = sb.mountNodes(ctx, &ops, nodes); err != nil {
				return err
			}
			switch {
			case spec != nil:
				stored, total, objects, err := sb.populateEngine(ctx, spec, tokens, ops.populateDrop(drop), evict, nodes)
				if err != nil {
					return err
				}
				if err := sb.applyEngineOps(ctx, &ops, spec, tokens, nodes); err != nil {
					return err
				}
				v.Stored = objects
				fmt.Fprintf(f.IOStreams.ErrOut, "populated %d of %d %ss of %s (%d tokens) as %s writes them: %d objects\n", stored, total, spec.chunkWord(), populate, len(tokens), engineTitle(eng), objects)
			case p != nil:
				put := sb.populate
				if fleet != nil {
					put = func(ctx context.Context, p lmcachekey.Params, tokens []uint32, drop, evict map[int]bool, nodes int) (int, int, error) {
						return sb.populateFleet(ctx, f, fleet, p, tokens, drop, evict, nodes)
					}
				}
				stored, total, err := put(ctx, *p, tokens, ops.populateDrop(drop), evict, nodes)
				if err != nil {
					return err
				}
				if err := sb.applyOps(ctx, &ops, *p, tokens, nodes); err != nil {
					return err
				}
				v.Stored = stored
				fmt.Fprintf(f.IOStreams.ErrOut, "populated %d of %d chunk keys of %s (%d tokens)\n", stored, total, populate, len(tokens))
			}
			if fm == printers.JSON {
				if err := printers.WriteJSONLine(f.Out(), v); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(f.Out(), "master %s\nadmin %s\ncontroller %s\nsegments %s\n%s", v.Master, v.Admin, v.Controller, strings.Join(v.Segments, " "), fleetLines(fleet))
			}
			prompt, keyArgs := "PROMPT.json", "--model MODEL --hash-seed SEED"
			if populate != "" {
				prompt, keyArgs = shellQuote(populate), givenFlagArgs(cmd, f.Given, flagsIn(cmd, groupKey))
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "sandbox ready (metadata only, no KV bytes). Try:\n  lmc lookup --master %s %s %s\n  lmc lookup --controller %s %s\n  lmc store summary --admin %s\n%sCtrl-C stops it.\n",
				v.Master, keyArgs, prompt, v.Controller, prompt, v.Admin, fleetTry(fleet))
			<-ctx.Done()
			fmt.Fprintln(f.IOStreams.ErrOut, "sandbox stopped")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.masterAddr, "master-addr", "127.0.0.1:50051", "Mooncake master RPC address (port 0 picks a free one)")
	fl.StringVar(&cfg.adminAddr, "admin-addr", "127.0.0.1:9003", "Mooncake admin HTTP address")
	fl.StringVar(&cfg.controllerAddr, "controller-addr", "127.0.0.1:9000", "LMCache controller HTTP address")
	fl.StringVar(&populate, "populate", "", "token input whose chunk keys to store (with the key flags)")
	_ = cmd.RegisterFlagCompletionFunc("populate", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveDefault // file names
	})
	fl.StringVar(&dropChunks, "drop-chunks", "", "chunk indices to leave out of --populate, e.g. 1,3")
	fl.IntVar(&nodes, "nodes", 2, "made-up storage nodes to spread replicas over")
	fl.BoolVar(&cfg.diskTier, "disk-tier", false, "give every object a DISK replica too (a master with a storage backend)")
	fl.StringVar(&evictChunks, "evict-memory-chunks", "", "chunk indices of --populate whose memory replicas are evicted (kept on disk with --disk-tier), e.g. 2")
	addKeyFlags(cmd, &keys)
	addEngineFlags(cmd, &ef, scopeStore)
	addSandboxCoordinatorFlags(cmd, &cfg)
	addSandboxOpsFlags(cmd, &ops)
	return cmd
}

// loopbackOnly refuses non-loopback listen addresses: the sandbox is for
// trying lmc, not for serving a network.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: expected HOST:PORT", addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q: the sandbox listens on loopback only (127.0.0.1 or [::1])", addr)
	}
	return nil
}

func parseIndexList(s string) (map[int]bool, error) {
	out := map[int]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, errors.New("expected chunk indices like 1,3")
		}
		out[n] = true
	}
	return out, nil
}
