// The sandbox's servers (a Mooncake master with its admin API, an LMCache
// controller) and how a prompt is stored in them: shared by 'lmc sandbox'
// and 'lmc demo'.
package commands

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

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
	// coordinatorAddr and mpServers are the LMCache MP fleet's
	// (sandboxcoord.go).
	coordinatorAddr string
	mpServers       int
	masterOpts      []sandboxmaster.Option // the store operations (sandboxops.go)
}

// sandboxStorageRoot is where the sandbox master pretends to keep its disk
// tier (no file is written).
const sandboxStorageRoot = "/mnt/mooncake"

func startSandbox(cfg sandboxConfig) (*sandbox, error) {
	opts := []sandboxmaster.Option{sandboxmaster.WithAdminAddr(cfg.adminAddr)}
	if cfg.diskTier {
		opts = append(opts, sandboxmaster.WithStorageRoot(sandboxStorageRoot))
	}
	opts = append(opts, cfg.masterOpts...)
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

// sandboxNodes are the made-up storage nodes replicas are spread over
// (segment size 0: sandboxmaster's default).
func sandboxNodes(n int, size uint64) []sandboxmaster.Node {
	ns := make([]sandboxmaster.Node, max(n, 1))
	for i := range ns {
		ns[i] = sandboxmaster.Node{Name: "sandbox-node-" + strconv.Itoa(i), Endpoint: fmt.Sprintf("10.0.0.%d:17777", 11+i), Size: size}
	}
	return ns
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
	ns := sandboxNodes(nodes, 0) // mounted before, with their size, by 'lmc sandbox'
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
