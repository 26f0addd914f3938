package sandboxmaster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	mc "lmc/internal/mooncake"
)

// Node is a fake storage node whose segment Populate mounts.
type Node struct {
	Name     string // segment name (what preferred_segment matches)
	Endpoint string // te_endpoint: what replicas report as their location
	Size     uint64 // segment size; 0 means 1 GiB
}

// DefaultNode is used when Populate is given no nodes.
var DefaultNode = Node{Name: "fake-node-0", Endpoint: "127.0.0.1:17777"}

// PopulateObjectSize is the object size Populate declares to PutStart.
const PopulateObjectSize = 4096

// nodeAgent plays the storage nodes: one client UUID that owns the mounted
// segments, talks to the server over a real RPC connection and pings it
// like Mooncake's client does, so its keys survive the client TTL.
type nodeAgent struct {
	id      mc.UUID
	cli     *mc.Client
	mu      sync.Mutex
	mounted map[string]mc.Segment // by node name
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func (a *nodeAgent) stop() {
	a.cancel()
	a.cli.Close()
	a.wg.Wait()
}

func (a *nodeAgent) segments() []mc.Segment {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]mc.Segment, 0, len(a.mounted))
	for _, s := range a.mounted {
		out = append(out, s)
	}
	return out
}

func (a *nodeAgent) keepAlive(ctx context.Context, every time.Duration) {
	defer a.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		p, err := a.cli.Ping(pctx, a.id)
		if err == nil && p.ClientStatus == mc.ClientNeedRemount {
			_ = a.cli.ReMountSegment(pctx, a.segments(), a.id)
		}
		cancel()
	}
}

func (s *Server) agent(ctx context.Context) (*nodeAgent, error) {
	s.nodeMu.Lock()
	defer s.nodeMu.Unlock()
	select {
	case <-s.done:
		return nil, errors.New("sandboxmaster: server closed")
	default:
	}
	if s.node != nil {
		return s.node, nil
	}
	cli, err := mc.Dial(ctx, s.Addr())
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithCancel(context.Background())
	a := &nodeAgent{id: mc.NewUUID(), cli: cli, mounted: map[string]mc.Segment{}, cancel: cancel}
	every := s.cfg.clientTTL / 4
	if every <= 0 {
		every = time.Second
	}
	a.wg.Add(1)
	go a.keepAlive(actx, every)
	s.node = a
	return a, nil
}

// Populate stores keys the way storage nodes do, over the wire: it mounts a
// segment for every node not yet mounted (MountSegment, then ReMountSegment
// so Ping answers OK), then runs PutStart and PutEnd for each key with one
// replica per node. A background pinger keeps the nodes alive until Close.
// Keys that already exist are left alone. With no nodes, DefaultNode is used.
func (s *Server) Populate(ctx context.Context, keys []string, nodes ...Node) error {
	return s.populate(ctx, keys, true, nodes)
}

// populate mounts the nodes not yet mounted and starts a put of each key
// that does not exist yet, ending it (PutEnd) when end is set.
func (s *Server) populate(ctx context.Context, keys []string, end bool, nodes []Node) error {
	if len(nodes) == 0 {
		nodes = []Node{DefaultNode}
	}
	s.popMu.Lock()
	defer s.popMu.Unlock()
	a, err := s.agent(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
		a.mu.Lock()
		_, ok := a.mounted[n.Name]
		a.mu.Unlock()
		if ok {
			continue
		}
		size := n.Size
		if size == 0 {
			size = 1 << 30
		}
		a.mu.Lock()
		base := uint64(len(a.mounted)+1) << 40
		a.mu.Unlock()
		seg := mc.Segment{ID: mc.NewUUID(), Name: n.Name, Base: base, Size: size,
			TEEndpoint: n.Endpoint, Protocol: "tcp"}
		if err := a.cli.MountSegment(ctx, seg, a.id); err != nil {
			return fmt.Errorf("sandboxmaster: mount %s: %w", n.Name, err)
		}
		a.mu.Lock()
		a.mounted[n.Name] = seg
		a.mu.Unlock()
		if err := a.cli.ReMountSegment(ctx, a.segments(), a.id); err != nil {
			return fmt.Errorf("sandboxmaster: remount: %w", err)
		}
	}
	cfg := mc.ReplicateConfig{ReplicaNum: uint64(len(nodes)), PreferredSegments: names}
	put := func(k string) error {
		_, err := a.cli.PutStart(ctx, a.id, k, PopulateObjectSize, cfg)
		if errors.Is(err, mc.CodeObjectAlreadyExists) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sandboxmaster: PutStart %q: %w", k, err)
		}
		if !end {
			return nil
		}
		if err := a.cli.PutEnd(ctx, a.id, mc.ObjectMeta{Key: k}, mc.ReplicaTypeAll); err != nil {
			return fmt.Errorf("sandboxmaster: PutEnd %q: %w", k, err)
		}
		return nil
	}
	if len(keys) < 2*populateWorkers {
		for _, k := range keys {
			if err := put(k); err != nil {
				return err
			}
		}
		return nil
	}
	// Many keys (an engine's every rank at page size 1): the puts are
	// pipelined on the one connection, populateWorkers in flight; the
	// first error stops the rest.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan string)
	errs := make(chan error, populateWorkers)
	var wg sync.WaitGroup
	for range populateWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if err := put(k); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for _, k := range keys {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err, ok := <-errs; ok {
		return err
	}
	return ctx.Err() // the caller's, if it ended
}

// populateWorkers is how many puts Populate keeps in flight for large key
// sets.
const populateWorkers = 16
