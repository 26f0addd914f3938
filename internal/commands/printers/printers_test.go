package printers

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteTableBorderlessNoTrailingSpace(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, []string{"A", "LONGER"}, [][]string{{"1", "x"}, {"22222", ""}}); err != nil {
		t.Fatal(err)
	}
	want := "A      LONGER\n1      x\n22222\n"
	if b.String() != want {
		t.Fatalf("%q", b.String())
	}
	// ANSI-styled cells align by their visible width
	b.Reset()
	WriteTable(&b, []string{"S", "N"}, [][]string{{"\x1b[32mHIT\x1b[0m", "1"}, {"MISS", "2"}})
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[1], "\x1b[32mHIT\x1b[0m") || !strings.Contains(lines[1], "   ") {
		t.Fatalf("%q", b.String())
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]any{"k": "<a&b>"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\n  \"k\": \"<a&b>\"\n}\n" {
		t.Fatalf("%q", b.String())
	}
	b.Reset()
	WriteJSONLine(&b, []int{1, 2})
	if b.String() != "[1,2]\n" {
		t.Fatalf("%q", b.String())
	}
	// a value that cannot be encoded writes nothing
	b.Reset()
	if err := WriteJSON(&b, map[string]any{"f": func() {}}); err == nil || b.Len() != 0 {
		t.Fatalf("%v %q", err, b.String())
	}
}

func TestParseAndResolve(t *testing.T) {
	if f, err := Parse("", All); err != nil || f.Resolve(true) != Table || f.Resolve(false) != Plain {
		t.Fatal(f, err)
	}
	if _, err := Parse("yaml", All); err == nil {
		t.Fatal("yaml accepted")
	}
	if f, _ := Parse("jsonl", All); !f.IsJSON() {
		t.Fatal("jsonl is JSON")
	}
}
