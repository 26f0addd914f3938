package mooncake

import (
	"context"
	"errors"
	"time"
)

// ProbeRPC reports whether addr speaks the master's coro_rpc: it asks
// ServiceReady on a fresh connection within timeout. Any coro_rpc answer —
// a version or a coro_rpc error — counts; a reply that does not parse as a
// frame, a close or silence does not. lmc uses it only to explain a
// failure ("this is the RPC port, not HTTP").
func ProbeRPC(ctx context.Context, addr string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := Dial(ctx, addr, WithDialTimeout(timeout), WithCallTimeout(timeout))
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.ServiceReady(ctx)
	if err == nil {
		return true
	}
	var re *RPCError
	var me *MasterError
	return errors.As(err, &re) || errors.As(err, &me)
}
