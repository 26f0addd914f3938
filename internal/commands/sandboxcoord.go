// The sandbox's LMCache MP fleet (sandbox --coordinator-addr): the fake
// coordinator and MP servers lmc's tests use, the servers registering,
// heartbeating and streaming their cache events to it. --populate stores
// the prompt on server-1 (L1 dram and the fleet-shared L2 mooncake_store
// pool) and the same MP-mode keys, every rank's, in the sandbox master, so
// lookup --coordinator and lookup --master agree.
package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/controllerclient"
	"lmc/internal/coordinatorclient"
	"lmc/internal/coordinatorclient/sandboxcoordinator"
	"lmc/internal/tokenize/lmcachekey"
)

// sandboxMooncakeBackend is the fleet's shared L2 adapter: LMCache's
// Mooncake store adapter, as the coordinator's placements name it.
const sandboxMooncakeBackend = "mooncake_store"

func addSandboxCoordinatorFlags(cmd *cobra.Command, cfg *sandboxConfig) {
	fl := cmd.Flags()
	fl.StringVar(&cfg.coordinatorAddr, "coordinator-addr", "", "also run an LMCache MP coordinator on this address (e.g. 127.0.0.1:9300; port 0 picks a free one) with --mp-servers MP servers")
	fl.IntVar(&cfg.mpServers, "mp-servers", 2, "MP servers (server-1, …) registered with the sandbox coordinator, sharing one L2 mooncake_store pool")
}

// sandboxKeySources are the key flags' sources for --populate: with
// --coordinator-addr the keys are MP-mode unless --key-schema is given.
func sandboxKeySources(f *Factory, cfg sandboxConfig, k *KeyFlags) FlagSources {
	if cfg.coordinatorAddr == "" || f.Given.Has("key-schema") {
		return f.Given
	}
	k.KeySchema = string(lmcachekey.SchemaMP)
	g := FlagSources{}
	for n, s := range f.Given {
		g[n] = s
	}
	g["key-schema"] = "implied by --coordinator-addr (the MP fleet's keys)"
	return g
}

// startSandboxFleet starts the coordinator and MP servers when
// --coordinator-addr is given (nil otherwise).
func startSandboxFleet(cfg sandboxConfig, p *lmcachekey.Params, k *KeyFlags) (*sandboxcoordinator.Fleet, error) {
	if cfg.coordinatorAddr == "" {
		return nil, nil
	}
	fc := sandboxcoordinator.FleetConfig{CoordinatorAddr: cfg.coordinatorAddr, Servers: cfg.mpServers,
		MPOptions: []sandboxcoordinator.MPOption{sandboxcoordinator.WithL2(sandboxcoordinator.NewL2Pool(sandboxMooncakeBackend, "MooncakeStoreL2Adapter", true, 0))}}
	if p != nil {
		fc.Model, fc.WorldSize, fc.ChunkSize = p.Model, p.KeyWorldSize(), p.ChunkSize
	} else {
		fc.Model, fc.WorldSize, fc.ChunkSize = k.Model, k.WorldSize, k.ChunkSize
	}
	fl, err := sandboxcoordinator.StartFleet(fc)
	if err != nil {
		return nil, fmt.Errorf("sandbox coordinator on %s: %w", cfg.coordinatorAddr, err)
	}
	return fl, nil
}

// populateFleet stores the prompt in the MP fleet and the master alike:
// server-1 writes every rank's chunks to L1 and the shared L2 (publishing
// the events), the dropped chunks are deleted again and the evicted ones
// leave L1, both through server-1's HTTP API, as an operator would; the
// master gets every rank's MP-mode key of the chunks kept; the controller
// admits the tokens.
func (s *sandbox) populateFleet(ctx context.Context, f *Factory, fl *sandboxcoordinator.Fleet, p lmcachekey.Params, tokens []uint32, drop, evict map[int]bool, nodes int) (stored, total int, err error) {
	if p.Schema != lmcachekey.SchemaMP {
		return s.populate(ctx, p, tokens, drop, evict, nodes) // the master's own schema; the fleet keeps nothing
	}
	eng, err := lmcachekey.NewEngine(p)
	if err != nil {
		return 0, 0, err
	}
	hashes, err := coordinatorclient.EngineChunkHashes(eng, tokens)
	if err != nil {
		return 0, 0, err
	}
	ws := p.KeyWorldSize()
	srv := fl.Servers[0]
	full := tokens[:len(hashes)*p.ChunkSize]
	for _, tier := range []string{"l1", "l2"} {
		if _, err := srv.Store(tier, full, p.Model, ws, p.CacheSalt); err != nil {
			return 0, len(hashes), err
		}
	}
	m, err := f.mpServerClient("--populate", srv.URL())
	if err != nil {
		return 0, len(hashes), err
	}
	remove := func(idx map[int]bool, tier coordinatorclient.Tier) error {
		var hs []string
		for i, h := range hashes {
			if idx[i] {
				hs = append(hs, h)
			}
		}
		if len(hs) == 0 {
			return nil
		}
		_, err := m.DeleteObjects(ctx, coordinatorclient.DeleteObjectsRequest{Keys: coordinatorclient.ChunkKeys(hs, p.Model, ws, p.CacheSalt), Tier: tier, Force: true})
		return err
	}
	if err := remove(drop, coordinatorclient.TierAll); err != nil {
		return 0, len(hashes), err
	}
	if err := remove(evict, coordinatorclient.TierL1); err != nil {
		return 0, len(hashes), err
	}
	ns := sandboxNodes(nodes, 0) // mounted before, with their size, by 'lmc sandbox'
	for i, h := range hashes {
		if drop[i] {
			continue
		}
		for _, k := range coordinatorclient.ChunkKeys([]string{h}, p.Model, ws, p.CacheSalt) {
			if err := s.master.Populate(ctx, []string{k.String()}, ns[i%len(ns)]); err != nil {
				return stored, len(hashes), err
			}
			if evict[i] {
				s.master.EvictMemory(k.String())
			}
		}
		stored++
	}
	if _, err := s.controller.Admit(SandboxInstance, 0, controllerclient.DefaultLocation, tokens); err != nil {
		return stored, len(hashes), err
	}
	return stored, len(hashes), nil
}

// sandboxFleetView is the fleet part of sandbox's output.
type sandboxFleetView struct {
	Coordinator string            `json:"coordinator,omitempty"`
	MPServers   map[string]string `json:"mp_servers,omitempty"`
}

func fleetView(fl *sandboxcoordinator.Fleet) sandboxFleetView {
	if fl == nil {
		return sandboxFleetView{}
	}
	v := sandboxFleetView{Coordinator: fl.Coordinator.URL(), MPServers: map[string]string{}}
	for _, s := range fl.Servers {
		v.MPServers[s.InstanceID()] = s.URL()
	}
	return v
}

// fleetLines are the fleet's "name value" lines.
func fleetLines(fl *sandboxcoordinator.Fleet) string {
	if fl == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "coordinator %s\n", fl.Coordinator.URL())
	for _, s := range fl.Servers {
		fmt.Fprintf(&b, "mp-server %s %s\n", s.InstanceID(), s.URL())
	}
	return b.String()
}

// fleetTry is the sandbox's example for the fleet.
func fleetTry(fl *sandboxcoordinator.Fleet) string {
	if fl == nil {
		return ""
	}
	return fmt.Sprintf("  lmc lookup --coordinator %s --server %s prompt.json\n  lmc workers --coordinator %s\n",
		fl.Coordinator.URL(), fl.Servers[0].URL(), fl.Coordinator.URL())
}
