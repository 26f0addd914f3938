package pyjson_test

import (
	"testing"

	"lmc/internal/pyjson"
)

func TestFloatRepr(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]string{
		1795300741.6803894: "1795300741.6803894", 1: "1.0", 1e16: "1e+16", 1e15: "1000000000000000.0",
		0.0001: "0.0001", 0.00001: "1e-05", -2.5: "-2.5", 1.5e300: "1.5e+300",
	} {
		if got := pyjson.FloatRepr(f); got != want {
			t.Errorf("repr(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	t.Parallel()
	// Messages and offsets of CPython's json module.
	for body, want := range map[string]string{
		`{"tokens":[1,2`: "Expecting ',' delimiter: line 1 column 15 (char 14)",
		``:               "",
		`{`:              "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
		`{"a" 1}`:        "Expecting ':' delimiter: line 1 column 6 (char 5)",
		`[1,]`:           "Expecting value: line 1 column 4 (char 3)",
		"{\n\"a\":x}":    "Expecting value: line 2 column 5 (char 6)",
		`{"a":1} x`:      "Extra data: line 1 column 9 (char 8)",
		`"abc`:           "Unterminated string starting at: line 1 column 1 (char 0)",
		`"a\qb"`:         "Invalid \\escape: line 1 column 3 (char 2)",
		"\"a\x01\"":      "Invalid control character at: line 1 column 3 (char 2)",
		`{"é":[1,2`:      "Expecting ',' delimiter: line 1 column 10 (char 9)",
	} {
		if body == "" {
			continue
		}
		_, err := pyjson.Loads([]byte(body))
		de, ok := err.(*pyjson.DecodeError)
		if !ok || de.Error() != want {
			t.Errorf("%q: got %v, want %s", body, err, want)
		}
	}
}
