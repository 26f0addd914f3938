// How 'lmc sandbox' models the store operations, so scripts that clear,
// move and inventory a store can be tested end to end: removal against
// leases and keys being written, tasks that stay PENDING unless the sandbox
// plays the storage clients (--execute-tasks), the master's task timeouts,
// and segments with a capacity and a drain state.
package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"lmc/internal/mooncake"
	"lmc/internal/mooncake/sandboxmaster"
	"lmc/internal/tokenize/lmcachekey"
)

// sandboxOpsFlags are the sandbox's store-operation flags.
type sandboxOpsFlags struct {
	ExecuteTasks      bool
	PendingTimeout    time.Duration
	ProcessingTimeout time.Duration
	CleanupInterval   time.Duration
	LeaseTTL          time.Duration
	WritingChunks     string
	LeasedChunks      string
	DrainNodes        string
	SegmentMiB        int

	writing, leased, drain map[int]bool
}

func addSandboxOpsFlags(cmd *cobra.Command, o *sandboxOpsFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&o.ExecuteTasks, "execute-tasks", false, "play the storage clients: copy and move tasks are fetched after 1 s and succeed 0.5 s later (metadata only); without it they stay PENDING until --pending-task-timeout, as when no client runs")
	fl.DurationVar(&o.PendingTimeout, "pending-task-timeout", 300*time.Second, "the master's --pending_task_timeout_sec: a task nobody fetched fails with \"pending timeout\" (0: never)")
	fl.DurationVar(&o.ProcessingTimeout, "processing-task-timeout", 300*time.Second, "the master's --processing_task_timeout_sec (0: never)")
	fl.DurationVar(&o.CleanupInterval, "task-cleanup-interval", 30*time.Second, "how often the master applies task timeouts and prunes finished tasks")
	fl.DurationVar(&o.LeaseTTL, "lease-ttl", 10*time.Second, "the master's --default_kv_lease_ttl: how long an exist check or replica lookup blocks a non-forced removal (0: no leases)")
	fl.StringVar(&o.WritingChunks, "writing-chunks", "", "chunk indices of --populate left in the middle of a put (unreadable; removal fails even with force), e.g. 2")
	fl.StringVar(&o.LeasedChunks, "leased-chunks", "", "chunk indices of --populate read once at start, so they hold a lease for --lease-ttl, e.g. 0,1")
	fl.StringVar(&o.DrainNodes, "drain-nodes", "", "node indices whose segment is DRAINING (no new replicas; move and copy targets refused), e.g. 1")
	fl.IntVar(&o.SegmentMiB, "segment-mib", 1024, "capacity of each node's segment, in MiB")
}

// parse checks the index lists.
func (o *sandboxOpsFlags) parse(nodes int, populating bool) error {
	if !populating && (o.WritingChunks != "" || o.LeasedChunks != "") {
		return &UsageError{Err: fmt.Errorf("--writing-chunks and --leased-chunks pick chunks of --populate: give --populate FILE")}
	}
	var err error
	if o.writing, err = parseIndices(o.WritingChunks); err != nil {
		return &UsageError{Err: fmt.Errorf("--writing-chunks: %v", err)}
	}
	if o.leased, err = parseIndices(o.LeasedChunks); err != nil {
		return &UsageError{Err: fmt.Errorf("--leased-chunks: %v", err)}
	}
	if o.drain, err = parseIndices(o.DrainNodes); err != nil {
		return &UsageError{Err: fmt.Errorf("--drain-nodes: %v", err)}
	}
	for n := range o.drain {
		if n >= nodes {
			return &UsageError{Err: fmt.Errorf("--drain-nodes %d: the sandbox has --nodes %d (indices 0..%d)", n, nodes, nodes-1)}
		}
	}
	for c := range o.writing {
		if o.leased[c] {
			return &UsageError{Err: fmt.Errorf("chunk %d is in --writing-chunks and --leased-chunks: a key being written cannot be read, so it holds no lease", c)}
		}
	}
	return nil
}

