package commands

import (
	"context"

	"github.com/spf13/cobra"

	"lmc/internal/commands/printers"
)

// NewCmdStore builds `lmc store`.
func NewCmdStore(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: shortFor("store"),
		Long: `Read what a Mooncake store holds through the master's admin API (--admin,
e.g. http://HOST:9003), which grants no leases: the key listing
(/get_all_keys), lease-free lookups of its keys (/batch_query_keys) and the
segment list (/get_segments_detail). No RPC lists keys or segments without
leasing them; --master is used only to resolve client ids to IPs
(BatchQueryIp). The admin API sees the default tenant only, and only keys with
a readable replica.

The walks stream: memory stays bounded whatever the store holds, and
--timeout bounds every wait for data, not the whole walk.`,
		Example: `  lmc store summary --admin http://10.0.0.1:9003
  lmc store ls --admin http://10.0.0.1:9003 --model meta-llama/Llama-3.1-8B-Instruct --tier disk -o jsonl
  lmc store segments --admin http://10.0.0.1:9003 --master 10.0.0.1:50051`,
	}
	cmd.AddCommand(newCmdStoreSummary(f), newCmdStoreLs(f), newCmdStoreSegments(f))
	return cmd
}

// onStoreInventory reads -o (one of formats), opens the store inventory of
// b and runs run on it, closing the inventory after.
func (f *Factory) onStoreInventory(ctx context.Context, b *BackendFlags, formats []printers.Format, run func(printers.Format, *storeInventory) error) error {
	fm, err := f.outputFormat(formats)
	var inv *storeInventory
	if err == nil {
		inv, err = f.openStoreInventory(ctx, b)
	}
	if err != nil {
		return err
	}
	defer inv.close()
	return run(fm, inv)
}

