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
	"segment-mib": {1, 1 << 20, "MiB per sandbox segment"},
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
		where := ""
		if src := given.Source(fl.Name); src != "" && src != "flag --"+fl.Name {
			where = " (from " + src + ")"
		}
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
