package sandboxcoordinator

// Key resolution for the tokens form (spec §4): the cap, the salt check,
// complete chunks only, the blake3 chain from NONE = BLAKE3(12 zero
// bytes), fan-out chunk-major then rank.

import (
	"fmt"
	"net/http"
	"strings"

	"lmc/internal/pyjson"
	"lmc/internal/tokenize/lmcachekey"
)

const maxTokenIDs = 1_000_000

type tokensForm struct {
	tokens []int64
	model  string
	ws     int64
	salt   string
}

// kvRank packs (ws, r) with local = global.
func kvRank(ws, r int64) int64 {
	ws, r = ws&0xff, r&0xff
	return ws<<24 | r<<16 | ws<<8 | r
}

// chunkHashes hashes the complete chunks; tokens outside uint32 make the
// coordinator's big-endian pack fail (500).
func chunkHashes(tokens []int64, chunkSize int) ([]string, error) {
	n := len(tokens) / chunkSize
	if n == 0 {
		return nil, nil
	}
	toks := make([]uint32, n*chunkSize)
	for i := range toks {
		t := tokens[i]
		if t < 0 || t > 1<<32-1 {
			return nil, errInternal
		}
		toks[i] = uint32(t)
	}
	p := lmcachekey.DefaultParams()
	p.Schema, p.Algorithm, p.NoneHash, p.ChunkSize, p.Model = lmcachekey.SchemaMP, lmcachekey.Blake3, lmcachekey.Blake3Initial(), chunkSize, "m"
	e, err := lmcachekey.NewEngine(p)
	if err != nil {
		return nil, errInternal
	}
	out := make([]string, 0, n)
	err = e.Each(toks, func(c lmcachekey.Chunk) error {
		out = append(out, strings.ToLower(c.Hash.Hex()))
		return nil
	})
	return out, err
}

type internalError struct{}

func (internalError) Error() string { return "Internal Server Error" }

var errInternal = internalError{}

func internalServerError() reply {
	return reply{status: http.StatusInternalServerError, body: []byte("Internal Server Error"), ctype: "text/plain; charset=utf-8"}
}

// resolve returns the keys (chunk-major, rank) and the chunk count, or
// the error answer (400 with detail, 500 plain).
func (s *Server) resolve(f tokensForm) ([]objKey, int, *reply) {
	if len(f.tokens) > maxTokenIDs {
		r := detail(http.StatusBadRequest, fmt.Sprintf("too many token_ids in a single request (limit=%d, got=%d)", maxTokenIDs, len(f.tokens)))
		return nil, 0, &r
	}
	if err := checkSalt(f.salt); err != nil {
		r := detail(http.StatusBadRequest, err.Error())
		return nil, 0, &r
	}
	hashes, err := chunkHashes(f.tokens, s.cfg.chunkSize)
	if err != nil {
		r := internalServerError()
		return nil, 0, &r
	}
	if len(hashes) > 0 && strings.Contains(f.model, "@") {
		r := detail(http.StatusBadRequest, fmt.Sprintf("model_name must not contain '@' (got %s)", pyjson.Repr(f.model)))
		return nil, 0, &r
	}
	keys := make([]objKey, 0, len(hashes)*int(f.ws))
	for _, h := range hashes {
		for r := int64(0); r < f.ws; r++ {
			keys = append(keys, objKey{hash: h, model: f.model, rank: kvRank(f.ws, r), salt: f.salt})
		}
	}
	return keys, len(hashes), nil
}
