package printers

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteTableBorderlessNoTrailingSpace(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteTable(&b, []string{"A", "LONGER"}, [][]string{{"1", "x"}, {"22222", ""}}); err != nil {
		t.Fatalf("WriteTable error = %v, want nil", err)
	}
	want := "A      LONGER\n1      x\n22222\n"
	if b.String() != want {
		t.Fatalf("WriteTable wrote %q, want %q", b.String(), want)
	}
	// ANSI-styled cells align by their visible width
	b.Reset()
	if err := WriteTable(&b, []string{"S", "N"}, [][]string{{"\x1b[32mHIT\x1b[0m", "1"}, {"MISS", "2"}}); err != nil {
		t.Fatalf("WriteTable (styled cells) error = %v, want nil", err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[1], "\x1b[32mHIT\x1b[0m") || !strings.Contains(lines[1], "   ") {
		t.Fatalf("WriteTable (styled cells) wrote %q, want row 1 to start with the styled HIT, padded to MISS's width", b.String())
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]any{"k": "<a&b>"}); err != nil {
		t.Fatalf("WriteJSON error = %v, want nil", err)
	}
	if want := "{\n  \"k\": \"<a&b>\"\n}\n"; b.String() != want {
		t.Fatalf("WriteJSON wrote %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := WriteJSONLine(&b, []int{1, 2}); err != nil {
		t.Fatalf("WriteJSONLine error = %v, want nil", err)
	}
	if want := "[1,2]\n"; b.String() != want {
		t.Fatalf("WriteJSONLine wrote %q, want %q", b.String(), want)
	}
	// a value that cannot be encoded writes nothing
	b.Reset()
	if err := WriteJSON(&b, map[string]any{"f": func() {}}); err == nil || b.Len() != 0 {
		t.Fatalf("WriteJSON(a func) = error %v, wrote %q; want an error, nothing written", err, b.String())
	}
}

func TestParseAndResolve(t *testing.T) {
	t.Parallel()
	if f, err := Parse("", All); err != nil || f.Resolve(true) != Table || f.Resolve(false) != Plain {
		t.Fatalf("Parse(\"\") = %v, %v, resolving to %v on a terminal and %v off one; want %v and %v, nil", f, err, f.Resolve(true), f.Resolve(false), Table, Plain)
	}
	if f, err := Parse("yaml", All); err == nil {
		t.Fatalf("Parse(yaml) = %v, nil; want an error", f)
	}
	f, err := Parse("jsonl", All)
	if err != nil {
		t.Fatalf("Parse(jsonl) error = %v, want nil", err)
	}
	if !f.IsJSON() {
		t.Fatalf("Parse(jsonl) = %v, IsJSON false; want true", f)
	}
}
