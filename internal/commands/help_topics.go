package commands

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"lmc/internal/tokenize/lmcachekey"
)

// ExitCodesHelp is the exit-code contract (also in the README).
const ExitCodesHelp = `lmc's exit codes are a contract for scripts; they never change meaning:

  0    success (for lookups: at least the requested share of the prompt hit)
  1    the operation failed: the backend said no, or an internal error
  2    usage error or invalid input (bad flags, unreadable or malformed tokens,
       inconsistent key parameters, no hash seed)
  3    backend unreachable or timed out: connection refused or reset, DNS
       failure, deadline exceeded (safe to retry)
  4    lookup result below the requested threshold (--min-hit)
  130  interrupted (Ctrl-C or SIGTERM); JSON output is then absent, never
       half-written

Data goes to stdout, diagnostics to stderr.`

func environmentHelp() string {
	return `Every flag can also be set as LMC_<FLAG>, upper case with '-' as '_'
(e.g. --hash-seed → LMC_HASH_SEED, --chunk-size → LMC_CHUNK_SIZE, --output →
LMC_OUTPUT). Precedence: flags, then LMC_* variables, then the context, then
the LMCache config, then defaults. Numeric values from any of them are
checked against the flag's range.

  LMC_CONTEXT           the context to use (like --context; default: the
                        config's current-context)
  LMC_CONFIG            lmc's config file (default $XDG_CONFIG_HOME/lmc/config.yaml
                        or ~/.config/lmc/config.yaml)
  LMC_YES               answer yes to confirmations (like --yes; lmc says so)
  LMC_HASH_SEED         the serving engine's PYTHONHASHSEED (NONE_HASH = H(seed))
  PYTHONHASHSEED        used for the seed when nothing else gives one (with a
                        warning: it is this shell's, not necessarily the engine's)
  LMCACHE_CONFIG_FILE   LMCache engine config YAML (like --lmcache-config)
  LMCACHE_CHUNK_SIZE, LMCACHE_SAVE_UNFULL_CHUNK, LMCACHE_PRE_CACHING_HASH_ALGORITHM,
  LMCACHE_EXTERNAL_LOOKUP_CLIENT, LMCACHE_REMOTE_URL, LMCACHE_EXTRA_CONFIG
                        override the LMCache config file, as in LMCache
  NO_COLOR              disable colour (any value)
  CLICOLOR=0            disable colour; CLICOLOR_FORCE=1 forces it when piped
  TERM=dumb             disable colour
  LMC_FORCE_TTY         render as on a terminal even when piped (value: width)
  LMC_NO_PROMPT         never ask for confirmation`
}

func keySchemasHelp() string {
	var b strings.Builder
	b.WriteString("--key-schema picks the LMCache era whose keys to compute. An era fixes the\nobject hashed per chunk and the key string:\n\n")
	for _, s := range lmcachekey.Schemas {
		fmt.Fprintf(&b, "  %-8s %s\n           key:    %s\n           hashes: %s\n", s.Name, s.Period, s.Format, s.Hashed)
	}
	b.WriteString(`
Hash algorithms (--hash, LMCache's pre_caching_hash_algorithm):

`)
	for _, a := range lmcachekey.Algorithms {
		fmt.Fprintf(&b, "  %-18s %s\n", a, lmcachekey.AlgorithmHelp[a])
	}
	b.WriteString(`
dtype renderings in keys: ` + strings.Join(lmcachekey.DTypeValues, ", ") + `.
vLLM's --kv-cache-dtype fp8/fp8_e4m3/fp8_e5m2 is stored as uint8, fp8_inc as fp8_e4m3fn.`)
	return b.String()
}

func helpTopics() []*cobra.Command {
	topic := func(name, short, long string) *cobra.Command {
		return &cobra.Command{Use: name, Short: short, Long: long, Hidden: false}
	}
	return []*cobra.Command{
		topic("exit-codes", "Exit codes and what they mean", ExitCodesHelp),
		topic("environment", "Environment variables lmc reads", environmentHelp()),
		topic("key-schemas", "Key formats, hash algorithms and dtypes LMCache has used", keySchemasHelp()),
		topic("engines", "SGLang's and vLLM's own Mooncake keys: --engine, its flags and eras", enginesHelp()),
	}
}
