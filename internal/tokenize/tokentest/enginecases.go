package tokentest

// The cases of the engine-keys vectors, as the engine packages' tests and
// the commands' tests read them. E is the era type of the reader (sglangkey
// and vllmkey key their eras by their own Era; other readers by string).

// SGLangCase is an SGLang HiCache case.
type SGLangCase[E ~string] struct {
	ID     string `json:"id"`
	Engine string `json:"engine"`
	Params struct {
		PageSize        int     `json:"page_size"`
		ModelName       *string `json:"model_name"`
		TPSize          int     `json:"tp_size"`
		PPSize          int     `json:"pp_size"`
		MLA             bool    `json:"is_mla"`
		ExtraBackendTag *string `json:"extra_backend_tag"`
		Eagle           bool    `json:"eagle_bigram"`
		ExtraKey        *string `json:"extra_key"`
		CacheSalt       *string `json:"cache_salt"`
		TPLCMSize       *int    `json:"tp_lcm_size"`
		SplitHeads      bool    `json:"split_heads"`
	} `json:"params"`
	NumTokens     int      `json:"num_tokens"`
	Tokens        []uint32 `json:"tokens"`
	NamespaceSeed string   `json:"namespace_seed"`
	Eras          map[E]struct {
		KeyPrefix *string `json:"key_prefix"`
		Pages     []struct {
			Index int                 `json:"index"`
			Start int                 `json:"start"`
			End   int                 `json:"end"`
			Hash  string              `json:"hash"`
			Keys  map[string][]string `json:"keys"`
		} `json:"pages"`
	} `json:"eras"`
	HitScenarios []struct {
		Era         E              `json:"era"`
		Description string         `json:"description"`
		Missing     []string       `json:"missing_keys"`
		PerRank     map[string]int `json:"per_rank_hit_tokens"`
		Min         int            `json:"hit_tokens_min_over_ranks"`
	} `json:"hit_scenarios"`
}

// VLLMBlock is one block (or chunk) of a vLLM case.
type VLLMBlock[E ~string] struct {
	Index     int               `json:"index"`
	Start     int               `json:"start"`
	End       int               `json:"end"`
	ExtraKeys string            `json:"extra_keys"`
	Hash      string            `json:"hash"`
	ByRank    map[string]string `json:"keys_written_by_rank"`
	Keys      map[E]string      `json:"keys"` // vllm-ascend
	Key       string            `json:"key"`  // A0
}

// VLLMCase is a case of vLLM's store connector or of vllm-ascend's.
type VLLMCase[E ~string] struct {
	ID     string `json:"id"`
	Engine string `json:"engine"`
	Params struct {
		BlockSize   int     `json:"block_size"`
		HashAlgo    string  `json:"hash_algo"`
		Seed        *string `json:"none_hash_seed"`
		Model       string  `json:"model"`
		ModelInKey  string  `json:"model_name_in_key"`
		TPSize      int     `json:"tp_size"`
		PPSize      int     `json:"pp_size"`
		PCPSize     int     `json:"pcp_size"`
		DCPSize     int     `json:"dcp_size"`
		NumKVHeads  int     `json:"num_kv_heads"`
		MLA         bool    `json:"is_mla"`
		CachePrefix string  `json:"cache_prefix"`
		Group       int     `json:"kv_cache_group"`
		LoRA        *string `json:"lora_name"`
		Salt        *string `json:"cache_salt"`
		MM          [][]any `json:"mm_features"`
		// vllm-ascend
		TPRank    int `json:"tp_rank"`
		PPRank    int `json:"pp_rank"`
		HeadOrTP  int `json:"head_or_tp_rank"`
		WorldSize int `json:"world_size"`
		WorkerID  int `json:"worker_id"`
	} `json:"params"`
	NoneHash     string                `json:"none_hash"`
	NumTokens    int                   `json:"num_tokens"`
	Tokens       []uint32              `json:"tokens"`
	Formats      map[E][]VLLMBlock[E]  `json:"formats"`
	Blocks       []VLLMBlock[E]        `json:"blocks"`
	Chunks       []VLLMBlock[E]        `json:"chunks"`
	LookupNS     []string              `json:"lookup_namespaces_current"`
	LookupCur    [][]string            `json:"lookup_keys_current"`
	LookupPR     [][]string            `json:"lookup_keys_pr40900"`
	KeysByTP     map[string]VLLMV0Keys `json:"keys_by_tp_rank"`
	HitScenarios []struct {
		Description string   `json:"description"`
		MissingCur  []string `json:"missing_keys_current"`
		MissingPR   []string `json:"missing_keys_pr40900"`
		Prefix      int      `json:"prefix_hit_tokens"`
		Current     int      `json:"engine_current_hit"`
		PR40900     int      `json:"engine_pr40900_hit"`
	} `json:"hit_scenarios"`
}

// VLLMV0Keys are the keys of vLLM's V0 connector for one TP rank.
type VLLMV0Keys struct {
	PrefixInt string `json:"prefix_int"`
	KV        string `json:"kv_key"`
	Hidden    string `json:"hidden_key"`
}
