package commands

// The one-line summary of each of root's commands, as help lists them. They
// live here rather than in the commands' files so that 'lmc help' (and
// 'lmc', 'lmc --help') can list every command without building it
// (NewCmdRootFor): each constructor takes its Short from here.

// shortFor is the summary of root's command name ("" for none).
func shortFor(name string) string {
	switch name {
	case "keys":
		return "Compute the Mooncake keys LMCache stores a prompt under"
	case "explain":
		return "Show every input to every chunk hash, and the traps that break keys"
	case "lookup":
		return "How much of a prompt is cached, chunk by chunk, and where"
	case "doctor":
		return "Find out why a prompt does not hit: key mismatches and missing ranks"
	case "health":
		return "Check that the Mooncake master or the LMCache controller answers"
	case "move":
		return "Move (or copy) a prompt's cached prefix between instances, or between Mooncake segments"
	case "pin":
		return "Pin a prompt's cached prefix so that clear and eviction keep it"
	case "clear":
		return "Evict everything an instance holds in a location (except pinned chunks)"
	case "prefetch":
		return "Warm an MP server's L1 with a prompt's chunks from L2 (LMCache MP mode)"
	case "task":
		return "Copy and move tasks on a Mooncake master: their state, by id"
	case "store":
		return "What a Mooncake store holds: keys by schema, tiers, segments"
	case "compress":
		return "Compress a prompt's cached prefix in place (CacheGen)"
	case "decompress":
		return "Decompress a prompt's cached prefix"
	case "workers":
		return "List the workers registered with the controller"
	case "stats":
		return "Key statistics per instance (chunk-key counts)"
	case "usage":
		return "Fleet memory per MP server and shared pool, used against declared capacity (LMCache MP mode)"
	case "quota":
		return "Per-tenant (cache salt) L2 quotas of the LMCache MP coordinator"
	case "sandbox":
		return "Run a local Mooncake master and LMCache controller for trying lmc and testing scripts"
	case "demo":
		return "Show lmc's main job on a local sandbox: keys, lookups, pin and clear"
	case "config":
		return "Named contexts: masters, controllers and key parameters you use often"
	case "version":
		return "Print lmc's version, and the versions of the servers it talks to"
	}
	return ""
}
