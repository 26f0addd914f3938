package sandboxcoordinator

// The coordinator's request models (spec §3.2, §3.5, §6), validated the
// pydantic v2 way.

import (
	"fmt"

	"lmc/internal/pyjson"
)

// encodedKeyValue validates one EncodedObjectKey (a dataclass).
func (c *v) encodedKeyValue(val any, loc []any) (encodedKey, bool) {
	o, ok := val.(*pyjson.Dict)
	if !ok {
		c.add("dataclass_type", loc, "Input should be a dictionary or an instance of EncodedObjectKey", val, pyjson.Object{{"class_name", "EncodedObjectKey"}})
		return encodedKey{}, false
	}
	var k encodedKey
	ok1 := true
	var good bool
	if k.hash, good = c.str(o, loc, "chunk_hash_hex", true, ""); !good {
		ok1 = false
	}
	if k.model, good = c.str(o, loc, "model_name", true, ""); !good {
		ok1 = false
	}
	if k.rank, good = c.int(o, loc, "kv_rank", true, 0, bound{}); !good {
		ok1 = false
	}
	if k.group, good = c.int(o, loc, "object_group_id", false, 0, bound{}); !good {
		ok1 = false
	}
	if k.salt, good = c.str(o, loc, "cache_salt", false, ""); !good {
		ok1 = false
	}
	return k, ok1
}

// keyList validates list[EncodedObjectKey] and then converts it (the
// field validator): a conversion failure is one value_error on the whole
// field, with the validated list as input.
func (c *v) keyList(o *pyjson.Dict, loc []any, name string, required bool) ([]encodedKey, []objKey, bool) {
	l, ok := c.list(o, loc, name, required)
	if !ok {
		return nil, nil, false
	}
	eks := make([]encodedKey, len(l))
	good := true
	for i, e := range l {
		k, ok := c.encodedKeyValue(e, at(loc, name, i))
		good = good && ok
		eks[i] = k
	}
	if !good {
		return nil, nil, false
	}
	keys := make([]objKey, len(eks))
	for i, ek := range eks {
		k, err := ek.convert()
		if err != nil {
			in := make([]any, len(eks))
			for j, e := range eks {
				in[j] = e.wire()
			}
			c.valueError(at(loc, name), err.Error(), in)
			return nil, nil, false
		}
		keys[i] = k
	}
	return eks, keys, true
}

// tokensFields validates the tokens-form fields shared by the lookup,
// pin, delete, prefetch and move models.
func (c *v) tokensFields(o *pyjson.Dict, modelRequired, wsRequired bool) (tokensForm, bool) {
	loc := []any{"body"}
	var f tokensForm
	ok := true
	var good bool
	if f.model, good = c.str(o, loc, "model_name", modelRequired, ""); !good {
		ok = false
	}
	if f.ws, good = c.int(o, loc, "world_size", wsRequired, 1, ge(1)); !good {
		ok = false
	}
	if f.tokens, good = c.intList(o, loc, "token_ids", false); !good {
		ok = false
	}
	if f.salt, good = c.str(o, loc, "cache_salt", false, ""); !good {
		ok = false
	}
	return f, ok
}

// ---------------------------------------------------------------------------
// Cache events (spec §3.5)

var eventTypes = []string{"store", "delete", "access", "config"}

func (c *v) eventsRequest(o *pyjson.Dict) ([]*batch, bool) {
	l, ok := c.list(o, []any{"body"}, "batches", false)
	if !ok {
		return nil, false
	}
	out := make([]*batch, 0, len(l))
	good := true
	for i, raw := range l {
		loc := []any{"body", "batches", i}
		bo, ok := raw.(*pyjson.Dict)
		if !ok {
			c.add("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", raw, nil)
			good = false
			continue
		}
		n := len(c.errs)
		b := &batch{}
		var g bool
		if b.instance, g = c.str(bo, loc, "instance_id", true, ""); g && b.instance == "" {
			c.valueError(at(loc, "instance_id"), "instance_id must be non-empty", b.instance)
		}
		b.incarnation, _ = c.int(bo, loc, "incarnation", true, 0, ge(0))
		b.seq, _ = c.int(bo, loc, "seq", true, 0, ge(1))
		if val, ok := field(bo, "event_type"); ok {
			b.eventType, _ = c.enumValue(val, at(loc, "event_type"), eventTypes...)
		} else {
			c.missing(bo, at(loc, "event_type"))
		}
		if val, ok := field(bo, "tier"); ok {
			if t, g := c.enumValue(val, at(loc, "tier"), "l1", "l2", "all"); g {
				if t == "all" {
					c.valueError(at(loc, "tier"), "cache events must target a concrete tier (got 'all')", t)
				}
				b.tier = t
			}
		} else {
			c.missing(bo, at(loc, "tier"))
		}
		b.backend, _ = c.str(bo, loc, "backend", true, "")
		if el, ok := c.list(bo, loc, "entries", false); ok {
			for j, e := range el {
				if en, ok := c.entry(e, at(loc, "entries", j)); ok {
					b.entries = append(b.entries, en)
				}
			}
		}
		b.shared, _ = c.boolean(bo, loc, "shared", false)
		if val, ok := field(bo, "ts"); ok {
			b.ts, _ = c.floatValue(val, at(loc, "ts"), true)
		}
		b.capacity, _ = c.int(bo, loc, "capacity_bytes", false, 0, ge(0))
		b.revision, _ = c.int(bo, loc, "capacity_revision", false, 0, ge(0))
		if len(c.errs) > n {
			good = false
			continue
		}
		switch {
		case b.eventType != "access" && b.backend == "":
			c.valueError(loc, fmt.Sprintf("backend must be non-empty for %s batches", b.eventType), bo)
			good = false
		case b.eventType == "config" && len(b.entries) > 0:
			c.valueError(loc, "config batches declare capacity and carry no entries", bo)
			good = false
		}
		out = append(out, b)
	}
	return out, good
}

func (c *v) entry(val any, loc []any) (entry, bool) {
	o, ok := val.(*pyjson.Dict)
	if !ok {
		c.add("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", val, nil)
		return entry{}, false
	}
	n := len(c.errs)
	var e entry
	if kv, ok := field(o, "key"); ok {
		if ek, ok := c.encodedKeyValue(kv, at(loc, "key")); ok {
			k, err := ek.convert()
			if err != nil {
				c.valueError(at(loc, "key"), err.Error(), ek.wire())
			}
			e.key = k
		}
	} else {
		c.missing(o, at(loc, "key"))
	}
	e.size, _ = c.int(o, loc, "size_bytes", false, 0, ge(0))
	e.tokens, _ = c.intList(o, loc, "token_ids", false)
	var g bool
	if e.tokenOffset, g = c.int(o, loc, "token_offset", false, -1, bound{}); g && e.tokenOffset < -1 {
		c.valueError(at(loc, "token_offset"), fmt.Sprintf("token_offset must be -1 (unknown) or >= 0 (got %d)", e.tokenOffset), e.tokenOffset)
	}
	return e, len(c.errs) == n
}
