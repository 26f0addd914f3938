package commands

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/coordinatorclient"
)

// NewCmdPrefetch builds `lmc prefetch`.
func NewCmdPrefetch(f *Factory) *cobra.Command {
	var b BackendFlags
	var in InputFlags
	var instance, requestID string
	cmd := &cobra.Command{
		Use:   "prefetch --coordinator URL --instance I [FILE|-] [--wait]",
		Short: shortFor("prefetch"),
		Long: `Ask the LMCache MP coordinator to load a prompt's chunks from L2 into one MP
server's L1 ahead of traffic (POST /cache/prefetches): the coordinator relays
the tokens to that server, which resolves them with its own chunk size and
hash. The model, world size and --cache-salt come from the key flags
(--server tells them). Each submit starts a new job; fewer tokens than one
chunk is a no-op.

--wait polls the job until it completes (Ctrl-C stops waiting, not the job;
--timeout, when given, bounds the whole wait); the first poll that sees the completion consumes it, so lmc never polls twice
at once, and a completion whose answer was lost is reported as completed
without counts. --request-id ID polls a job submitted earlier instead of
submitting. Keys not found in L2 are named by chunk and rank (on servers that
report missing_key_indices). --verify looks the prompt up on the instance's
L1 afterwards (and implies --wait). --dry-run submits nothing: with --wait or
--verify it is a usage error.

` + inputHelp + `

JSON (-o json): {"operation": "prefetch", "instance_id", "request_id",
"status" (submitted, noop, pending, completed), "requested_chunks",
"num_tokens", "found_keys", "total_keys", "missing_key_indices", "consumed",
"verify", "generation", ...}.

Exit codes: 0 submitted or completed (found_keys may be fewer than
total_keys: a warning names the missing chunks), 1 the coordinator or the MP
server refused (unknown instance, 502) or the job was still running when
--timeout ended the wait, 2 bad input, 3 unreachable, 130 interrupted while
waiting.`,
		Example: `  lmc prefetch --coordinator http://localhost:9300 --instance server-1 --server http://localhost:8080 --wait prompt.json
  lmc prefetch --coordinator http://localhost:9300 --instance server-1 --model meta-llama/Llama-3.1-8B-Instruct --tokens 1,2,3 -o json
  lmc prefetch --coordinator http://localhost:9300 --instance server-1 --request-id 3f1c2a9e8b7d4c6fa0e1d2c3b4a59687 --wait`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := f.backendSet(&b, coordinatorBackend, coordinatorBackend)
			if err != nil {
				return err
			}
			if kind.name == "" {
				return errNoCoordinator
			}
			if instance == "" {
				return &UsageError{Err: errors.New("--instance is required: the MP server whose L1 to warm ('lmc workers --coordinator URL' lists them)")}
			}
			return prefetchRun(f, cmd, args, b.Coordinator, instance, requestID)
		},
	}
	addCoordinatorFlag(cmd, &b)
	cmd.Flags().StringVar(&instance, "instance", "", "the MP server instance (its --instance-id) whose L1 to warm")
	cmd.Flags().StringVar(&requestID, "request-id", "", "poll this earlier prefetch instead of submitting one")
	cmd.Flags().Bool("wait", false, "wait until the prefetch completed (Ctrl-C stops waiting, not the job; --timeout, when given, bounds the whole wait)")
	cmd.Flags().Duration("interval", coordinatorclient.DefaultPollInterval, "time between polls with --wait")
	cmd.Flags().Bool("verify", false, "wait, then look the prompt up in the instance's L1")
	cmd.Flags().Bool("dry-run", false, "show the request that would be sent and what the instance's L1 holds now; submit nothing")
	addInputFlags(cmd, &in)
	addCoordinatorKeyFlags(cmd)
	return cmd
}

