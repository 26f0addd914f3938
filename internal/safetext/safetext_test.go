package safetext

import "testing"

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"v1.2\x1b]0;pwned\x07", `v1.2\e]0;pwned\x07`},
		{"a\rb", `a\rb`},
		{"clear\x1b[2J\x1b[H", `clear\e[2J\e[H`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"c1\u009bcsi", `c1\x9bcsi`},
		{"ünïcode ✓", "ünïcode ✓"},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEscapeKeepSGR(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"\x1b[32mHIT\x1b[0m", "\x1b[32mHIT\x1b[0m"},
		{"\x1b[1;31mERROR x\x1b[0m", "\x1b[1;31mERROR x\x1b[0m"},
		{"\x1b[31mERROR \x1b]0;pwned\x07\x1b[0m", "\x1b[31mERROR \\e]0;pwned\\x07\x1b[0m"},
		{"\x1b[2J", `\e[2J`},
		{"host\rfake", `host\rfake`},
	} {
		if got := EscapeKeepSGR(c.in); got != c.want {
			t.Errorf("EscapeKeepSGR(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEscapeText(t *testing.T) {
	t.Parallel()
	if got, want := EscapeText("\x1b[32m✓\x1b[0m a\x1b]0;x\x07\nb\tc\r"), "\x1b[32m✓\x1b[0m a\\e]0;x\\x07\nb\tc\\r"; got != want {
		t.Errorf("EscapeText = %q, want %q", got, want)
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[31mx\x1b]0;y\x07\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Escape(s)} {
			for _, r := range out {
				if r == 0x1b || r == 0x07 || r == '\r' || r == 0x9b {
					t.Fatalf("control %U survived in %q", r, out)
				}
			}
		}
		for _, out := range []string{EscapeKeepSGR(s), EscapeText(s)} {
			for i := 0; i < len(out); i++ {
				if out[i] == 0x1b && sgrLen(out[i:]) == 0 {
					t.Fatalf("non-SGR escape survived in %q", out)
				}
				if out[i] == 0x07 || out[i] == '\r' {
					t.Fatalf("control survived in %q", out)
				}
			}
		}
	})
}
