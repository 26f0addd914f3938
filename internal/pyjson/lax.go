package pyjson

import "strings"

// LaxBool is the bool coercion pydantic v1 and v2 share: a bool, the Int
// or Float 0 or 1, or a string that is, in any case, one of 0 off f false
// n no or 1 on t true y yes. ok is false for anything else. (v2 strips
// surrounding white space from a string first, v1 does not: that is the
// caller's.)
func LaxBool(v any) (value, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case Int:
		if x.Big == nil && (x.V == 0 || x.V == 1) {
			return x.V == 1, true
		}
	case Float:
		if x == 0 || x == 1 {
			return x == 1, true
		}
	case string:
		switch strings.ToLower(x) {
		case "1", "on", "t", "true", "y", "yes":
			return true, true
		case "0", "off", "f", "false", "n", "no":
			return false, true
		}
	}
	return false, false
}
