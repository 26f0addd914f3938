package mooncake

import (
	"context"
	"fmt"
)

// Segment queries over RPC (mooncake-ops.md §5.1). No RPC lists segments,
// capacity or usage: those exist only on the admin HTTP port
// (Admin.Segments, Admin.QuerySegment, Admin.SegmentStatus). The RPCs
// answer a segment's status and the IPs of clients.

// SegmentStatus is Mooncake's SegmentStatus (int enum).
type SegmentStatus int32

// Segment states. Only OK segments take new allocations (puts, copy and
// move targets); a drain job turns its segments DRAINING and, once empty,
// DRAINED, which is final until the segment is unmounted.
const (
	SegmentUndefined            SegmentStatus = 0
	SegmentOK                   SegmentStatus = 1
	SegmentDraining             SegmentStatus = 2
	SegmentDrained              SegmentStatus = 3
	SegmentGracefullyUnmounting SegmentStatus = 4
	SegmentUnmounting           SegmentStatus = 5
)

var segmentStatusNames = []string{"UNDEFINED", "OK", "DRAINING", "DRAINED", "GRACEFULLY_UNMOUNTING", "UNMOUNTING"}

func (s SegmentStatus) String() string {
	return enumName(int64(s), "SegmentStatus", segmentStatusNames...)
}

// Known reports a value the master defines.
func (s SegmentStatus) Known() bool { return s >= SegmentUndefined && s <= SegmentUnmounting }

// Allocatable reports whether new replicas can be placed on the segment.
func (s SegmentStatus) Allocatable() bool { return s == SegmentOK }

// ParseSegmentStatus maps the master's name (as in /get_segments_detail)
// back to the status.
func ParseSegmentStatus(name string) (SegmentStatus, bool) {
	for i, n := range segmentStatusNames {
		if n == name {
			return SegmentStatus(i), true
		}
	}
	return 0, false
}

// The segment RPCs an operator calls (MethodQuerySegmentStatus,
// MethodQuerySegmentStatusByID, MethodBatchQueryIP) are in literals_gen.go.

// QuerySegmentStatus returns the status of the segment named name.
// An unknown segment is an *OpError with SEGMENT_NOT_FOUND.
func (c *Client) QuerySegmentStatus(ctx context.Context, name string) (SegmentStatus, error) {
	return c.segmentStatus(ctx, MethodQuerySegmentStatus, name, func(e *Encoder) { e.Str(name) })
}

// QuerySegmentStatusByID is QuerySegmentStatus by segment id.
func (c *Client) QuerySegmentStatusByID(ctx context.Context, id UUID) (SegmentStatus, error) {
	return c.segmentStatus(ctx, MethodQuerySegmentStatusByID, id.String(), func(e *Encoder) { e.UUID(id) })
}

func (c *Client) segmentStatus(ctx context.Context, m Method, subject string, pack func(*Encoder)) (SegmentStatus, error) {
	d, err := c.callOp(ctx, m, opReplyBytes(m.Result, 1+4, 0), pack)
	if err != nil {
		return 0, err
	}
	return decodeSegmentStatus(d, m, subject)
}

func decodeSegmentStatus(d *Decoder, m Method, subject string) (SegmentStatus, error) {
	if ok, err := opExpected(d, m.Name, subject); !ok {
		return 0, err
	}
	at := d.Offset()
	st := SegmentStatus(d.I32())
	if err := finish(d, m.Name); err != nil {
		return 0, err
	}
	if !st.Known() {
		return 0, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("%s reply: unknown segment status %d", m.Name, int32(st))}
	}
	return st, nil
}

// Bounds of a BatchQueryIp reply: a client's IPs are the distinct hosts of
// its segments' te_endpoints, so a few per client.
const (
	maxIPsPerClient = 64
	maxIPBytes      = 255
)

// BatchQueryIP maps client ids (the client_id of the admin API's segment
// list) to the IP addresses of their segments' endpoints. Clients the
// master does not know are absent from the result; it grants nothing (but
// note that Ping, unlike this, would refresh a client's liveness).
func (c *Client) BatchQueryIP(ctx context.Context, ids []UUID) (map[UUID][]string, error) {
	if len(ids) == 0 {
		return map[UUID][]string{}, nil
	}
	asked := make(map[UUID]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	m := MethodBatchQueryIP
	limit := opReplyBytes(m.Result, 1+len(asked)*(16+maxIPsPerClient*maxIPBytes), 1+len(asked)*(1+maxIPsPerClient))
	d, err := c.callOp(ctx, m, limit, func(e *Encoder) {
		e.Len(len(ids))
		for _, id := range ids {
			e.UUID(id)
		}
	})
	if err != nil {
		return nil, err
	}
	return decodeBatchQueryIP(d, asked)
}

func decodeBatchQueryIP(d *Decoder, asked map[UUID]bool) (map[UUID][]string, error) {
	m := MethodBatchQueryIP
	if ok, err := opExpected(d, m.Name, ""); !ok {
		return nil, err
	}
	at := d.Offset()
	n := d.Len(16 + 1)
	if err := d.Err(); err != nil {
		return nil, err
	}
	if n > len(asked) {
		return nil, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("BatchQueryIp reply has %d clients for %d asked", n, len(asked))}
	}
	out := make(map[UUID][]string, n)
	for i := 0; i < n; i++ {
		at := d.Offset()
		id := d.UUID()
		ips := d.Strings()
		if err := d.Err(); err != nil {
			return nil, err
		}
		switch {
		case !asked[id]:
			return nil, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("BatchQueryIp reply names client %s, which was not asked", id)}
		case out[id] != nil:
			return nil, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("BatchQueryIp reply names client %s twice", id)}
		case len(ips) > maxIPsPerClient:
			return nil, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("BatchQueryIp reply gives client %s %d addresses", id, len(ips))}
		}
		for _, ip := range ips {
			if len(ip) > maxIPBytes {
				return nil, &ProtocolError{Offset: ResponseHeaderSize + at, Msg: fmt.Sprintf("BatchQueryIp reply gives client %s an address of %d bytes", id, len(ip))}
			}
		}
		if ips == nil {
			ips = []string{}
		}
		out[id] = ips
	}
	if err := finish(d, m.Name); err != nil {
		return nil, err
	}
	return out, nil
}
