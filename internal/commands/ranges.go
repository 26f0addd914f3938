package commands

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// intRange is the documented range of a numeric flag. Every numeric flag
// has one, and a value outside it — from the command line, LMC_* or a
// context alike — is exit 2 naming the range: no flag value can make lmc
// allocate or spawn without bound.
type intRange struct {
	min, max int64
	unit     string // what the number counts, for the message
}

// flagRanges are the ranges of lmc's integer flags (help environment and
// docs/errors.md list them).
var flagRanges = map[string]intRange{
	"chunk-size":  {1, 1 << 20, "tokens per chunk"},
	"world-size":  {1, 4096, "ranks (TP × PP)"},
	"worker-id":   {0, 4095, "a rank"},
	"layer":       {-1, 4095, "a layer index (-1: not layer-wise)"},
	"concurrency": {1, 256, "prompts in flight"},
	"max-probes":  {1, 1000, "existence checks"},
	"sample":      {0, 1_000_000, "keys sampled"},
	"prompt":      {0, 1 << 31, "a 0-based prompt index"},
	"chunk":       {-1, 1 << 31, "a 0-based chunk index (-1: every chunk)"},
	"nodes":       {1, 64, "sandbox nodes"},
	// SGLang and vLLM (TP × PP × PCP is bounded by 4096 ranks as well).
	"page-size":          {1, 1 << 20, "tokens per page"},
	"block-size":         {1, 1 << 20, "tokens per block"},
	"tp-size":            {1, 1024, "tensor parallel ranks"},
	"pp-size":            {1, 256, "pipeline parallel ranks"},
	"pcp-size":           {1, 64, "prefill context parallel ranks"},
	"dcp-size":           {1, 1024, "decode context parallel ranks"},
	"tp-rank":            {0, 1023, "a TP rank"},
	"pp-rank":            {0, 255, "a PP rank"},
	"pcp-rank":           {0, 63, "a PCP rank"},
	"tp-lcm-size":        {0, 4096, "TP ranks (0: no tp_lcm_size)"},
	"num-kv-heads":       {0, 4096, "KV heads (0: not given)"},
	"kv-cache-group":     {0, 1023, "a KV-cache group index"},
	"prefetch-threshold": {0, 1 << 24, "tokens (0: SGLang's default 256)"},
	"mp-servers":         {1, 16, "sandbox MP servers"},
	"segment-mib":        {1, 1 << 20, "MiB per sandbox segment"},
}

// durationRange bounds duration flags: positive, at most a day.
var durationRanges = map[string][2]time.Duration{
	"timeout":  {time.Millisecond, 24 * time.Hour},
	"interval": {100 * time.Millisecond, 24 * time.Hour},
	// the sandbox master's task and lease settings (0: never, no leases)
	"pending-task-timeout":    {0, 24 * time.Hour},
	"processing-task-timeout": {0, 24 * time.Hour},
	"task-cleanup-interval":   {10 * time.Millisecond, 24 * time.Hour},
	"lease-ttl":               {0, 24 * time.Hour},
}

// checkRanges validates every numeric flag of cmd against its range,
// naming where a bad value came from.
func checkRanges(cmd *cobra.Command, given FlagSources) error {
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if err != nil {
			return
		}
		where := fromWhere(given, fl.Name)
		if r, ok := flagRanges[fl.Name]; ok && (fl.Value.Type() == "int" || fl.Value.Type() == "int64") {
			n, perr := strconv.ParseInt(fl.Value.String(), 10, 64)
			if perr != nil || n < r.min || n > r.max {
				err = &UsageError{Err: fmt.Errorf("--%s %s%s: must be %d..%d (%s)", fl.Name, fl.Value.String(), where, r.min, r.max, r.unit)}
			}
			return
		}
		if r, ok := durationRanges[fl.Name]; ok && fl.Value.Type() == "duration" {
			d, perr := time.ParseDuration(fl.Value.String())
			if perr != nil || d < r[0] || d > r[1] {
				msg := fmt.Sprintf("--%s %s%s: must be between %s and %s (e.g. 10s)", fl.Name, fl.Value.String(), where, r[0], r[1])
				if fl.Name == "timeout" {
					msg += "; there is no way to turn the deadline off"
				}
				err = &UsageError{Err: errors.New(msg)}
			}
		}
	})
	return err
}
