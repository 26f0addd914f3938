package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
	"lmc/internal/controllerclient"
	"lmc/internal/controllerclient/sandboxcontroller"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
)

// SandboxInstance is the controller instance the sandbox registers.
const SandboxInstance = "sandbox"

// sandbox is a local Mooncake master (RPC + admin HTTP) and LMCache
// controller: the protocol-faithful fakes lmc's tests use. Metadata only:
// no KV bytes are stored anywhere.
type sandbox struct {
	master     *sandboxmaster.Server
	controller *sandboxcontroller.Server
	ctrlSrv    *http.Server
	ctrlLn     net.Listener
}

type sandboxConfig struct {
	masterAddr, adminAddr, controllerAddr string
	diskTier                              bool
}

// sandboxStorageRoot is where the sandbox master pretends to keep its disk
// tier (no file is written).
const sandboxStorageRoot = "/mnt/mooncake"

func startSandbox(cfg sandboxConfig) (*sandbox, error) {
	opts := []sandboxmaster.Option{sandboxmaster.WithAdminAddr(cfg.adminAddr)}
	if cfg.diskTier {
		opts = append(opts, sandboxmaster.WithStorageRoot(sandboxStorageRoot))
	}
	m, err := sandboxmaster.Start(cfg.masterAddr, opts...)
	if err != nil {
		return nil, fmt.Errorf("sandbox master on %s / admin on %s: %w", cfg.masterAddr, cfg.adminAddr, err)
	}
	ln, err := net.Listen("tcp", cfg.controllerAddr)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("sandbox controller on %s: %w", cfg.controllerAddr, err)
	}
	c := sandboxcontroller.New(sandboxcontroller.WithWorkerListCacheTTL(0))
	c.AddInstance(SandboxInstance, 1)
	s := &sandbox{master: m, controller: c, ctrlLn: ln, ctrlSrv: &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.ctrlSrv.Serve(ln) }()
	return s, nil
}

func (s *sandbox) controllerURL() string { return "http://" + s.ctrlLn.Addr().String() }

func (s *sandbox) close() {
	s.controller.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.ctrlSrv.Shutdown(ctx)
	s.master.Close()
}

// populate stores a prompt's chunk keys on the master the way an engine
// does (over the put path), skipping dropped chunks and spreading replicas
// over made-up nodes, and admits the same tokens in the controller.
func (s *sandbox) populate(ctx context.Context, p lmcachekey.Params, tokens []uint32, drop, evict map[int]bool, nodes int) (stored, total int, err error) {
	eng, err := lmcachekey.NewEngine(p)
	if err != nil {
		return 0, 0, err
	}
	keys, err := eng.Keys(tokens)
	if err != nil {
		return 0, 0, err
	}
	ns := make([]sandboxmaster.Node, max(nodes, 1))
	for i := range ns {
		ns[i] = sandboxmaster.Node{Name: "sandbox-node-" + strconv.Itoa(i), Endpoint: fmt.Sprintf("10.0.0.%d:17777", 11+i)}
	}
	for i, k := range keys {
		if drop[i] {
			continue
		}
		if err := s.master.Populate(ctx, []string{k}, ns[i%len(ns)]); err != nil {
			return stored, len(keys), err
		}
		if evict[i] {
			s.master.EvictMemory(k)
		}
		stored++
	}
	if _, err := s.controller.Admit(SandboxInstance, 0, controllerclient.DefaultLocation, tokens); err != nil {
		return stored, len(keys), err
	}
	return stored, len(keys), nil
}

type sandboxView struct {
	Master     string `json:"master"`
	Admin      string `json:"admin"`
	Controller string `json:"controller"`
	Instance   string `json:"instance"`
	Stored     int    `json:"stored_keys"`
}

// NewCmdSandbox builds `lmc sandbox`.
func NewCmdSandbox(f *Factory) *cobra.Command {
	var cfg sandboxConfig
	var keys KeyFlags
	var in InputFlags
	var dropChunks, evictChunks string
	var nodes int
	var populate string
	cmd := &cobra.Command{
		Use:   "sandbox [--master-addr A] [--admin-addr A] [--controller-addr A] [--populate FILE]",
		Short: "Run a local Mooncake master and LMCache controller for trying lmc and testing scripts",
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

When ready it prints the addresses (one "name value" per line, or -o json) and
an example command, then serves until Ctrl-C or SIGTERM.`,
		Example: `  lmc sandbox
  lmc sandbox --master-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --controller-addr 127.0.0.1:0 -o json
  lmc sandbox --populate prompt.json --model demo/model --hash-seed 0 --drop-chunks 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fm, err := f.outputFormat([]printers.Format{printers.Table, printers.Plain, printers.JSON})
			if err != nil {
				return err
			}
			for _, a := range []string{cfg.masterAddr, cfg.adminAddr, cfg.controllerAddr} {
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
			var p *lmcachekey.Params
			var tokens []uint32
			if populate != "" {
				res, err := f.resolveKeys(&keys, f.Given)
				if err != nil {
					return err
				}
				p = &res.Params
				if tokens, err = f.oneTokenPrompt(cmd.Context(), []string{populate}, &in, keys.Model); err != nil {
					return err
				}
			}
			sb, err := startSandbox(cfg)
			if err != nil {
				return err
			}
			defer sb.close()
			v := sandboxView{Master: sb.master.Addr(), Admin: sb.master.AdminURL(), Controller: sb.controllerURL(), Instance: SandboxInstance}
			ctx := cmd.Context()
			if p != nil {
				stored, total, err := sb.populate(ctx, *p, tokens, drop, evict, nodes)
				if err != nil {
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
				fmt.Fprintf(f.Out(), "master %s\nadmin %s\ncontroller %s\n", v.Master, v.Admin, v.Controller)
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "sandbox ready (metadata only, no KV bytes). Try:\n  lmc lookup --master %s --model demo/model --hash-seed 0 prompt.json\n  lmc lookup --controller %s prompt.json\nCtrl-C stops it.\n", v.Master, v.Controller)
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
	fl.StringVar(&dropChunks, "drop-chunks", "", "chunk indices to leave out of --populate, e.g. 1,3")
	fl.IntVar(&nodes, "nodes", 2, "made-up storage nodes to spread replicas over")
	fl.BoolVar(&cfg.diskTier, "disk-tier", false, "give every object a DISK replica too (a master with a storage backend)")
	fl.StringVar(&evictChunks, "evict-memory-chunks", "", "chunk indices of --populate whose memory replicas are evicted (kept on disk with --disk-tier), e.g. 2")
	addKeyFlags(cmd, &keys)
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
