package sandboxcoordinator

import (
	"errors"
	"fmt"
	"strconv"
)

// FleetConfig describes a sandbox fleet: one fake coordinator and MP
// servers that register with it, heartbeat and stream their events, as
// `lmc sandbox --coordinator-addr` runs it.
type FleetConfig struct {
	// CoordinatorAddr is the coordinator's listen address ("" means
	// 127.0.0.1:0).
	CoordinatorAddr string
	// Servers is the number of MP servers (default 2), named server-1…
	Servers int
	// Generation is the coordinator's (default Gen202609).
	Generation Generation
	// Model and WorldSize are the cache contexts every server has
	// (default meta-llama/Llama-3.1-8B-Instruct, 1).
	Model     string
	WorldSize int
	// ChunkSize is the fleet's --chunk-size (default 256).
	ChunkSize int
	// SharedL2 gives every server one fleet-wide "s3" pool instead of a
	// private "fs" one.
	SharedL2 bool
	// Options and MPOptions are added to every coordinator and server.
	Options   []Option
	MPOptions []MPOption
}

// Fleet is a running sandbox fleet.
type Fleet struct {
	Coordinator *Server
	Servers     []*MPServer
}

// StartFleet starts the coordinator, then the MP servers (each
// registering with its loopback address).
func StartFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.Servers <= 0 {
		cfg.Servers = 2
	}
	if cfg.Model == "" {
		cfg.Model = "meta-llama/Llama-3.1-8B-Instruct"
	}
	if cfg.WorldSize <= 0 {
		cfg.WorldSize = 1
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 256
	}
	if cfg.Generation == "" {
		cfg.Generation = Gen202609
	}
	known := false
	for _, g := range Generations {
		known = known || g == cfg.Generation
	}
	if !known {
		return nil, fmt.Errorf("unknown coordinator generation %q", cfg.Generation)
	}
	c, err := Start(cfg.CoordinatorAddr, append([]Option{WithGeneration(cfg.Generation), WithChunkSize(cfg.ChunkSize)}, cfg.Options...)...)
	if err != nil {
		return nil, err
	}
	f := &Fleet{Coordinator: c}
	var pool *L2Pool
	if cfg.SharedL2 {
		pool = NewL2Pool("s3", "S3L2Adapter", true, 0)
	}
	prof := profileOf(cfg.Generation)
	for i := 1; i <= cfg.Servers; i++ {
		opts := []MPOption{WithMPInstanceID("server-" + strconv.Itoa(i)), WithMPChunkSize(cfg.ChunkSize), WithMPContext(cfg.Model, cfg.WorldSize)}
		switch {
		case prof.events:
			opts = append(opts, WithCoordinator(c.URL(), "/events"))
		case prof.keysOnly:
			opts = append(opts, WithCoordinator(c.URL(), "/directory/events"))
		default:
			opts = append(opts, WithCoordinator(c.URL(), "/events"), WithEventSink(func(body []byte) error {
				if st, b := c.Ingest(body); st != 200 {
					return errors.New(string(b))
				}
				return nil
			}))
		}
		if pool != nil {
			opts = append(opts, WithL2(pool))
		}
		mp, err := StartMPServer("", append(opts, cfg.MPOptions...)...)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.Servers = append(f.Servers, mp)
	}
	return f, nil
}

// Close stops the servers (they deregister) and the coordinator.
func (f *Fleet) Close() error {
	for _, s := range f.Servers {
		s.Close()
	}
	return f.Coordinator.Close()
}