func prefetchRun(f *Factory, cmd *cobra.Command, args []string, url, instance, requestID string) error {
	ctx := cmd.Context()
	wait, verify, dryRun := flagBool(cmd, "wait"), flagBool(cmd, "verify"), flagBool(cmd, "dry-run")
	hasPrompt := len(args) > 0 || inputFlagsOf(cmd).Tokens != "" || flagString(cmd, "text") != "" || flagString(cmd, "prompt-file") != "" || flagString(cmd, "messages") != ""
	if requestID != "" && (hasPrompt || dryRun) {
		return &UsageError{Err: errors.New("--request-id polls an earlier prefetch: give no prompt and no --dry-run")}
	}
	if dryRun && (wait || verify) {
		return &UsageError{Err: errors.New("--dry-run submits no prefetch: there is nothing to --wait for or --verify")}
	}
	if requestID != "" && verify {
		return &UsageError{Err: errors.New("--verify needs the prompt: it cannot go with --request-id")}
	}
	op, err := f.prepareCoordOp(cmd, args, url, requestID == "")
	if err != nil {
		return err
	}
	v := op.view("prefetch", instance)
	v.Tier = "l1"
	interval := flagDuration(cmd, "interval", coordinatorclient.DefaultPollInterval)
	expect := 0
	if requestID == "" {
		if dryRun {
			v.DryRun, v.RequestedChunks = true, op.chunks()
			v.Request = op.requestText("POST", "/cache/prefetches", fmt.Sprintf(`"instance_id": %q`, instance))
			if v.Verify, err = op.verifyOn(ctx, instance, coordinatorclient.TierL1); err != nil {
				return err
			}
			return op.write(v)
		}
		r, err := op.c.Prefetch(ctx, coordinatorclient.PrefetchRequest{InstanceID: instance, TokensRequest: op.ck.tokensRequest(op.tokens)})
		if err != nil {
			return f.coordinatorErr(op.c, op.ck.chunkSizeHint(err))
		}
		v.RequestID, v.Status, v.RequestedChunks, v.Warnings = r.RequestID, r.Status, r.Chunks, r.Warnings
		v.NumTokens = r.Chunks * op.ck.ChunkSize
		if r.Status == "noop" || r.Chunks == 0 {
			v.Warning = fmt.Sprintf("the prompt has fewer tokens (%d) than one chunk (%d): there is nothing to prefetch", len(op.tokens), op.ck.ChunkSize)
			return op.write(v)
		}
		if r.RequestID == "" {
			return fmt.Errorf("LMCache coordinator %s: the prefetch was submitted without a request id: lmc cannot follow it", op.c.BaseURL())
		}
		requestID = r.RequestID
		expect = r.Chunks * op.ck.WorldSize
		if !wait && !verify {
			return op.write(v)
		}
	}
	v.RequestID = requestID
	var st *coordinatorclient.PrefetchStatus
	if wait || verify {
		prog := op.progress(func(s string) string { return "prefetch " + requestID + " on " + instance + ": " + s })
		wctx, cancel := f.coordWaitContext(ctx)
		defer cancel()
		st, err = op.c.WaitPrefetch(wctx, instance, requestID, interval, expect, func(p *coordinatorclient.PrefetchStatus) { prog(p.Status) })
		op.endProgress()
		if err != nil && ctx.Err() == nil && wctx.Err() != nil {
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("prefetch %s on %s was still running when --timeout %s ended the wait: 'lmc prefetch --coordinator %s --instance %s --request-id %s --wait' follows it", requestID, instance, f.Timeout, op.c.BaseURL(), instance, requestID)}
		}
	} else {
		st, err = op.c.PrefetchStatus(ctx, instance, requestID)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "prefetch %s keeps running on %s: 'lmc prefetch --coordinator %s --instance %s --request-id %s --wait' follows it\n", requestID, instance, op.c.BaseURL(), instance, requestID)
			return ctx.Err()
		}
		return f.coordinatorErr(op.c, err)
	}
	v.Status, v.Consumed, v.MissingKeyIndices = st.Status, st.Consumed, st.MissingKeyIndices
	v.Warnings = append(v.Warnings, st.Warnings...)
	if st.Completed() && !st.Consumed {
		v.FoundKeys, v.TotalKeys = intp(st.FoundKeys), intp(st.TotalKeys)
		if st.FoundKeys < st.TotalKeys {
			v.Warnings = append(v.Warnings, missingKeysText(st, op.ck.WorldSize))
		}
	}
	if verify {
		if v.Verify, err = op.verifyOn(ctx, instance, coordinatorclient.TierL1); err != nil {
			return err
		}
	}
	return op.write(v)
}

// missingKeysText names the keys a prefetch did not find in L2.
func missingKeysText(st *coordinatorclient.PrefetchStatus, ws int) string {
	s := fmt.Sprintf("%d of %d keys were not loaded (not in L2, or already in L1)", st.TotalKeys-st.FoundKeys, st.TotalKeys)
	if len(st.MissingKeyIndices) == 0 {
		return s + " (this MP server does not say which; lmc lookup --coordinator --tier l2 shows what L2 holds)"
	}
	chunks := map[int][]int{}
	for _, k := range st.MissingKeyIndices {
		if k >= 0 {
			chunks[k/max(ws, 1)] = append(chunks[k/max(ws, 1)], k%max(ws, 1))
		}
	}
	var idx []int
	for c := range chunks {
		idx = append(idx, c)
	}
	sort.Ints(idx)
	var parts []string
	for i, c := range idx {
		if i == 12 {
			parts = append(parts, fmt.Sprintf("… %d more", len(idx)-i))
			break
		}
		p := "chunk " + strconv.Itoa(c)
		if ws > 1 {
			var rs []string
			for _, r := range chunks[c] {
				rs = append(rs, strconv.Itoa(r))
			}
			p += " rank " + strings.Join(rs, ",")
		}
		parts = append(parts, p)
	}
	return s + ": " + strings.Join(parts, "; ")
}