func newCmdStoreSummary(f *Factory) *cobra.Command {
	var b BackendFlags
	cmd := &cobra.Command{
		Use:   "summary --admin URL [--master ADDR]",
		Short: "Keys by recognised key schema, replicas by tier, segments with capacity and owner",
		Long: `Walk every key of the store and count: keys by the key schema they were
written under and its parameters (LMCache: key format and era, model, world
size, keys per worker id, dtype, hash kind, MP salt; SGLang HiCache and vLLM's
or vllm-ascend's own connectors: writer and eras, key prefix or model, layout,
keys per rank), keys lmc does not recognise, replicas and bytes by tier (memory,
nof, disk, local_disk), and per segment the replicas located on it (a replica
belongs to the segment whose endpoint and address range contain it) next to
its status, used bytes, capacity, free bytes and the client that mounts it.

The walk is not a snapshot: keys removed meanwhile are counted as vanished.

JSON: {"admin", "keys", "vanished", "unreadable", "schemas": [{"engine",
"format", "key_schemas", "model", "world_size", "dtype", "hash_kind",
"algorithms", "cache_salt", "tags", "keys", "workers": [{"worker_id", "keys"}],
"example", and for SGLang and vLLM "writer", "layout" (SGLang mha, mla,
mha-or-mla, hybrid:<pool>, warmup; vLLM kv), "prefix", "hash_bytes",
"kv_cache_group", "ranks": [{"rank", "keys"}] (world_size 0, workers [];
format hicache, store-connector, ascend or v0; model as vLLM's keys carry
it, "" for SGLang)}], "other_group_keys", "unrecognised": {"keys", "examples"},
"tiers": [{"tier", "keys", "replicas", "bytes"}], "segments": [{"name", "id",
"client_id", "client_ips", "endpoint", "status", "used_bytes",
"capacity_bytes", "free_bytes", "replicas", "replica_bytes", …}],
"segment_total", "unlocated", "elapsed_ms", "notes"}.`,
		Example: `  lmc store summary --admin http://10.0.0.1:9003
  lmc store summary --admin http://10.0.0.1:9003 --master 10.0.0.1:50051 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.onStoreInventory(cmd.Context(), &b, []printers.Format{printers.Table, printers.Plain, printers.JSON}, func(fm printers.Format, inv *storeInventory) error {
				v, err := inv.summary(cmd.Context())
				if err != nil {
					return err
				}
				return writeSummary(f, fm, v)
			})
		},
	}
	addStoreFlags(cmd, &b)
	return cmd
}

func newCmdStoreLs(f *Factory) *cobra.Command {
	var b BackendFlags
	var fl storeLsFilter
	cmd := &cobra.Command{
		Use:   "ls --admin URL [--match REGEX] [--model M] [--tier T] [--segment S]",
		Short: "List the store's keys, streamed, with their tiers and segments",
		Long: `List the keys of the store as the listing streams in (the master's order; --sort
holds them to sort, which costs memory). --match keeps the keys an ECMAScript
regex finds, exactly as the master's RemoveByRegex matches ('lmc clear --master
--match' removes the same keys); --model keeps keys written for that model
(recognised key formats that carry a model: LMCache's; vLLM's, as its last
path component; SGLang's S3 and later, as the served model name with "/" ->
"-" after any extra backend tag); --tier keeps keys with a replica in that tier
(memory, nof, disk, local_disk); --segment keeps keys with a replica on that
segment.

-o plain prints one key per line and, without --tier or --segment, reads only
the listing (fast); table, wide and jsonl look every key up for its replicas.
-o jsonl prints one object per key, for millions of keys: {"key", "engine",
"model", "format", "worker_id", "replicas": [{"tier", "segment", "endpoint",
"size", "path"}], "error", and for SGLang and vLLM keys "rank" (as lookup names
ranks; "?N" for an SGLang "_N_k" object alone: TP rank N of MHA or PP stage N
of MLA), "prefix", "layout"}.`,
		Example: `  lmc store ls --admin http://10.0.0.1:9003 --match '^meta-llama/' | wc -l
  lmc store ls --admin http://10.0.0.1:9003 --segment 10.0.0.2:17777 -o jsonl
  lmc store ls --admin http://10.0.0.1:9003 --tier disk --sort`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.onStoreInventory(cmd.Context(), &b, storeLsFormats, func(fm printers.Format, inv *storeInventory) error {
				return inv.ls(cmd.Context(), fm, fl)
			})
		},
	}
	addStoreFlags(cmd, &b)
	flags := cmd.Flags()
	flags.StringVar(&fl.Match, "match", "", "keep keys the ECMAScript regex finds (unanchored, case-sensitive, as RemoveByRegex)")
	flags.StringVar(&fl.Model, "model", "", "keep keys written for this model")
	flags.StringVar(&fl.Tier, "tier", "", "keep keys with a replica in this tier: memory, nof, disk, local_disk")
	flags.StringVar(&fl.Segment, "segment", "", "keep keys with a replica on this segment (a name from 'lmc store segments')")
	flags.BoolVar(&fl.Sort, "sort", false, "sort by key (holds every listed key in memory)")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(storeTiers, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newCmdStoreSegments(f *Factory) *cobra.Command {
	var b BackendFlags
	cmd := &cobra.Command{
		Use:   "segments --admin URL [--master ADDR]",
		Short: "The store's segments: status, used, capacity, free, owner",
		Long: `List the segments mounted on the master (/get_segments_detail): name (what
--to and --from of 'lmc move --master' take), status (OK, DRAINING, DRAINED,
…; only OK segments take new replicas), used, capacity and free bytes, and the
client that mounts it (with --master, its IPs through BatchQueryIp). -o wide
adds the endpoint, protocol, base address and segment id.

` + usedNote + `.

JSON: {"admin", "segments": [{"name", "id", "client_id", "client_ips",
"endpoint", "protocol", "base_address", "size_bytes", "status", "used_bytes",
"capacity_bytes", "free_bytes", "usage_percent"}], "total": {"segments",
"clients", "used_bytes", "capacity_bytes", "free_bytes"}, "notes"}.`,
		Example: `  lmc store segments --admin http://10.0.0.1:9003
  lmc store segments --admin http://10.0.0.1:9003 --master 10.0.0.1:50051 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.onStoreInventory(cmd.Context(), &b, []printers.Format{printers.Table, printers.Wide, printers.Plain, printers.JSON}, func(fm printers.Format, inv *storeInventory) error {
				_, v, err := inv.segments(cmd.Context())
				if err != nil {
					return err
				}
				return writeSegments(f, fm, v)
			})
		},
	}
	addStoreFlags(cmd, &b)
	return cmd
}