// maxIndex bounds an index of these lists (chunks of a prompt, nodes).
const maxIndex = 1 << 31

// parseIndices reads "1,3" (spaces allowed, empty: none) into a set of
// indices 0..maxIndex.
func parseIndices(s string) (map[int]bool, error) {
	out := map[int]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n > maxIndex || p == "" || (len(p) > 1 && p[0] == '0') {
			return nil, fmt.Errorf("%q is not an index: expected indices like 1,3", p)
		}
		out[int(n)] = true
	}
	return out, nil
}

// masterOptions are the sandbox master's options for these flags.
func (o *sandboxOpsFlags) masterOptions() []sandboxmaster.Option {
	opts := []sandboxmaster.Option{
		sandboxmaster.WithTaskTimeouts(o.PendingTimeout, o.ProcessingTimeout),
		sandboxmaster.WithTaskCleanupInterval(o.CleanupInterval),
		sandboxmaster.WithLeaseTTL(o.LeaseTTL),
	}
	if o.ExecuteTasks {
		opts = append(opts, sandboxmaster.WithExecuteTasks(0, 0))
	}
	return opts
}

// populateDrop is what --populate leaves out: --drop-chunks, and the chunks
// that will be left mid-write instead.
func (o *sandboxOpsFlags) populateDrop(drop map[int]bool) map[int]bool {
	out := map[int]bool{}
	for i := range drop {
		out[i] = true
	}
	for i := range o.writing {
		out[i] = true
	}
	return out
}

// mountNodes mounts every node's segment (so move and copy have targets
// before anything is stored) and drains the --drain-nodes ones.
func (s *sandbox) mountNodes(ctx context.Context, o *sandboxOpsFlags, nodes int) ([]string, error) {
	ns := sandboxNodes(nodes, uint64(o.SegmentMiB)<<20)
	if err := s.master.Populate(ctx, nil, ns...); err != nil {
		return nil, err
	}
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Name
		if o.drain[i] {
			if err := s.master.SetSegmentStatus(n.Name, mooncake.SegmentDraining); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}

// applyOps leaves the --writing-chunks mid-put and leases the
// --leased-chunks, after --populate stored the rest.
func (s *sandbox) applyOps(ctx context.Context, o *sandboxOpsFlags, p lmcachekey.Params, tokens []uint32, nodes int) error {
	if len(o.writing) == 0 && len(o.leased) == 0 {
		return nil
	}
	eng, err := lmcachekey.NewEngine(p)
	if err != nil {
		return err
	}
	keys, err := eng.Keys(tokens)
	if err != nil {
		return err
	}
	ns := sandboxNodes(nodes, uint64(o.SegmentMiB)<<20)
	var leased []string
	for i, k := range keys {
		switch {
		case o.writing[i]:
			if err := s.master.StartPuts(ctx, []string{k}, ns[i%len(ns)]); err != nil {
				return err
			}
		case o.leased[i]:
			leased = append(leased, k)
		}
	}
	return s.lease(ctx, leased)
}

// lease checks that keys exist, once: the check grants their read leases,
// as an engine's lookup does.
func (s *sandbox) lease(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	c, err := mooncake.Dial(ctx, s.master.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.BatchExistKey(ctx, keys)
	return err
}

// sandboxOpsHelp is what sandbox's help says about the store operations.
const sandboxOpsHelp = `The master models the store operations: exist checks and replica lookups
grant leases (--lease-ttl) that make a non-forced removal keep the key;
--writing-chunks leaves chunks of --populate in the middle of a put (removal
fails even with force); --leased-chunks reads chunks once at start so they
hold a lease (with --engine sglang|vllm both name pages or blocks: every
rank's objects of each). Every node's segment is mounted at start (--segment-mib each;
names in the output), --drain-nodes marks segments DRAINING. Copy and move
tasks stay PENDING until --pending-task-timeout fails them, as on a master
whose storage clients are not running, unless --execute-tasks lets the sandbox
play the client that owns the source segment (fetch after 1 s, done 0.5 s
later; metadata only). Timeouts are applied every --task-cleanup-interval.`
